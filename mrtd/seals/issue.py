"""Make the seals this product issues: the ICAO visa (MRV-A / MRV-B) and emergency travel document,
as a Part 13 VDS, an IDB string or a VDS-NC, and the travel document's own MRZ (TD1 / TD3, optionally
with its CAN) as an IDB, from plain values (MRZ lines, numbers, dates).

The MRZ lines come from the caller (the issuance floor builds them); nothing here reads applications.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from cryptography import x509
from cryptography.x509.oid import NameOID

from mrtd.asn1.tlv import SEAL, Tlv, tlv
from mrtd.errors import EncodingError, InputError
from mrtd.pki.signer import Signer
from mrtd.seals import idb, vds, vdsnc
from mrtd.seals.profiles import (
    Duration,
    FeatureValue,
    encode_features,
    idb_messages,
    idb_nested,
    vds_profile,
    vdsnc_types,
)

CLAUSE_VISA = "ICAO TR VDS for Non-Electronic Documents: visa"
CLAUSE_ETD = "ICAO TR VDS for Non-Electronic Documents: emergency travel document"
CLAUSE_IDB_MRZ = "ICAO TR Datastructure for Barcode: message types 0x07 MRZ TD1, 0x08 MRZ TD3, 0x09 CAN"
# Message types from 0x80 up are national (seals.md §4): the ICAO MRZ messages are those below.
_NATIONAL_RANGE = 0x80


class SealFormat(StrEnum):
    VDS = "vds"
    IDB = "idb"
    VDSNC = "vdsnc"


class DocumentKind(StrEnum):
    VISA = "visa"
    ETD = "etd"
    MRZ = "mrz"  # the travel document's own MRZ (TD1 or TD3): only the IDB has messages for it


@dataclass(frozen=True, slots=True)
class SealRequest:
    """What a seal says. `mrz` are the document's MRZ lines; visa fields are needed only for a visa,
    `can` (the card access number, IDB message 0x09) only for the MRZ kind and only when the document has one."""

    kind: DocumentKind
    issuing_state: str  # Doc 9303-3 code, `<` padded or not
    mrz: tuple[str, ...]
    issue_date: dt.date
    passport_number: str = ""
    duration_of_stay: Duration | None = None
    number_of_entries: int | None = None
    visa_type: bytes | None = None
    can: str = ""


def _visa_mrz_feature(lines: Sequence[str]) -> tuple[str, str]:
    """MRV-A (2 x 44) -> tag 1, MRV-B (2 x 36) -> tag 2; line 1 and the first 28 characters of line 2."""
    if len(lines) != 2 or len(lines[0]) != len(lines[1]) or len(lines[0]) not in (44, 36):
        raise InputError(f"mrz: a visa seal needs the 2 lines of an MRV-A (44) or MRV-B (36) [{CLAUSE_VISA}]")
    name = "MRZ_MRVA" if len(lines[0]) == 44 else "MRZ_MRVB"
    return name, lines[0] + lines[1][:28]


def _etd_mrz(lines: Sequence[str]) -> str:
    if len(lines) != 2 or any(len(line) != 36 for line in lines):
        raise InputError(f"mrz: an emergency travel document seal holds a 2 x 36 (TD2-like) MRZ [{CLAUSE_ETD}]")
    return lines[0] + lines[1]


def check_format(fmt: SealFormat, kind: DocumentKind) -> None:
    """Refuse a kind the format has no profile for: the document's own MRZ is an IDB message only."""
    if kind is DocumentKind.MRZ and fmt is not SealFormat.IDB:
        name = "Doc 9303-13 VDS" if fmt is SealFormat.VDS else "VDS-NC"
        raise InputError(
            f"type: {name} has no document profile for a travel document's own MRZ (its ICAO types are the visa "
            f"and the emergency travel document); use the IDB, whose message types 0x07/0x08 carry a TD1/TD3 "
            f"MRZ [{CLAUSE_IDB_MRZ}]")


def features(req: SealRequest) -> dict[str, FeatureValue]:
    """The profile features of a request (names as in profiles/icao.json)."""
    check_format(SealFormat.VDS, req.kind)
    if req.kind is DocumentKind.ETD:
        return {"MRZ": _etd_mrz(req.mrz)}
    name, text = _visa_mrz_feature(req.mrz)
    if not req.passport_number:
        raise InputError(f"passport_number: a visa seal names the passport the visa is in [{CLAUSE_VISA}]")
    if req.duration_of_stay is None:
        raise InputError(f"duration_of_stay: a visa seal carries the duration of stay [{CLAUSE_VISA}]")
    number = req.passport_number.upper().replace("<", " ")
    if len(number) > 9:
        raise InputError(f"passport_number: {req.passport_number!r} is longer than 9 characters [{CLAUSE_VISA}]")
    # A shorter number is padded with the MRZ filler, which C40 writes as a space.
    values: dict[str, FeatureValue] = {
        name: text, "PASSPORT_NUMBER": number.ljust(9, " "), "DURATION_OF_STAY": req.duration_of_stay,
    }
    if req.number_of_entries is not None:
        values["NUMBER_OF_ENTRIES"] = req.number_of_entries
    if req.visa_type is not None:
        values["VISA_TYPE"] = req.visa_type
    return values


def _c40_country(state: str) -> str:
    code = state.upper().replace("<", " ")
    return code.ljust(3, " ") if len(code) < 3 else code


def _signer_id(certificate: x509.Certificate) -> str:
    c = certificate.subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)
    cn = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    signer = (str(c[0].value) if c else "") + (str(cn[0].value) if cn else "")
    if len(signer) != 4 or not all(ch.isdigit() or "A" <= ch <= "Z" for ch in signer):
        raise InputError(f"signer certificate: subject C + CN = {signer!r} is not a 4-character signer id "
                         "(Doc 9303-12 barcode signer profile)")
    return signer


