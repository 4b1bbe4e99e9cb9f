"""mrtd: issue and personalise ICAO Doc 9303 identity and travel documents."""
__version__ = "0.1.0"
