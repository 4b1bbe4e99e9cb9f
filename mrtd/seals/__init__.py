"""Visible digital seals: ICAO Doc 9303 Part 13 VDS, the ICAO Datastructure for Barcode (IDB) and VDS-NC.

Pure codecs at the bottom (`c40`, `dates`, `vds`, `idb`, `vdsnc`; the TLV framing is `mrtd.asn1.tlv`'s seal
rules), document-type profiles as data (`profiles/*.json`, read by `profiles`), how a seal names its signer
certificate (`signers`; certificates and r||s ECDSA are read and checked by `mrtd.asn1`), seals for the
documents this product issues (`issue`), the verify pipeline (`verify`), and `barcode`, the only module
that draws or reads QR and DataMatrix images.
"""
