"""The one tag-length-value codec of mrtd: ASN.1 DER and BER (X.690), ISO/IEC 7816-4 BER-TLV as the LDS
uses it, and the one-byte-tag framing of seal message zones. Every element keeps its exact bytes and
where it was found, and what a lenient reading tolerated is reported as a finding.

Written by hand because no ASN.1 library hands back the exact byte span (and offset) of each element
inside a larger structure: the SOD hashes and every signature cover the bytes as read, never a
re-encoding, and errors on foreign bytes must say where they are.

`Rules` say what a reading accepts: `DER` (strict), `BER` (indefinite and non-minimal lengths, constructed
strings), `LDS` (BER-TLV: multi-byte application tags, definite lengths) and `SEAL` / `SEAL_STRICT`
(one-byte tags, at most two length octets; the bare 0x80 some seal writers emit, read as 0).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar

from typing_extensions import dataclass_transform

from mrtd.errors import EncodingError, Finding, Severity


class TlvError(EncodingError):
    """Bytes that are not well-formed TLV under the rules they are read with."""


@dataclass(frozen=True, slots=True)
class Rules:
    name: str
    clause: str
    multi_byte_tags: bool = True  # X.690 §8.1.2.4 high tag numbers (LDS 5F1F, 7F61)
    max_length_octets: int = 4
    indefinite: bool = False  # BER indefinite form, ended by 00 00 (X.690 §8.1.3.6)
    non_minimal: bool = False  # long form for a short length, or leading zero length octets
    constructed_strings: bool = False  # BER constructed OCTET/BIT/character strings (X.690 §8.7.3)
    bare_0x80: bool = False  # seal writers' 0x80 read as length 0 (vdstools does)


DER = Rules("DER", "X.690 §10.1")
BER = Rules("BER", "X.690 §8.1", indefinite=True, non_minimal=True, constructed_strings=True)
LDS = Rules("BER-TLV", "ISO/IEC 7816-4 §5.2, Doc 9303-10 §4.3", non_minimal=True)
SEAL = Rules("seal TLV", "Doc 9303-13 §2.3 (message zone, DER length)", multi_byte_tags=False,
             max_length_octets=2, non_minimal=True, bare_0x80=True)
SEAL_STRICT = Rules("seal TLV", SEAL.clause, multi_byte_tags=False, max_length_octets=2)

MAX_TAG_BYTES = 3
MAX_DEPTH = 64  # nesting deeper than any real structure: refuse rather than recurse without end
EOC = b"\x00\x00"


_T = TypeVar("_T")


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def _parsed(cls: type[_T]) -> type[_T]:
    """A dataclass the type checker holds frozen (it refuses any assignment to a field), not frozen at run
    time: there a frozen one takes four times as long to make (0.95 against 0.22 us), and every parser
    makes one per data object."""
    return dataclass(slots=True, unsafe_hash=True)(cls)


@_parsed
class Tlv:
    """One data object: tag (its bytes as a big-endian int, e.g. 0x5F1F), value octets and exact bytes.

    `offset` is where the element starts in the input it was read from and `value_offset` where its
    value starts; both count from the start of the outermost input, so nested errors say where they are.
    For an indefinite-length element `value` holds the contents without the closing 00 00.
    Never changed once made: the type checker refuses any assignment, though at run time the class is not
    frozen (`_parsed` says why).
    """

    tag: int
    value: bytes
    raw: bytes = b""  # left out: the DER encoding of tag and value (a new object to write)
    offset: int = field(default=0, compare=False)
    value_offset: int = field(default=0, compare=False)
    indefinite: bool = field(default=False, compare=False)
    rules: Rules = field(default=DER, repr=False, compare=False)
    depth: int = field(default=0, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.raw:
            raw = tlv(self.tag, self.value, self.rules)
            object.__setattr__(self, "raw", raw)  # frozen to the type checker
            object.__setattr__(self, "value_offset", len(raw) - len(self.value))

    @property
    def constructed(self) -> bool:
        return bool(self.raw[0] & 0x20)

    def children(self, findings: list[Finding] | None = None, what: str = "data object") -> tuple[Tlv, ...]:
        """The data objects inside a constructed object, read with the same rules."""
        return parse_all(self.value, what=what, rules=self.rules, findings=findings, base=self.value_offset,
                         depth=self.depth + 1)

    def encode(self) -> bytes:
        return self.raw

    @classmethod
    def decode(cls, data: bytes, *, what: str = "data object", rules: Rules = LDS,
               findings: list[Finding] | None = None, base: int = 0) -> Tlv:
        """Exactly one data object filling `data` (trailing bytes are an error)."""
        obj, end = read_tlv(data, 0, what=what, rules=rules, findings=findings, base=base)
        if end != len(data):
            raise TlvError(f"{what}: {len(data) - end} trailing byte(s) after the data object at offset "
                           f"{base + end} [{rules.clause}]")
        return obj

    @classmethod
    def build(cls, tag: int, value: bytes, rules: Rules = DER) -> Tlv:
        return cls(tag, value, rules=rules)


def encode_tag(tag: int, rules: Rules = DER) -> bytes:
    limit = 0xFFFFFF if rules.multi_byte_tags else 0xFF
    if tag < 0 or tag > limit:
        raise TlvError(f"tag 0x{tag:X} is out of range for {rules.name} [{rules.clause}]")
    return tag.to_bytes(max(1, (tag.bit_length() + 7) // 8), "big")


def encode_length(n: int, rules: Rules = DER) -> bytes:
    """Definite length, shortest form: 0..127 in one byte, else 81/82/83/84 and the length."""
    if n < 0:
        raise TlvError(f"length {n} is negative")
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    if len(body) > rules.max_length_octets:
        raise TlvError(f"length {n} does not fit in {rules.max_length_octets} length octets [{rules.clause}]")
    return bytes([0x80 | len(body)]) + body


def tlv(tag: int, value: bytes, rules: Rules = DER) -> bytes:
    if 0 <= tag <= 0xFF and len(value) < 0x80:  # one tag byte, one length byte: under every rule set
        return bytes((tag, len(value))) + value
    return encode_tag(tag, rules) + encode_length(len(value), rules) + value


def _tolerate(findings: list[Finding] | None, what: str, rule: str, message: str, rules: Rules) -> None:
    if findings is not None and not any(f.rule == rule and f.field == what for f in findings):
        findings.append(Finding(what, rule, message, rules.clause, Severity.WARNING))


def read_tag(data: bytes, offset: int, *, what: str = "data object", rules: Rules = LDS, base: int = 0) -> tuple[int, int]:
    """The tag at `offset` (1 to 3 bytes, or always 1 under one-byte rules) and the offset after it."""
    n = len(data)
    if offset >= n:
        raise TlvError(f"{what}: truncated, no tag at offset {base + offset}")
    first = data[offset]
    pos = offset + 1
    tag = first
    if first & 0x1F == 0x1F and rules.multi_byte_tags:
        while True:
            if pos >= n:
                raise TlvError(f"{what}: truncated tag at offset {base + offset}")
            b = data[pos]
            pos += 1
            tag = (tag << 8) | b
            if not b & 0x80:
                break
            if pos - offset >= MAX_TAG_BYTES:
                raise TlvError(f"{what}: tag longer than {MAX_TAG_BYTES} bytes at offset {base + offset}")
    return tag, pos


def read_length(data: bytes, pos: int, *, what: str = "data object", rules: Rules = LDS,
                findings: list[Finding] | None = None, base: int = 0) -> tuple[int | None, int]:
    """The length at `pos` and the offset after its octets; None for the indefinite form."""
    if pos >= len(data):
        raise TlvError(f"{what}: truncated, no length at offset {base + pos} [{rules.clause}]")
    first = data[pos]
    if first < 0x80:
        return first, pos + 1
    if first == 0x80:
        if rules.indefinite:
            _tolerate(findings, what, "ber-indefinite-length", f"indefinite length at offset {base + pos} "
                      "(BER, not DER)", rules)
            return None, pos + 1
        if rules.bare_0x80:
            _tolerate(findings, what, "length-0x80", f"length byte 0x80 at offset {base + pos} read as 0 (not DER)",
                      rules)
            return 0, pos + 1
        raise TlvError(f"{what}: length byte 0x80 (indefinite form) at offset {base + pos} is not allowed "
                       f"in {rules.name} [{rules.clause}]")
    count = first & 0x7F
    if count > rules.max_length_octets:
        raise TlvError(f"{what}: {count} length octets at offset {base + pos}; at most {rules.max_length_octets} "
                       f"[{rules.clause}]")
    if pos + 1 + count > len(data):
        raise TlvError(f"{what}: length at offset {base + pos} is cut off [{rules.clause}]")
    length = int.from_bytes(data[pos + 1 : pos + 1 + count], "big")
    if len(encode_length(length, rules)) != 1 + count:
        if not rules.non_minimal:
            raise TlvError(f"{what}: non-minimal length encoding at offset {base + pos} [{rules.clause}]")
        _tolerate(findings, what, "length-not-minimal", f"non-minimal length encoding at offset {base + pos}", rules)
    return length, pos + 1 + count


def definite_length(data: bytes, pos: int, *, what: str, rules: Rules, findings: list[Finding] | None = None,
                    base: int = 0) -> tuple[int, int]:
    """`read_length` where the indefinite form is not allowed."""
    length, end = read_length(data, pos, what=what, rules=rules, findings=findings, base=base)
    if length is None:
        raise TlvError(f"{what}: indefinite length at offset {base + pos} is not allowed here [{rules.clause}]")
    return length, end


def seal_rules(strict: bool) -> Rules:
    return SEAL_STRICT if strict else SEAL


def read_tlv(data: bytes, offset: int = 0, *, what: str = "data object", rules: Rules = LDS,
             findings: list[Finding] | None = None, base: int = 0, depth: int = 0) -> tuple[Tlv, int]:
    """The data object at `offset` and the offset just after it. `base` is the absolute offset of `data[0]`."""
    if depth > MAX_DEPTH:
        raise TlvError(f"{what}: nested more than {MAX_DEPTH} levels deep at offset {base + offset}")
    # most objects have a one-byte tag and a length in minimal form of one to three octets: read inline, as
    # this is every parser's inner loop (anything else, and every error, takes the general path below)
    n = len(data)
    if offset + 1 < n:
        first, head = data[offset], data[offset + 1]
        if first & 0x1F != 0x1F or not rules.multi_byte_tags:
            if head < 0x80:
                start, size = offset + 2, head
            elif head == 0x81 and offset + 2 < n and data[offset + 2] >= 0x80:
                start, size = offset + 3, data[offset + 2]
            elif head == 0x82 and offset + 3 < n and data[offset + 2] and rules.max_length_octets >= 2:
                start, size = offset + 4, (data[offset + 2] << 8) | data[offset + 3]
            else:
                start, size = 0, n
            end = start + size
            if start and end <= n:
                return Tlv(first, bytes(data[start:end]), bytes(data[offset:end]), base + offset, base + start, False,
                           rules, depth), end
    tag, pos = read_tag(data, offset, what=what, rules=rules, base=base)
    length, pos = read_length(data, pos, what=f"{what}" if rules.multi_byte_tags else f"{what}.tag{tag:#04x}",
                              rules=rules, findings=findings, base=base)
    if length is None:
        if not data[offset] & 0x20:
            raise TlvError(f"{what}: primitive tag {tag:X} at offset {base + offset} with indefinite length "
                           f"[X.690 §8.1.3.2]")
        end = pos
        while True:
            if data[end : end + 2] == EOC:
                break
            if end >= len(data):
                raise TlvError(f"{what}: indefinite-length tag {tag:X} at offset {base + offset} has no end-of-contents "
                               f"[X.690 §8.1.5]")
            _, end = read_tlv(data, end, what=what, rules=rules, findings=findings, base=base, depth=depth + 1)
        return Tlv(tag, bytes(data[pos:end]), bytes(data[offset : end + 2]), base + offset, base + pos, True,
                   rules, depth), end + 2
    end = pos + length
    if end > len(data):
        raise TlvError(f"{what}: tag {tag:X} at offset {base + offset} declares {length} bytes but only "
                       f"{len(data) - pos} remain [{rules.clause}]")
    return Tlv(tag, bytes(data[pos:end]), bytes(data[offset:end]), base + offset, base + pos, False, rules,
               depth), end


def parse_all(data: bytes, *, what: str = "data object", rules: Rules = LDS, findings: list[Finding] | None = None,
              base: int = 0, depth: int = 0) -> tuple[Tlv, ...]:
    """Every data object in `data`, back to back."""
    out: list[Tlv] = []
    pos = 0
    while pos < len(data):
        obj, pos = read_tlv(data, pos, what=what, rules=rules, findings=findings, base=base, depth=depth)
        out.append(obj)
    return tuple(out)


def expect(obj: Tlv, tag: int, what: str, clause: str = "Doc 9303-10 §4.7") -> Tlv:
    if obj.tag != tag:
        raise TlvError(f"{what}: expected tag {tag:X}, found {obj.tag:X} at offset {obj.offset} [{clause}]")
    return obj


def only(data: bytes, tag: int, what: str, clause: str = "Doc 9303-10 §4.7", rules: Rules = LDS,
         findings: list[Finding] | None = None) -> Tlv:
    """`data` must be exactly one data object with tag `tag`."""
    return expect(Tlv.decode(data, what=what, rules=rules, findings=findings), tag, what, clause)


# BER -> DER: a re-encoding, only ever to hand a library a DER copy; hashes and signatures keep the original.

_STRING_TAGS = frozenset({0x03, 0x04, 0x0C, 0x12, 0x13, 0x14, 0x16, 0x1A, 0x1E})


def to_der(obj: Tlv) -> bytes:
    """The DER re-encoding of a BER element: definite minimal lengths, constructed strings joined."""
    number = obj.raw[0] & 0x1F
    universal = obj.raw[0] & 0xC0 == 0
    if obj.constructed and universal and number in _STRING_TAGS:
        return tlv(number, string_value(obj, "string"))
    tag_bytes = encode_tag(obj.tag)
    if not obj.constructed:
        return tag_bytes + encode_length(len(obj.value)) + obj.value
    inner = b"".join(to_der(c) for c in obj.children())
    return tag_bytes + encode_length(len(inner)) + inner


def string_value(obj: Tlv, what: str) -> bytes:
    """The octets of a string, joining the segments of a BER constructed string (X.690 §8.7.3)."""
    if not obj.constructed:
        return obj.value
    if not obj.rules.constructed_strings:
        raise TlvError(f"{what}: constructed string at offset {obj.offset} is not {obj.rules.name} [{obj.rules.clause}]")
    number = obj.raw[0] & 0x1F
    parts = []
    for seg in obj.children(what=what):
        if seg.raw[0] & 0x1F != number:
            raise TlvError(f"{what}: segment at offset {seg.offset} has another tag [X.690 §8.7.3.2]")
        parts.append(string_value(seg, what))
    if number != 0x03:
        return b"".join(parts)
    # BIT STRING: each segment starts with its unused-bits octet; only the last one may be non-zero
    if not parts or any(not p or (p[0] and i < len(parts) - 1) for i, p in enumerate(parts)):
        raise TlvError(f"{what}: malformed constructed BIT STRING at offset {obj.offset} [X.690 §8.6.4]")
    return parts[-1][:1] + b"".join(p[1:] for p in parts)
