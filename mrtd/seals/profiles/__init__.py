"""Document-type profiles (data files in `profiles/`) and the value codings of seal features.

A profile names the tags of a message zone, how each value is coded and how long it may be. The seal
header does not say how a value is coded, so a verifier needs the profile; unknown document types are
still decoded structurally (tags and raw bytes).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from mrtd.asn1.tlv import SEAL, Tlv, read_tlv
from mrtd.errors import EncodingError, Finding, ProfileError, Severity
from mrtd.seals import c40
from mrtd.seals.dates import decode_date, decode_date_time, decode_masked_date, encode_date

CLAUSE = "Doc 9303-13 §2.4 (document feature definitions)"
CODINGS = frozenset(
    {"c40", "mrz", "utf8", "text", "byte", "uint", "bytes", "date", "masked_date", "date_time", "duration", "tlv"}
)


@dataclass(frozen=True, slots=True)
class Duration:
    """Duration of stay of a visa: days, months, years (one byte each)."""

    days: int
    months: int
    years: int


FeatureValue = str | int | bytes | dt.date | dt.datetime | Duration | dict[str, Any]


@dataclass(frozen=True, slots=True)
class Feature:
    tag: int
    name: str
    coding: str
    min_len: int = 0
    max_len: int = 0xFFFF
    required: bool = False
    line_width: int = 0
    lines: int = 0  # an MRZ feature of a whole document: its number of lines (0: not fixed)
    nested: str = ""


@dataclass(frozen=True, slots=True)
class Profile:
    key: str
    name: str
    features: tuple[Feature, ...]
    feature_ref: int = -1
    category: int = -1
    issuable: bool = False
    default_coding: str = ""
    one_of: tuple[tuple[str, ...], ...] = ()

    def by_tag(self, tag: int) -> Feature | None:
        for f in self.features:
            if f.tag == tag:
                return f
        return None

    def by_name(self, name: str) -> Feature | None:
        for f in self.features:
            if f.name == name:
                return f
        return None


def _feature(d: Mapping[str, Any]) -> Feature:
    coding = d["coding"]
    if coding not in CODINGS:
        raise ProfileError(f"profile feature {d['name']}: unknown coding {coding!r}")
    if "length" in d:
        lo = hi = int(d["length"])
    else:
        lo, hi = int(d.get("min", 0)), int(d.get("max", 0xFFFF))
    return Feature(
        tag=int(d["tag"], 0), name=d["name"], coding=coding, min_len=lo, max_len=hi,
        required=bool(d.get("required", False)), line_width=int(d.get("line_width", 0)),
        lines=int(d.get("lines", 0)), nested=d.get("profile", ""),
    )


def _profile(d: Mapping[str, Any], key: str | None = None) -> Profile:
    return Profile(
        key=key or d["key"], name=d["name"], features=tuple(_feature(f) for f in d["features"]),
        feature_ref=int(d["feature_ref"], 0) if "feature_ref" in d else -1,
        category=int(d["category"], 0) if "category" in d else -1,
        issuable=bool(d.get("issuable", False)), default_coding=d.get("default_coding", ""),
        one_of=tuple(tuple(g) for g in d.get("one_of", ())),
    )


def _load(name: str) -> dict[str, Any]:
    text = resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


@functools.cache
def vds_profiles() -> tuple[Profile, ...]:
    out: list[Profile] = []
    for name in ("icao.json", "bsi-tr03137.json", "bsi-tr03171.json"):
        out.extend(_profile(p) for p in _load(name)["profiles"])
    return tuple(out)


@functools.cache
def tr03171_document_profiles() -> dict[str, Profile]:
    return {
        p["uuid"]: _profile(p, key=f"de-admin-{p['uuid']}") for p in _load("bsi-tr03171.json")["document_profiles"]
    }


@functools.cache
def idb_messages() -> Profile:
    data = _load("idb.json")
    return Profile(key="idb", name="IDB message group", features=tuple(_feature(m) for m in data["messages"]))


@functools.cache
def idb_nested(key: str) -> Profile:
    data = _load("idb.json")["nested"]
    if key not in data:
        raise ProfileError(f"IDB nested profile {key!r} is not defined")
    return _profile(data[key], key=key)


@functools.cache
def vdsnc_types() -> dict[str, dict[str, Any]]:
    types: dict[str, dict[str, Any]] = _load("vdsnc.json")["types"]
    return types


def find_vds_profile(feature_ref: int, category: int) -> Profile | None:
    for p in vds_profiles():
        if p.feature_ref == feature_ref and p.category == category:
            return p
    return None


def vds_profile(key: str) -> Profile:
    for p in vds_profiles():
        if p.key == key:
            return p
    raise ProfileError(f"no VDS document profile {key!r}")


# --- value codings -------------------------------------------------------------------------------


def decode_value(feature: Feature, value: bytes, field: str) -> FeatureValue:
    coding = feature.coding
    if coding == "c40":
        return c40.decode(value, field)
    if coding == "mrz":
        text = c40.decode(value, field).replace(" ", "<")
        w = feature.line_width
        return "\n".join(text[i : i + w] for i in range(0, len(text), w)) if w else text
    if coding in ("utf8", "text"):
        try:
            s = value.decode("utf-8")
        except UnicodeDecodeError:
            if coding == "text":
                return value
            raise EncodingError(f"{field}: value is not UTF-8 [{CLAUSE}]") from None
        if coding == "text" and not s.isprintable():
            return value
        return s
    if coding == "byte":
        if len(value) != 1:
            raise EncodingError(f"{field}: a byte value takes 1 byte, not {len(value)} [{CLAUSE}]")
        return value[0]
    if coding == "uint":
        return int.from_bytes(value, "big")
    if coding == "date":
        return decode_date(value, field)
    if coding == "masked_date":
        return decode_masked_date(value, field)
    if coding == "date_time":
        return decode_date_time(value, field)
    if coding == "duration":
        if len(value) != 3:
            raise EncodingError(f"{field}: duration of stay takes 3 bytes, not {len(value)} [{CLAUSE}]")
        return Duration(value[0], value[1], value[2])
    return bytes(value)  # bytes, and tlv when handled by the caller


def encode_value(feature: Feature, value: FeatureValue, field: str) -> bytes:
    coding = feature.coding
    out: bytes
    if coding in ("c40", "mrz") and isinstance(value, str):
        text = value.replace("\n", "") if coding == "mrz" else value
        if coding == "mrz":
            text = text.upper().replace("<", " ")
        out = c40.encode(text, field)
    elif coding in ("utf8", "text") and isinstance(value, str):
        out = value.encode("utf-8")
    elif coding == "byte" and isinstance(value, int) and not isinstance(value, bool):
        if not 0 <= value <= 255:
            raise EncodingError(f"{field}: {value} is not a byte value 0..255 [{CLAUSE}]")
        out = bytes((value,))
    elif coding == "uint" and isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise EncodingError(f"{field}: {value} is negative [{CLAUSE}]")
        out = value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")
    elif coding == "date" and isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        out = encode_date(value)
    elif coding == "duration" and isinstance(value, Duration):
        if not all(0 <= v <= 255 for v in (value.days, value.months, value.years)):
            raise EncodingError(f"{field}: duration parts must be 0..255 [{CLAUSE}]")
        out = bytes((value.days, value.months, value.years))
    elif coding in ("bytes", "text") and isinstance(value, bytes):
        out = value
    else:
        raise EncodingError(f"{field}: a {type(value).__name__} cannot be written with coding {coding} [{CLAUSE}]")
    if not feature.min_len <= len(out) <= feature.max_len:
        raise EncodingError(
            f"{field}: {len(out)} bytes, the profile allows {feature.min_len}..{feature.max_len} [{CLAUSE}]"
        )
    return out


def decode_features(
    profile: Profile | None,
    messages: Sequence[Tlv],
    field: str,
    findings: list[Finding],
    nested: Mapping[str, Profile] | None = None,
) -> dict[str, FeatureValue]:
    """Messages -> {feature name: value}. Unknown tags keep their raw bytes under `tag_0xNN`;
    profile breaches (length, missing required feature) become findings, not exceptions.
    """
    out: dict[str, FeatureValue] = {}
    for m in messages:
        feature = profile.by_tag(m.tag) if profile else None
        if feature is None and profile and profile.default_coding:
            feature = Feature(m.tag, f"tag_0x{m.tag:02X}", profile.default_coding)
        name = feature.name if feature else f"tag_0x{m.tag:02X}"
        where = f"{field}.{name}"
        if feature is None:
            out[name] = m.value
            continue
        if not feature.min_len <= len(m.value) <= feature.max_len:
            findings.append(Finding(where, "feature-length",
                                    f"{len(m.value)} bytes, the profile allows {feature.min_len}..{feature.max_len}",
                                    CLAUSE, Severity.WARNING))
        if feature.coding == "tlv":
            sub: list[Tlv] = []
            pos = 0
            while pos < len(m.value):
                t, pos = read_tlv(m.value, pos, what=where, rules=SEAL, findings=findings, base=m.value_offset)
                sub.append(t)
            sub_profile = (nested or {}).get(feature.nested)
            out[name] = decode_features(sub_profile, sub, where, findings)
        else:
            out[name] = decode_value(feature, m.value, where)
            if feature.coding == "mrz" and feature.lines:
                _check_mrz_shape(feature, out[name], where, findings)
    if profile:
        present = set(out)
        for f in profile.features:
            if f.required and f.name not in present:
                findings.append(Finding(f"{field}.{f.name}", "feature-missing",
                                        f"required feature (tag 0x{f.tag:02X}) is absent", CLAUSE, Severity.WARNING))
        for group in profile.one_of:
            if sum(1 for g in group if g in present) != 1:
                findings.append(Finding(f"{field}.{'|'.join(group)}", "feature-one-of",
                                        "exactly one of these features must be present", CLAUSE, Severity.WARNING))
    return out


_CLAUSE_MRZ_SHAPE = "Doc 9303-4/-5/-6 MRZ (TD3 2 x 44, TD1 3 x 30, TD2 2 x 36); ICAO TR Datastructure for Barcode"


def _check_mrz_shape(feature: Feature, value: FeatureValue, where: str, findings: list[Finding]) -> None:
    """A whole document's MRZ (e.g. IDB MRZ_TD1 / MRZ_TD3) must be exactly its lines x width characters."""
    lines = value.split("\n") if isinstance(value, str) else []
    if len(lines) != feature.lines or any(len(line) != feature.line_width for line in lines):
        total = sum(len(line) for line in lines)
        findings.append(Finding(where, "mrz-shape", f"{total} characters, not {feature.lines} lines of "
                                f"{feature.line_width}", _CLAUSE_MRZ_SHAPE, Severity.WARNING))