def make_vds(req: SealRequest, signer: Signer, certificate: x509.Certificate, signed_on: dt.date) -> vds.VdsSeal:
    check_format(SealFormat.VDS, req.kind)
    profile = vds_profile("icao-visa" if req.kind is DocumentKind.VISA else "icao-etd")
    messages = encode_features(profile, features(req), "message")
    header = vds.VdsHeader(
        issuing_country=_c40_country(req.issuing_state), signer_id=_signer_id(certificate),
        cert_ref=f"{certificate.serial_number:X}", issue_date=req.issue_date, signature_date=signed_on,
        feature_ref=profile.feature_ref, category=profile.category,
    )
    return vds.make(header, messages, signer)


def make_idb(
    req: SealRequest, signer: Signer, certificate_der: bytes, signed_on: dt.date, embed_certificate: bool = False,
    date_bytes: int = 4,
) -> idb.IdbSeal:
    messages: tuple[Tlv, ...]
    if req.kind is DocumentKind.MRZ:
        messages = mrz_messages(req)
    else:
        nested_key, tag = ("idb-visa", 0x01) if req.kind is DocumentKind.VISA else ("idb-etd", 0x02)
        sub = encode_features(idb_nested(nested_key), _idb_values(req), "message")
        body = b"".join(tlv(t.tag, t.value, SEAL) for t in sub)
        messages = (Tlv(tag, body),)
    return idb.make(_c40_country(req.issuing_state), messages, signer, signed_on, certificate_der=certificate_der,
                    embed_certificate=embed_certificate, date_bytes=date_bytes)


def mrz_message_name(lines: Sequence[str]) -> str:
    """The ICAO IDB message for an MRZ of this shape, found in profiles/idb.json by line count and width
    (TD1 3 x 30 -> MRZ_TD1, TD3 2 x 44 -> MRZ_TD3). Anything else is refused, naming the rule."""
    widths = {len(line) for line in lines}
    found = [f for f in idb_messages().features
             if f.coding == "mrz" and f.tag < _NATIONAL_RANGE and f.lines == len(lines) and widths == {f.line_width}]
    if not found:
        shape = f"{len(lines)} line(s) of {'/'.join(str(len(line)) for line in lines) or '0'} characters"
        known = ", ".join(f"{f.name} ({f.lines} x {f.line_width})" for f in idb_messages().features
                          if f.coding == "mrz" and f.tag < _NATIONAL_RANGE)
        raise InputError(f"mrz: {shape} fits none of the IDB's ICAO MRZ messages: {known} [{CLAUSE_IDB_MRZ}]")
    return found[0].name


def mrz_messages(req: SealRequest) -> tuple[Tlv, ...]:
    """The IDB messages of the MRZ kind: MRZ_TD1 or MRZ_TD3, then CAN when the request has one."""
    values: dict[str, FeatureValue] = {mrz_message_name(req.mrz): "".join(req.mrz)}
    if req.can:
        if not (len(req.can) == 6 and req.can.isdigit()):
            raise InputError(f"can: the card access number is 6 digits [Doc 9303-11 §4.3; {CLAUSE_IDB_MRZ}]")
        values["CAN"] = req.can
    return encode_features(idb_messages(), values, "message")


def _idb_values(req: SealRequest) -> dict[str, FeatureValue]:
    values = features(req)
    duration = values.get("DURATION_OF_STAY")
    if isinstance(duration, Duration):  # the IDB visa profile keeps the three bytes opaque
        values["DURATION_OF_STAY"] = bytes((duration.days, duration.months, duration.years))
    if req.kind is DocumentKind.VISA:
        # In the IDB the visa carries the whole MRZ, not the truncated second line.
        name = "MRZ_MRVA" if len(req.mrz[0]) == 44 else "MRZ_MRVB"
        values[name] = req.mrz[0] + req.mrz[1]
    return values


def make_vdsnc(req: SealRequest, signer: Signer, certificate_der: bytes) -> vdsnc.VdsNcSeal:
    check_format(SealFormat.VDSNC, req.kind)
    use_case = "mrtd.visa" if req.kind is DocumentKind.VISA else "mrtd.etd"
    if not vdsnc_types().get(use_case, {}).get("issuable"):
        raise EncodingError(f"data.hdr.t: {use_case} is not an issuable VDS-NC type")
    features(req)  # the same checks as for the other formats
    msg: dict[str, Any] = {"mrz": list(req.mrz)}
    if req.kind is DocumentKind.VISA:
        assert req.duration_of_stay is not None
        d = req.duration_of_stay
        msg["passport_number"] = req.passport_number
        msg["duration_of_stay"] = {"days": d.days, "months": d.months, "years": d.years}
        if req.number_of_entries is not None:
            msg["number_of_entries"] = req.number_of_entries
    state = req.issuing_state.upper().replace("<", "")
    return vdsnc.make(use_case, state, msg, signer, certificate_der)


def parse_duration(text: str) -> Duration:
    """`160` (days) or `D/M/Y` (days, months, years), each 0..255."""
    parts = text.strip().split("/")
    try:
        nums = [int(p) for p in parts]
    except ValueError:
        raise InputError(f"duration_of_stay: {text!r} is not DAYS or DAYS/MONTHS/YEARS") from None
    if len(nums) == 1:
        nums += [0, 0]
    if len(nums) != 3 or not all(0 <= n <= 255 for n in nums):
        raise InputError(f"duration_of_stay: {text!r} is not DAYS or DAYS/MONTHS/YEARS with parts 0..255")
    return Duration(*nums)
