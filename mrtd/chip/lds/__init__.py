"""The LDS1 elementary files (Doc 9303-10), one module each, pure bytes <-> objects.

Every decoded object keeps the exact bytes it was read from (`raw`, returned by `encode()`); objects
made with `create(...)` hold their DER/BER encoding the same way. `tlv` and `der` are the shared framing;
`cms` the SignedData under `sod` (EF.SOD) and `cardsecurity`; `keys` the SubjectPublicKeyInfo codec
(named or explicit EC parameters); `files` the table of file identifiers and tags.
"""
