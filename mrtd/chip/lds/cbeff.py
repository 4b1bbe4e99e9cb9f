"""The biometric header templates this issuer writes for fingers (DG3) and irises (DG4) (Doc 9303-10
Tables 49-52); the group template itself is built and read in `dg2` (build_/decode_template_group)."""

from __future__ import annotations

from mrtd.asn1.tlv import Tlv
from mrtd.chip.lds.dg2 import FORMAT_OWNER_JTC1_SC37

CLAUSE = "Doc 9303-10 §4.7.2"
BIOMETRIC_TYPE_FINGER = 0x08
BIOMETRIC_TYPE_IRIS = 0x10
FORMAT_TYPE_FINGER_IMAGE = b"\x00\x07"  # ISO/IEC 19794-4
FORMAT_TYPE_IRIS_IMAGE = b"\x00\x09"  # ISO/IEC 19794-6


def header(biometric_type: int, subtype: int, format_type: bytes) -> tuple[Tlv, ...]:
    """BHT: version 0101, type, subtype, format owner JTC 1/SC 37, format type [Doc 9303-10 Table 51]."""
    return (Tlv.build(0x80, b"\x01\x01"), Tlv.build(0x81, bytes((biometric_type,))),
            Tlv.build(0x82, bytes((subtype,))), Tlv.build(0x87, FORMAT_OWNER_JTC1_SC37), Tlv.build(0x88, format_type))
