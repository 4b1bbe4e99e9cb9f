"""Personalisation commands (the JMRTD passport applet's set, plus the mrtd-sim additions), both ways:
builders for the personaliser and parsers for the simulator.

Data layouts (../shared/reference/pcsc-and-cards.md):
  CREATE FILE   00 E0 00 00 06  63 04 SSSS FFFF
  UPDATE BINARY 00 D6 P1P2(offset) data
  MRZ seed      00 DA 00 62     62 L 04 Ln DOCNO 04 06 YYMMDD 04 06 YYMMDD
  AA RSA        00 DA 00 60 / 61   60|61 00 04 L n|d   (outer length byte 00)
  CA key        00 DA 00 63     63 00 81 p 82 a 83 b 84 G 85 order 86 private 87 cofactor [88 key id]
  CAN           00 DA 00 65     65 L CAN                      (mrtd-sim)
  AA private    00 DA 00 66     66 L PKCS#8 DER               (mrtd-sim, ECDSA or RSA)
  CVCA          00 DA 0i 67     7F21 CV certificate            (mrtd-sim; i = 0 most recent, 1 previous)
  current date  00 DA 00 68     68 06 YYMMDD (unpacked BCD)    (mrtd-sim, TR-03110 "current date")
  key pair       00 46 80 0k    84 01 id (EC, a standardised domain) | 81 02 bits (RSA)   (mrtd-sim; k = 1 AA, 2 CA)
                 -> 7F49 { 86 04||x||y } | 7F49 { 81 n, 82 e }     [ISO/IEC 7816-8 §5.1 GENERATE ASYMMETRIC KEY PAIR]
  UPDATE BINARY beyond 32767: odd INS 00 D7 00 00  54 L offset, 53 L data  [ISO/IEC 7816-4 §11.3.5]
  lock          00 DA DE AD
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from mrtd.asn1.tlv import TlvError, parse_all, read_tlv, tlv
from mrtd.chip.protocol.apdu import Command
from mrtd.chip.protocol.curves import Domain, domain
from mrtd.errors import EncodingError

MF = b"\x3f\x00"


def select_applet(aid: bytes) -> Command:
    return Command(0x00, 0xA4, 0x04, 0x0C, aid)


def select_mf() -> Command:
    return Command(0x00, 0xA4, 0x00, 0x0C, MF)


def select_file(fid: int) -> Command:
    return Command(0x00, 0xA4, 0x02, 0x0C, fid.to_bytes(2, "big"))


def create_file(fid: int, size: int) -> Command:
    if not 0 < size <= 0xFFFF:
        raise EncodingError(f"CREATE FILE {fid:04X}: size {size} out of range")
    return Command(0x00, 0xE0, 0x00, 0x00, b"\x63\x04" + size.to_bytes(2, "big") + fid.to_bytes(2, "big"))


def offset_do(offset: int) -> bytes:
    """Data object 54: the offset as an unsigned big-endian integer of minimal length [ISO/IEC 7816-4 §11.2]."""
    return tlv(0x54, offset.to_bytes(max(1, (offset.bit_length() + 7) // 8), "big"))


def update_binary(offset: int, data: bytes) -> Command:
    """UPDATE BINARY: even INS D6 with the offset in P1P2 up to 32767, odd INS D7 with DO'54 beyond."""
    if offset < 0:
        raise EncodingError(f"UPDATE BINARY: offset {offset} is negative")
    if offset <= 0x7FFF:
        return Command(0x00, 0xD6, offset >> 8, offset & 0xFF, data)
    return Command(0x00, 0xD7, 0x00, 0x00, offset_do(offset) + tlv(0x53, data))


def read_binary(offset: int, length: int) -> Command:
    """READ BINARY: even INS B0 up to offset 32767, odd INS B1 with DO'54 beyond (answer in DO'53)."""
    if offset < 0:
        raise EncodingError(f"READ BINARY: offset {offset} is negative")
    if offset <= 0x7FFF:
        return Command(0x00, 0xB0, offset >> 8, offset & 0xFF, b"", length, length > 256)
    # the answer is wrapped in 53 L: ask for room for the header too
    return Command(0x00, 0xB1, 0x00, 0x00, offset_do(offset), length + 4, length + 4 > 256)


def parse_odd_data(data: bytes, what: str) -> tuple[int | None, bytes]:
    """(offset from DO'54, data from DO'53) of an odd-INS command or answer; either may be absent."""
    try:
        objs = {o.tag: o.value for o in parse_all(data)}
    except TlvError as exc:
        raise EncodingError(f"{what}: odd-INS data is not data objects 54/53 ({exc}) [ISO/IEC 7816-4 §11.2]") from exc
    offset = int.from_bytes(objs[0x54], "big") if 0x54 in objs else None
    return offset, objs.get(0x53, b"")


