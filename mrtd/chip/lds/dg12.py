"""DG12 (tag 6C): additional document details (Doc 9303-10 §4.7.12), every tag of Table 43."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from mrtd.chip.lds.fields import FieldSpec, TagListGroup
from mrtd.model import PartialDate

TAG = 0x6C
CLAUSE = "Doc 9303-10 §4.7.12"
SPECS = (
    FieldSpec(0x5F19, "issuing_authority", "text"),
    FieldSpec(0x5F26, "date_of_issue", "date"),
    FieldSpec(0xA0, "other_persons", "list", 0x5F1A),
    FieldSpec(0x5F1B, "endorsements", "text"),
    FieldSpec(0x5F1C, "tax_exit_requirements", "text"),
    FieldSpec(0x5F1D, "front_image", "bytes"),
    FieldSpec(0x5F1E, "rear_image", "bytes"),
    FieldSpec(0x5F55, "personalisation_time", "datetime"),
    FieldSpec(0x5F56, "personalisation_system_serial", "text"),
)


@dataclass(frozen=True, slots=True)
class Dg12Fields:
    issuing_authority: str | None = None
    date_of_issue: PartialDate | None = None
    other_persons: tuple[str, ...] = ()
    endorsements: str | None = None
    tax_exit_requirements: str | None = None
    front_image: bytes | None = None
    rear_image: bytes | None = None
    personalisation_time: dt.datetime | None = None  # UTC, whole seconds
    personalisation_system_serial: str | None = None


@dataclass(frozen=True, slots=True)
class Dg12(TagListGroup[Dg12Fields]):
    TAG = TAG
    NAME = "DG12"
    CLAUSE = CLAUSE
    SPECS = SPECS
    FIELDS = Dg12Fields
