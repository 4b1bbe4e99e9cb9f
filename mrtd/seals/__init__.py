"""Visible digital seals: ICAO Doc 9303 Part 13 VDS, the ICAO Datastructure for Barcode (IDB) and VDS-NC.

Pure codecs at the bottom (`c40`, `tlv`, `dates`, `vds`, `idb`, `vdsnc`), document-type profiles as data
(`profiles/*.json`, read by `profiles`), signer certificates and r||s ECDSA (`certs`), seals for the
documents this product issues (`issue`), the verify pipeline (`verify`), and `barcode`, the only module
that draws or reads QR and DataMatrix images.
"""