def encode_features(profile: Profile, values: Mapping[str, FeatureValue], field: str) -> tuple[Tlv, ...]:
    """{feature name: value} -> TLVs in the profile's tag order. Refuses anything the profile does not allow."""
    problems: list[Finding] = []
    for name in values:
        if profile.by_name(name) is None:
            problems.append(Finding(f"{field}.{name}", "feature-unknown", f"not a feature of {profile.name}", CLAUSE))
    for f in profile.features:
        if f.required and f.name not in values:
            problems.append(Finding(f"{field}.{f.name}", "feature-missing", "required feature is missing", CLAUSE))
    for group in profile.one_of:
        if sum(1 for g in group if g in values) != 1:
            problems.append(Finding(f"{field}.{'|'.join(group)}", "feature-one-of",
                                    "give exactly one of these features", CLAUSE))
    if problems:
        raise ProfileError(f"{field}: the values do not fit the {profile.name} profile", problems)
    out: list[Tlv] = []
    for f in sorted(profile.features, key=lambda f: f.tag):
        if f.name in values:
            out.append(Tlv(f.tag, encode_value(f, values[f.name], f"{field}.{f.name}")))
    return tuple(out)


def jsonable(value: Any) -> Any:
    """A decoded value in a form `json.dumps` takes (bytes as hex, dates as ISO)."""
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, Duration):
        return {"days": value.days, "months": value.months, "years": value.years}
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, Iterable) and not isinstance(value, str):
        return [jsonable(v) for v in value]
    return value
