"""The virtual eMRTD card: `VirtualCard` (card.py), in-process `SimTransport`, and a vpcd client."""
