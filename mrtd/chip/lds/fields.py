"""Tag-list data groups (DG11, DG12, DG16): the 5C tag list, text, partial dates and images by tag.

One table per data group says which tag holds which field and how its value is written; the codec
below reads and writes any of them in the table's order (the order of Doc 9303-10's tables).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from dataclasses import fields as dc_fields
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, Self, TypeVar

from mrtd.asn1.tlv import Tlv, TlvError, encode_tag, only, tlv
from mrtd.errors import InputError
from mrtd.model import PartialDate

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

Kind = Literal["text", "date", "datetime", "bytes", "list"]
FieldsT = TypeVar("FieldsT", bound="DataclassInstance")


@dataclass(frozen=True, slots=True)
class FieldSpec:
    tag: int
    name: str
    kind: Kind
    item_tag: int = 0  # for "list": the tag of each entry inside the A0 template


def partial_date_bytes(d: PartialDate) -> bytes:
    """`yyyymmdd` with 00 (0000 for the year) for the unknown parts (Doc 9303-10 §4.7.11)."""
    return f"{d.year or 0:04d}{d.month or 0:02d}{d.day or 0:02d}".encode("ascii")


def read_partial_date(value: bytes, what: str, clause: str) -> PartialDate:
    """`yyyymmdd` as ASCII, or (some issuers) as 4 BCD bytes; 00 means unknown."""
    if len(value) == 4:
        text = value.hex()
    else:
        try:
            text = value.decode("ascii")
        except UnicodeDecodeError:
            text = ""
    if len(text) != 8 or not text.isdigit():
        raise TlvError(f"{what}: {value.hex().upper()} is not a date yyyymmdd [{clause}]")
    y, m, d = int(text[:4]), int(text[4:6]), int(text[6:])
    try:
        return PartialDate(y or None, m or None, d or None)
    except InputError as exc:
        raise TlvError(f"{what}: {exc} [{clause}]") from None


def datetime_bytes(when: dt.datetime) -> bytes:
    return when.astimezone(dt.UTC).strftime("%Y%m%d%H%M%S").encode("ascii")


def read_datetime(value: bytes, what: str, clause: str) -> dt.datetime:
    """`yyyymmddhhmmss` as ASCII, or as 7 BCD bytes."""
    text = value.hex() if len(value) == 7 else value.decode("ascii", "replace")
    try:
        return dt.datetime.strptime(text, "%Y%m%d%H%M%S").replace(tzinfo=dt.UTC)
    except ValueError:
        raise TlvError(f"{what}: {value.hex().upper()} is not yyyymmddhhmmss [{clause}]") from None


def _text(value: bytes, what: str, clause: str) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        raise TlvError(f"{what}: not UTF-8 text [{clause}]") from None


def encode_fields(specs: tuple[FieldSpec, ...], values: Mapping[str, Any], tag: int, what: str, clause: str) -> bytes:
    """The whole data group: tag, 5C tag list, then each present field in table order."""
    tags = b""
    body = b""
    for spec in specs:
        v = values.get(spec.name)
        if v is None or v == () or v == "":
            continue
        if spec.kind == "text":
            value = str(v).encode("utf-8")
        elif spec.kind == "date":
            value = partial_date_bytes(v)
        elif spec.kind == "datetime":
            value = datetime_bytes(v)
        elif spec.kind == "bytes":
            value = bytes(v)
        else:
            items = tuple(v)
            if len(items) > 255:
                raise TlvError(f"{what}.{spec.name}: at most 255 entries [{clause}]")
            value = tlv(0x02, bytes((len(items),))) + b"".join(
                tlv(spec.item_tag, str(i).encode("utf-8")) for i in items
            )
        tags += encode_tag(spec.tag)
        body += tlv(spec.tag, value)
    if not tags:
        raise TlvError(f"{what}: no field is present [{clause}]")
    return tlv(tag, tlv(0x5C, tags) + body)


def decode_fields(
    specs: tuple[FieldSpec, ...], top: Tlv, what: str, clause: str
) -> tuple[dict[str, Any], tuple[int, ...], tuple[Tlv, ...]]:
    """Field values by name, the tag list as written, and any objects the table does not know."""
    parts = top.children()
    if not parts or parts[0].tag != 0x5C:
        raise TlvError(f"{what}: must start with the tag list 5C [{clause}]")
    listed = _tag_list(parts[0].value, what, clause)
    by_tag = {s.tag: s for s in specs}
    values: dict[str, Any] = {}
    extra: list[Tlv] = []
    for obj in parts[1:]:
        spec = by_tag.get(obj.tag)
        if spec is None:
            extra.append(obj)
            continue
        if spec.name in values:
            raise TlvError(f"{what}: tag {obj.tag:X} appears twice [{clause}]")
        field_what = f"{what}.{obj.tag:X}"
        if spec.kind == "text":
            values[spec.name] = _text(obj.value, field_what, clause)
        elif spec.kind == "date":
            values[spec.name] = read_partial_date(obj.value, field_what, clause)
        elif spec.kind == "datetime":
            values[spec.name] = read_datetime(obj.value, field_what, clause)
        elif spec.kind == "bytes":
            values[spec.name] = obj.value
        else:
            inner = obj.children()
            if not inner or inner[0].tag != 0x02 or len(inner[0].value) != 1:
                raise TlvError(f"{field_what}: must start with the count 02 01 n [{clause}]")
            entries = inner[1:]
            if len(entries) != inner[0].value[0]:
                raise TlvError(f"{field_what}: announces {inner[0].value[0]} entries but holds {len(entries)} [{clause}]")
            bad = [e for e in entries if e.tag != spec.item_tag]
            if bad:
                raise TlvError(f"{field_what}: expected {spec.item_tag:X} entries, found {bad[0].tag:X} [{clause}]")
            values[spec.name] = tuple(_text(e.value, field_what, clause) for e in entries)
    present = {p.tag for p in parts[1:]}
    if set(listed) != present:
        raise TlvError(
            f"{what}.5C: the tag list ({' '.join(f'{t:X}' for t in listed)}) does not match the objects present "
            f"({' '.join(f'{p.tag:X}' for p in parts[1:])}) [{clause}]"
        )
    return values, listed, tuple(extra)


def _tag_list(value: bytes, what: str, clause: str) -> tuple[int, ...]:
    out: list[int] = []
    pos = 0
    while pos < len(value):
        first = value[pos]
        if first & 0x1F == 0x1F:
            if pos + 1 >= len(value):
                raise TlvError(f"{what}.5C: truncated tag in the tag list [{clause}]")
            out.append((first << 8) | value[pos + 1])
            pos += 2
        else:
            out.append(first)
            pos += 1
    return tuple(out)




@dataclass(frozen=True, slots=True)
class TagListGroup(Generic[FieldsT]):
    """A tag-list data group (DG11, DG12): its values, the 5C tag list as read, the data objects it does not
    know, and its exact bytes. A subclass names its tag, clause, table and values class."""

    TAG: ClassVar[int]
    NAME: ClassVar[str]
    CLAUSE: ClassVar[str]
    SPECS: ClassVar[tuple[FieldSpec, ...]]
    FIELDS: ClassVar[Callable[..., Any]]

    fields: FieldsT
    tag_list: tuple[int, ...]
    unknown: tuple[Tlv, ...] = ()
    raw: bytes = field(default=b"", repr=False)

    def encode(self) -> bytes:
        return self.raw

    @classmethod
    def create(cls, fields: FieldsT) -> Self:
        values = {f.name: getattr(fields, f.name) for f in dc_fields(fields)}
        return cls.decode(encode_fields(cls.SPECS, values, cls.TAG, cls.NAME, cls.CLAUSE))

    @classmethod
    def decode(cls, data: bytes) -> Self:
        top = only(data, cls.TAG, cls.NAME, cls.CLAUSE)
        values, listed, extra = decode_fields(cls.SPECS, top, cls.NAME, cls.CLAUSE)
        return cls(cls.FIELDS(**values), listed, extra, bytes(data))
