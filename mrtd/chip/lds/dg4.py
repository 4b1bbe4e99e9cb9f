"""DG4 (tag 76): encoded iris images, ISO/IEC 19794-6 records in the biometric group template
(Doc 9303-10 §4.7.4); one instance per eye (BHT subtype 1 right, 2 left)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from mrtd.asn1.tlv import only
from mrtd.chip.lds.cbeff import BIOMETRIC_TYPE_IRIS, FORMAT_TYPE_IRIS_IMAGE, header
from mrtd.chip.lds.dg2 import BiometricInstance, build_template_group, decode_template_group
from mrtd.chip.lds.iris import IrisRecord

TAG = 0x76
CLAUSE = "Doc 9303-10 §4.7.4"


@dataclass(frozen=True, slots=True)
class Dg4:
    instances: tuple[BiometricInstance, ...]
    raw: bytes = field(repr=False)

    def encode(self) -> bytes:
        return self.raw

    def records(self) -> list[IrisRecord]:
        return [IrisRecord.decode(i.bdb) for i in self.instances]

    @classmethod
    def create(cls, records: Sequence[IrisRecord]) -> Dg4:
        pairs = [(header(BIOMETRIC_TYPE_IRIS, r.eye, FORMAT_TYPE_IRIS_IMAGE), r.raw) for r in records]
        instances, raw = build_template_group(TAG, "DG4", pairs)
        return cls(instances, raw)

    @classmethod
    def decode(cls, data: bytes) -> Dg4:
        top = only(data, TAG, "DG4", CLAUSE)
        return cls(decode_template_group(top.value, "DG4"), bytes(data))