def put_mrz_seed(document_number: str, date_of_birth: str, date_of_expiry: str) -> Command:
    doc = document_number.ljust(9, "<").encode("ascii")
    body = tlv(0x04, doc) + tlv(0x04, date_of_birth.encode("ascii")) + tlv(0x04, date_of_expiry.encode("ascii"))
    return Command(0x00, 0xDA, 0x00, 0x62, tlv(0x62, body))


def _zero_length(tag: int, body: bytes) -> bytes:
    return bytes((tag, 0x00)) + body


def put_aa_rsa(modulus: int, private_exponent: int, size: int) -> list[Command]:
    return [
        Command(0x00, 0xDA, 0x00, 0x60, _zero_length(0x60, tlv(0x04, modulus.to_bytes(size, "big")))),
        Command(0x00, 0xDA, 0x00, 0x61, _zero_length(0x61, tlv(0x04, private_exponent.to_bytes(size, "big")))),
    ]


def put_ca_key(d: Domain, private: int, key_id: int | None) -> Command:
    n = d.size
    body = (
        tlv(0x81, d.p.to_bytes(n, "big"))
        + tlv(0x82, d.a.to_bytes(n, "big"))
        + tlv(0x83, d.b.to_bytes(n, "big"))
        + tlv(0x84, d.encode(d.generator))
        + tlv(0x85, d.order.to_bytes((d.order.bit_length() + 7) // 8, "big"))
        + tlv(0x86, private.to_bytes((d.order.bit_length() + 7) // 8, "big"))
        + tlv(0x87, b"\x01")
    )
    if key_id is not None:
        body += tlv(0x88, key_id.to_bytes(max(1, (key_id.bit_length() + 7) // 8), "big"))
    return Command(0x00, 0xDA, 0x00, 0x63, _zero_length(0x63, body))


def put_can(can: str) -> Command:
    return Command(0x00, 0xDA, 0x00, 0x65, tlv(0x65, can.encode("ascii")))


def put_aa_private_key(pkcs8_der: bytes) -> Command:
    return Command(0x00, 0xDA, 0x00, 0x66, tlv(0x66, pkcs8_der))


def put_cvca(certificate: bytes, index: int = 0) -> Command:
    """A CVCA trust point (its CV certificate); index 0 the most recent, 1 the previous."""
    if index not in (0, 1):
        raise EncodingError("CVCA trust point: a chip keeps at most two [Doc 9303-11 §7.1.4.3.2]")
    return Command(0x00, 0xDA, index, 0x67, certificate)


def put_date(day: dt.date) -> Command:
    """The chip's current date (TR-03110: the date of personalisation), YYMMDD as unpacked BCD."""
    return Command(0x00, 0xDA, 0x00, 0x68, tlv(0x68, bytes(int(c) for c in day.strftime("%y%m%d"))))


def parse_date(data: bytes) -> dt.date:
    digits = parse_simple(data, 0x68)
    if len(digits) != 6 or any(d > 9 for d in digits):
        raise EncodingError("PUT DATA 68: not six unpacked BCD digits")
    try:
        return dt.date(2000 + digits[0] * 10 + digits[1], digits[2] * 10 + digits[3], digits[4] * 10 + digits[5])
    except ValueError:
        raise EncodingError("PUT DATA 68: not a calendar date") from None


KEY_AA = 0x01
KEY_CA = 0x02


def generate_key_pair(key: int, *, param_id: int | None = None, rsa_bits: int | None = None) -> Command:
    """GENERATE ASYMMETRIC KEY PAIR inside the chip; the answer is the public key data object."""
    if (param_id is None) == (rsa_bits is None):
        raise EncodingError("GENERATE ASYMMETRIC KEY PAIR: an EC domain or an RSA size")
    spec = tlv(0x84, bytes((param_id,))) if param_id is not None else tlv(0x81, (rsa_bits or 0).to_bytes(2, "big"))
    return Command(0x00, 0x46, 0x80, key, spec, 65536 if rsa_bits else 256, bool(rsa_bits))


def parse_key_spec(data: bytes) -> tuple[int | None, int | None]:
    """(EC domain id, RSA bits) of a GENERATE ASYMMETRIC KEY PAIR command."""
    objs = {o.tag: o.value for o in parse_all(data)}
    if len(objs.get(0x84, b"")) == 1:
        return objs[0x84][0], None
    if len(objs.get(0x81, b"")) == 2:
        return None, int.from_bytes(objs[0x81], "big")
    raise EncodingError("GENERATE ASYMMETRIC KEY PAIR: neither 84 (domain) nor 81 (RSA size)")


def public_key_object(*, point: bytes | None = None, n: int | None = None, e: int | None = None) -> bytes:
    if point is not None:
        return tlv(0x7F49, tlv(0x86, point))
    assert n is not None and e is not None
    return tlv(0x7F49, tlv(0x81, n.to_bytes((n.bit_length() + 7) // 8, "big")) + tlv(0x82, e.to_bytes((e.bit_length() + 7) // 8, "big")))


def parse_public_key_object(data: bytes) -> tuple[bytes | None, int | None, int | None]:
    """(EC point, RSA n, RSA e) from a 7F49 answer."""
    try:
        (obj,) = parse_all(data)
        if obj.tag != 0x7F49:
            raise EncodingError("not 7F49")
        kids = {k.tag: k.value for k in obj.children()}
    except (TlvError, ValueError) as exc:
        raise EncodingError(f"generated public key: not a 7F49 public key data object ({exc}) [ISO/IEC 7816-8]") from exc
    if 0x86 in kids:
        return kids[0x86], None, None
    if 0x81 in kids and 0x82 in kids:
        return None, int.from_bytes(kids[0x81], "big"), int.from_bytes(kids[0x82], "big")
    raise EncodingError("generated public key: neither 86 (EC point) nor 81/82 (RSA)")


def lock() -> Command:
    return Command(0x00, 0xDA, 0xDE, 0xAD)


# -- parsers (simulator side) ---------------------------------------------------------------------------


def parse_create_file(data: bytes) -> tuple[int, int]:
    """(fid, size) from `63 04 SSSS FFFF`."""
    if len(data) != 6 or data[:2] != b"\x63\x04":
        raise EncodingError("CREATE FILE: data is not 63 04 SSSS FFFF")
    return int.from_bytes(data[4:6], "big"), int.from_bytes(data[2:4], "big")


def parse_mrz_seed(data: bytes) -> tuple[str, str, str]:
    try:
        objs = parse_all(data)
        if len(objs) != 1 or objs[0].tag != 0x62:
            raise EncodingError("MRZ seed: not one 62 object")
        parts = [o.value.decode("ascii") for o in objs[0].children() if o.tag == 0x04]
    except (TlvError, UnicodeDecodeError) as exc:
        raise EncodingError(f"MRZ seed: {exc}") from exc
    if len(parts) != 3:
        raise EncodingError("MRZ seed: expected three 04 objects")
    return parts[0], parts[1], parts[2]


def _after_zero_length(data: bytes, tag: int) -> bytes:
    if len(data) < 2 or data[0] != tag or data[1] != 0:
        raise EncodingError(f"PUT DATA {tag:02X}: data does not start {tag:02X} 00")
    return data[2:]


def parse_aa_rsa(data: bytes, tag: int) -> int:
    obj, _end = read_tlv(_after_zero_length(data, tag), 0)
    if obj.tag != 0x04:
        raise EncodingError(f"PUT DATA {tag:02X}: expected an 04 object")
    return int.from_bytes(obj.value, "big")


@dataclass(frozen=True, slots=True)
class CaKey:
    domain: Domain
    private: int
    key_id: int | None


def parse_ca_key(data: bytes) -> CaKey:
    objs = {o.tag: o.value for o in parse_all(_after_zero_length(data, 0x63))}
    try:
        p, a, b = (int.from_bytes(objs[t], "big") for t in (0x81, 0x82, 0x83))
        g, order, private = objs[0x84], int.from_bytes(objs[0x85], "big"), int.from_bytes(objs[0x86], "big")
    except KeyError as exc:
        raise EncodingError(f"PUT DATA 63: missing tag {exc}") from None
    for pid in (8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18):
        d = domain(pid)
        if (d.p, d.a, d.b, d.order) == (p, a, b, order) and d.encode(d.generator) == g:
            kid = int.from_bytes(objs[0x88], "big") if 0x88 in objs else None
            return CaKey(d, private, kid)
    raise EncodingError("PUT DATA 63: domain parameters are not a standardised curve")


def parse_simple(data: bytes, tag: int) -> bytes:
    obj, end = read_tlv(data, 0)
    if obj.tag != tag or end != len(data):
        raise EncodingError(f"PUT DATA {tag:02X}: not one {tag:02X} object")
    return obj.value
