"""DG3 (tag 63): encoded finger images, ISO/IEC 19794-4 records in the biometric group template
(Doc 9303-10 §4.7.3); one instance per finger, its BHT naming the finger (Table 49)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from mrtd.asn1.tlv import TlvError, only
from mrtd.chip.lds.cbeff import BIOMETRIC_TYPE_FINGER, FORMAT_TYPE_FINGER_IMAGE, header
from mrtd.chip.lds.dg2 import BiometricInstance, build_template_group, decode_template_group
from mrtd.chip.lds.finger import FingerRecord

TAG = 0x63
CLAUSE = "Doc 9303-10 §4.7.3"


@dataclass(frozen=True, slots=True)
class Dg3:
    instances: tuple[BiometricInstance, ...]
    raw: bytes = field(repr=False)

    def encode(self) -> bytes:
        return self.raw

    def records(self) -> list[FingerRecord]:
        return [FingerRecord.decode(i.bdb) for i in self.instances]

    @classmethod
    def create(cls, records: Sequence[FingerRecord]) -> Dg3:
        """One instance per record; a record holds the views of one finger."""
        pairs = []
        for r in records:
            positions = {i.position for i in r.images}
            if len(positions) != 1:
                raise TlvError(f"DG3: one finger per biometric instance, got {sorted(positions)} [{CLAUSE}]")
            subtype = next(iter(positions)).cbeff_subtype
            pairs.append((header(BIOMETRIC_TYPE_FINGER, subtype, FORMAT_TYPE_FINGER_IMAGE), r.raw))
        instances, raw = build_template_group(TAG, "DG3", pairs)
        return cls(instances, raw)

    @classmethod
    def decode(cls, data: bytes) -> Dg3:
        top = only(data, TAG, "DG3", CLAUSE)
        return cls(decode_template_group(top.value, "DG3"), bytes(data))
