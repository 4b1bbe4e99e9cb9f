"""The floor for foreign bytes: the one door through which bytes from outside enter mrtd.

`tlv` (DER, BER, the LDS's BER-TLV and the seals' framing, exact bytes and offsets kept, tolerances
reported), `der` (OIDs, integers, strings, times, AlgorithmIdentifier), `algorithms` (hash and signature
identifiers as data), `keys` (SubjectPublicKeyInfo on every curve issuers use), `signatures` (RSA,
RSA-PSS, ECDSA checks, fastecdsa for the curves cryptography lacks), `x509` (certificates and CRLs of
other issuers, defects read and reported), `cms` (SignedData of EF.SOD, EF.CardSecurity, master and
deviation lists) and `foreign` (library exceptions on outside bytes become `EncodingError`).
"""
