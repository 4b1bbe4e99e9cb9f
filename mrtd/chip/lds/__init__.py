"""The LDS1 elementary files (Doc 9303-10), one module each, pure bytes <-> objects.

Every decoded object keeps the exact bytes it was read from (`raw`, returned by `encode()`); objects
made with `create(...)` hold their DER/BER encoding the same way. The framing (`mrtd.asn1.tlv`, `der`), the
SignedData under `sod` (EF.SOD) and `cardsecurity` (`mrtd.asn1.cms`) and the SubjectPublicKeyInfo codec
(`mrtd.asn1.keys`) are the floor below; `files` is the table of file identifiers and tags.
"""
