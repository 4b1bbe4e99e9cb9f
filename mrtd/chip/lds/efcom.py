"""EF.COM (tag 60): LDS version, Unicode version and the list of data group tags (Doc 9303-10 §4.6.1)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from mrtd.asn1.tlv import TlvError, only, tlv
from mrtd.chip.lds.files import dg_for_tag

TAG = 0x60
CLAUSE = "Doc 9303-10 §4.6.1"


@dataclass(frozen=True, slots=True)
class EfCom:
    lds_version: str  # "aabb", e.g. "0107" for LDS 1.7
    unicode_version: str  # "aabbcc", e.g. "040000"
    tags: tuple[int, ...]  # the tags of the data groups present, e.g. (0x61, 0x75)
    raw: bytes = field(repr=False)

    @property
    def data_groups(self) -> tuple[int, ...]:
        return tuple(n for n in (dg_for_tag(t) for t in self.tags) if n is not None)

    def encode(self) -> bytes:
        return self.raw

    @classmethod
    def create(cls, lds_version: str, unicode_version: str, tags: Iterable[int]) -> EfCom:
        tag_list = tuple(tags)
        _check_digits(lds_version, 4, "EF.COM.ldsVersion")
        _check_digits(unicode_version, 6, "EF.COM.unicodeVersion")
        for t in tag_list:
            if dg_for_tag(t) is None:
                raise TlvError(f"EF.COM.tagList: {t:X} is not a data group tag [{CLAUSE}]")
        body = (
            tlv(0x5F01, lds_version.encode("ascii"))
            + tlv(0x5F36, unicode_version.encode("ascii"))
            + tlv(0x5C, bytes(tag_list))
        )
        return cls(lds_version, unicode_version, tag_list, tlv(TAG, body))

    @classmethod
    def decode(cls, data: bytes) -> EfCom:
        top = only(data, TAG, "EF.COM", CLAUSE)
        found: dict[int, bytes] = {}
        for obj in top.children():
            if obj.tag in found:
                raise TlvError(f"EF.COM: tag {obj.tag:X} appears twice [{CLAUSE}]")
            found[obj.tag] = obj.value
        missing = [f"{t:X}" for t in (0x5F01, 0x5F36, 0x5C) if t not in found]
        if missing:
            raise TlvError(f"EF.COM: missing {', '.join(missing)} [{CLAUSE}]")
        lds = _ascii(found[0x5F01], "EF.COM.ldsVersion")
        uni = _ascii(found[0x5F36], "EF.COM.unicodeVersion")
        _check_digits(lds, 4, "EF.COM.ldsVersion")
        _check_digits(uni, 6, "EF.COM.unicodeVersion")
        return cls(lds, uni, tuple(found[0x5C]), bytes(data))


def _ascii(value: bytes, what: str) -> str:
    try:
        return value.decode("ascii")
    except UnicodeDecodeError:
        raise TlvError(f"{what}: not ASCII digits [{CLAUSE}]") from None


def _check_digits(text: str, n: int, what: str) -> None:
    if len(text) != n or not text.isascii() or not text.isdigit():
        raise TlvError(f"{what}: {text!r} is not {n} digits [{CLAUSE}]")


