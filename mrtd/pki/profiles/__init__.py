"""Certificate profiles (Doc 9303 Part 12 Tables 5/6 and the barcode-signer profiles) as data.

`certificates.toml` is read once; the builders and the linter both use `profile(role)`.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from mrtd.errors import ConfigurationError, InputError
from mrtd.mrz.codes import alpha2_of, code_for_alpha2

ROLES = ("csca", "link", "ds", "masterlist-signer", "deviationlist-signer", "seal-signer", "vdsnc-signer")

# Extension names used in the profile file -> OID.
EXTENSION_OIDS: dict[str, str] = {
    "authorityKeyIdentifier": "2.5.29.35",
    "subjectKeyIdentifier": "2.5.29.14",
    "keyUsage": "2.5.29.15",
    "privateKeyUsagePeriod": "2.5.29.16",
    "certificatePolicies": "2.5.29.32",
    "subjectAltName": "2.5.29.17",
    "issuerAltName": "2.5.29.18",
    "basicConstraints": "2.5.29.19",
    "extendedKeyUsage": "2.5.29.37",
    "cRLDistributionPoints": "2.5.29.31",
    "nameChange": "2.23.136.1.1.6.1",
    "documentTypeList": "2.23.136.1.1.6.2",
}
OID_NAMES = {oid: name for name, oid in EXTENSION_OIDS.items()}


@dataclass(frozen=True)
class ExtensionRule:
    name: str
    oid: str
    presence: str  # "m", "o", "x"
    critical: bool
    emit: bool


@dataclass(frozen=True)
class Profile:
    role: str
    title: str
    clause: str
    ca: bool
    self_signed: bool
    subject: str  # "full" or "c-cn"
    cn_length: int | None
    key_algorithms: tuple[str, ...]
    algorithms: tuple[str, ...]  # when not empty, the only key algorithms the format allows (mrtd.pki.keys names)
    key_usage: frozenset[str]
    extended_key_usage: tuple[str, ...]
    document_types: tuple[str, ...]
    path_length: int | None
    min_rsa_bits: int
    validity_years: int | None
    private_key_usage_years: int | None
    private_key_usage_months: int | None
    other_extensions: str
    extensions: dict[str, ExtensionRule]

    def rule(self, name: str) -> ExtensionRule | None:
        return self.extensions.get(name)

    def emits(self, name: str) -> bool:
        r = self.extensions.get(name)
        return r is not None and (r.presence == "m" or (r.presence == "o" and r.emit))


@cache
def _data() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("certificates.toml").read_text("utf-8")
    return tomllib.loads(text)


@cache
def profile(role: str) -> Profile:
    roles = _data()["roles"]
    if role not in roles:
        raise InputError(f"role: unknown certificate role {role!r}; expected one of {', '.join(ROLES)}")
    r = roles[role]
    exts = {}
    for name, rule in r.get("extensions", {}).items():
        if name not in EXTENSION_OIDS:
            raise ConfigurationError(f"certificates.toml [{role}]: unknown extension {name!r}")
        exts[name] = ExtensionRule(name, EXTENSION_OIDS[name], rule["presence"], bool(rule["critical"]),
                                   bool(rule.get("emit", rule["presence"] == "m")))
    return Profile(
        role=role,
        title=r["title"],
        clause=r["clause"],
        ca=bool(r["ca"]),
        self_signed=bool(r["self_signed"]),
        subject=r["subject"],
        cn_length=r.get("cn_length"),
        key_algorithms=tuple(r.get("key_algorithms", ["ec", "rsa"])),
        algorithms=tuple(r.get("algorithms", [])),
        key_usage=frozenset(r["key_usage"]),
        extended_key_usage=tuple(r["extended_key_usage"]),
        document_types=tuple(r.get("document_types", [])),
        path_length=r.get("basic_constraints_path_length"),
        min_rsa_bits=int(r.get("min_rsa_bits", 2048)),
        validity_years=r.get("validity_years"),
        private_key_usage_years=r.get("private_key_usage_years"),
        private_key_usage_months=r.get("private_key_usage_months"),
        other_extensions=r["other_extensions"],
        extensions=exts,
    )


def common() -> dict[str, Any]:
    data: dict[str, Any] = _data()["common"]
    return data


def crl_profile() -> dict[str, Any]:
    data: dict[str, Any] = _data()["crl"]
    return data


def mrz_code_for(country: str) -> str:
    """The Doc 9303-3 issuing-state code for an ISO 3166-1 alpha-2 country (DE -> D, NL -> NLD)."""
    code = code_for_alpha2(country, iso_only=True)
    if code is None:
        raise InputError(f"country: {country!r} is not an ISO 3166-1 alpha-2 code; give the MRZ code explicitly")
    return code


def alpha2_for(mrz_code: str) -> str | None:
    """The ISO 3166-1 alpha-2 country whose issuing-state code is `mrz_code` (D -> DE, NLD -> NL), or None
    (DEU, UTO, organisations): the inverse of `mrz_code_for`."""
    alpha2 = alpha2_of(mrz_code)
    if alpha2 is None or code_for_alpha2(alpha2, iso_only=True) != mrz_code.strip().upper():
        return None
    return alpha2


def country_codes(country: str, certificate_country: str | None = None) -> tuple[str, str]:
    """(certificate countryName, MRZ issuing-state code) from what an administrator types: the Doc 9303
    code (UTO, D, NLD) or the ISO 3166-1 alpha-2 code (NL, DE). A state whose code has no alpha-2
    equivalent (UTO) needs `certificate_country`. One rule for `mrtd site init` and `mrtd pki init`."""
    c = country.strip().upper()
    if len(c) == 2 and c.isalpha():
        mrz = mrz_code_for(c)
        alpha2 = c
    elif 1 <= len(c.rstrip("<")) <= 3 and c.rstrip("<").isalpha():
        mrz = c.rstrip("<")
        alpha2 = alpha2_for(mrz) or alpha2_of(mrz) or ""  # D -> DE; UTO -> UT (the specimen state's own table entry)
    else:
        raise InputError(f"country: {country!r} is not an issuing-state code (Doc 9303-3, e.g. UTO, D, NLD) "
                         "or an ISO 3166-1 alpha-2 code")
    if certificate_country:
        given = certificate_country.strip().upper()
        if len(given) != 2 or not given.isalpha():
            raise InputError(f"certificate_country: {certificate_country!r} is not two letters (ISO 3166-1 alpha-2)")
        return given, mrz
    if not alpha2:
        raise InputError(f"country: {country!r} has no ISO 3166-1 alpha-2 equivalent; give the certificate country "
                         "(--certificate-country XX) explicitly")
    return alpha2, mrz
