"""The PKI state of a site folder: certificates, serials, CRL numbers, encrypted keys, key-operation log.

Layout under `<site>/pki/`:
  state.json   certificates (role, serial, validity, usage period, status, file, key reference), the
               serials ever used, the CRL number; rewritten atomically (temp file + rename)
  certs/       one PEM per certificate;  keys/  encrypted PKCS#8 (scrypt) files;  crls/  every CRL
  log.jsonl    append-only, one JSON object per key operation: who, when, what, which key. Never a secret.
Keys in a PKCS#11 token are referenced by module path, token label and key label (the PIN is passed in).
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from mrtd.asn1.x509 import load_certificate
from mrtd.errors import (
    ConfigurationError,
    InputError,
    KeyAccessError,
    MrtdError,
    ProfileError,
    Severity,
    StateError,
)
from mrtd.pki import certificates as certs
from mrtd.pki import crl as crlmod
from mrtd.pki import masterlist as mlmod
from mrtd.pki.keys import ALGORITHMS, DEFAULT_ALGORITHM, DEFAULT_SCRYPT_LOG2N, FileSigner, secret_env
from mrtd.pki.lint import lint_certificate
from mrtd.pki.profiles import mrz_code_for, profile
from mrtd.pki.signer import PublicKey, Signer
from mrtd.pki.trust import TrustStore
from mrtd.private import append_private, private_dir, replace_private, tighten, write_private

Clock = Callable[[], datetime]
END_ENTITY_ROLES = ("ds", "seal-signer", "vdsnc-signer", "masterlist-signer", "deviationlist-signer")
ROLLOVER_GRACE = timedelta(days=2)  # 9303-12 §5.5: do not use a new CSCA key for the first 2 days
EXTERNAL_CSCA_HINT = ("the CSCA lives at another site: run `mrtd pki csr ROLE` here, `mrtd pki sign-csr` there, "
                      "then `mrtd pki import-cert` here")
TRUST_KINDS = ("ml", "csca", "crl")  # imports the trust store reads (pki/trust/)
DESTROYED_HINT = "the key was destroyed (`mrtd pki destroy-key`); issue a new one"


@dataclass(frozen=True)
class Pkcs11Config:
    module: str
    token: str
    pin: bytes = field(repr=False)


@dataclass
class CertRecord:
    role: str
    serial: str  # upper-case hex
    subject: str
    file: str  # relative to the pki folder
    key: dict[str, str]  # {"store": "file", "path": ...} or {"store": "pkcs11", "module", "token", "label"}
    not_before: str
    not_after: str
    usage_start: str | None
    usage_end: str | None
    issuer_serial: str | None
    status: str = "active"  # active | superseded (a newer key of the role signs) | revoked
    revoked_at: str | None = None
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _iso(t: datetime | None) -> str | None:
    return t.astimezone(UTC).replace(microsecond=0).isoformat() if t else None


def _dt(s: str | None) -> datetime | None:
    return datetime.fromisoformat(s) if s else None


def add_months(t: datetime, months: int) -> datetime:
    y, m = divmod(t.month - 1 + months, 12)
    year, month = t.year + y, m + 1
    day = min(t.day, [31, 29 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 28, 31, 30, 31, 30,
                      31, 31, 30, 31, 30, 31][month - 1])
    return t.replace(year=year, month=month, day=day)


def add_years(t: datetime, years: int) -> datetime:
    return add_months(t, 12 * years)


def usage_of(cert: x509.Certificate) -> tuple[datetime | None, datetime | None]:
    """A certificate's private key usage period (UTC), or its validity when it has none."""
    try:
        pkup = cert.extensions.get_extension_for_class(x509.PrivateKeyUsagePeriod).value
    except x509.ExtensionNotFound:
        return cert.not_valid_before_utc, cert.not_valid_after_utc
    return (pkup.not_before.replace(tzinfo=UTC) if pkup.not_before else cert.not_valid_before_utc,
            pkup.not_after.replace(tzinfo=UTC) if pkup.not_after else cert.not_valid_after_utc)


class PkiSite:
    """A country's PKI kept in `<site>/pki`. Clock, randomness and actor are passed in."""

    def __init__(self, path: Path, *, clock: Clock | None = None, rng: Callable[[int], bytes] = os.urandom,
                 actor: str = "unknown", kdf_log2n: int = DEFAULT_SCRYPT_LOG2N) -> None:
        self.root = Path(path) / "pki"
        self._clock = clock
        self._rng = rng
        self.actor = actor
        self._kdf_log2n = kdf_log2n

    # State

    @property
    def state_file(self) -> Path:
        return self.root / "state.json"

    @property
    def log_file(self) -> Path:
        return self.root / "log.jsonl"

    def exists(self) -> bool:
        return self.state_file.exists()

    def _load(self) -> dict[str, Any]:
        if not self.exists():
            raise ConfigurationError(f"{self.root}: no PKI here; run `mrtd pki init` first")
        try:
            data: dict[str, Any] = json.loads(self.state_file.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigurationError(f"{self.state_file}: unreadable PKI state: {exc}") from None
        return data

    def _save(self, state: dict[str, Any]) -> None:
        replace_private(self.state_file, json.dumps(state, indent=1, sort_keys=True))

    def now(self, clock: Clock | None = None) -> datetime:
        c = clock or self._clock
        if c is None:
            raise ConfigurationError("clock: none given")
        return c().astimezone(UTC).replace(microsecond=0)

    def _log(self, op: str, *, role: str | None = None, key: str | None = None, serial: str | None = None,
             **detail: Any) -> None:
        entry = {"time": _iso(self.now()), "actor": self.actor, "op": op, "role": role, "key": key,
                 "serial": serial, **detail}
        append_private(self.log_file, json.dumps(entry, sort_keys=True) + "\n")

    def log_entries(self) -> list[dict[str, Any]]:
        if not self.log_file.exists():
            return []
        return [json.loads(line) for line in self.log_file.read_text("utf-8").splitlines() if line.strip()]

    # Keys

    def _new_key(self, state: dict[str, Any], algorithm: str, label: str, secret: bytes,
                 token: Pkcs11Config | None = None) -> tuple[Signer, dict[str, str]]:
        """A new key: in `token` (whose PIN opens it) or else an encrypted file under `secret`."""
        if algorithm not in ALGORITHMS:
            raise InputError(f"algorithm: {algorithm!r} is not one of {', '.join(ALGORITHMS)}")
        if token is not None:
            from mrtd.pki import pkcs11

            session = pkcs11.open_session(token.module, token.token, token.pin)
            signer: Signer = pkcs11.generate_key(session, algorithm, label)
            ref = {"store": "pkcs11", "module": token.module, "token": token.token, "label": label}
        else:
            path = self.root / "keys" / f"{label}.p8.pem"
            signer = FileSigner.generate(path, algorithm, secret, key_id=label, scrypt_log2n=self._kdf_log2n)
            ref = {"store": "file", "path": str(path.relative_to(self.root))}
        self._log("key-generate", key=signer.key_id, algorithm=algorithm, store=ref["store"])
        return signer, ref

    def _label(self, role: str, now: datetime) -> str:
        """A unique, non-secret key name (tokens may be shared by several sites)."""
        return f"{role}-{now:%Y%m%d%H%M%S}-{self._rng(4).hex()}"

    def _open_key(self, ref: dict[str, str], secret: bytes, role: str = "key") -> Signer:
        if ref["store"] == "pkcs11":
            from mrtd.pki import pkcs11

            session = pkcs11.open_session(ref["module"], ref["token"], secret)
            return pkcs11.Pkcs11Signer(session, ref["label"])
        if ref["store"] != "file":
            raise StateError(f"{role}: its private key is not held at this site ({ref['store']}): "
                             + (DESTROYED_HINT if ref["store"] == "destroyed" else EXTERNAL_CSCA_HINT))
        return FileSigner.load(self.root / ref["path"], secret, key_id=Path(ref["path"]).name.removesuffix(".p8.pem"))

    def default_token(self) -> dict[str, str] | None:
        """The token new signing keys go into by default ({"module", "token"}), if the site has one."""
        token: dict[str, str] | None = self._load().get("pkcs11")
        return token

    def key_in_token(self, role: str) -> bool:
        """Whether the key `role` signs with now lives in a token (its secret is then a PIN); for a role with
        no key yet, whether new keys go into the site's token."""
        state = self._load()
        if self._clock is not None:
            try:  # the key that signs now (after a rollover into a token, the old file key signs 2 more days)
                return self._current(state, role, self.now()).key.get("store") == "pkcs11"
            except MrtdError:
                pass
        refs = [r.key for r in self._records(state) if r.role == role and r.status == "active"]
        refs += [k["key"] for k in state.get("audit_keys", []) if role == "audit" and k["status"] == "active"]
        if refs:
            return refs[-1].get("store") == "pkcs11"
        return bool(state.get("pkcs11")) and role != "csca"

    @staticmethod
    def key_id_of(rec: CertRecord) -> str:
        """The key id signatures record (a file key's label, `pkcs11:<label>` for a token key)."""
        ref = rec.key
        if ref.get("store") == "pkcs11" or ref.get("was") == "pkcs11":
            return f"pkcs11:{ref['label']}"
        return Path(ref.get("path", "")).name.removesuffix(".p8.pem")

    def record(self, serial: str) -> CertRecord:
        serial = serial.upper().removeprefix("0X")
        for r in self._records(self._load()):
            if r.serial == serial:
                return r
        raise InputError(f"serial: no certificate {serial} in this site (see `mrtd pki list`)")

    def csca_here(self) -> bool:
        return bool(self._load().get("csca", "here") == "here")

    # Records

    def _records(self, state: dict[str, Any]) -> list[CertRecord]:
        return [CertRecord(**r) for r in state["certificates"]]

    def _store_cert(self, state: dict[str, Any], role: str, cert: x509.Certificate, key: dict[str, str],
                    usage: tuple[datetime | None, datetime | None] | None, issuer_serial: str | None) -> CertRecord:
        serial = f"{cert.serial_number:X}"
        name = f"{role}-{serial}.pem"
        write_private(self.root / "certs" / name, cert.public_bytes(serialization.Encoding.PEM))
        rec = CertRecord(role, serial, cert.subject.rfc4514_string(), f"certs/{name}", key,
                         _iso(cert.not_valid_before_utc) or "", _iso(cert.not_valid_after_utc) or "",
                         _iso(usage[0]) if usage else None, _iso(usage[1]) if usage else None, issuer_serial)
        state["certificates"].append(rec.as_dict())
        return rec

    def _serial(self, state: dict[str, Any]) -> int:
        used = set(state["serials"])
        while True:
            s = certs.new_serial(self._rng)
            if f"{s:X}" not in used:  # a CSCA never reuses a serial (9303-12 Table 5)
                state["serials"].append(f"{s:X}")
                return s

    def certificate(self, rec: CertRecord) -> x509.Certificate:
        return x509.load_pem_x509_certificate((self.root / rec.file).read_bytes())

    # Operations

    def init(self, country: str, algorithm: str, passphrase: bytes, clock: Clock | None = None,
             pkcs11: Pkcs11Config | None = None, *, mrz_code: str | None = None, common_name: str | None = None,
             organization: str | None = None, csca_usage_years: int = 5, csca_validity_years: int = 15,
             document_validity_years: int = 10, signer_token: Pkcs11Config | None = None) -> CertRecord:
        """Create the site's PKI and its first (self-signed) CSCA. `passphrase` is the CSCA key's own secret
        (its file's passphrase); with `pkcs11` the CSCA key is made in that token and `pkcs11.pin` opens it.
        `signer_token` is where the site's signing keys go by default (the CSCA's token if not given)."""
        state = self._new_state(country, algorithm, clock, mrz_code=mrz_code, organization=organization,
                                csca_usage_years=csca_usage_years, csca_validity_years=csca_validity_years,
                                document_validity_years=document_validity_years,
                                default_token=signer_token or pkcs11)
        now = self.now()
        signer, ref = self._new_key(state, algorithm, self._label("csca", now), pkcs11.pin if pkcs11 else passphrase,
                                    pkcs11)
        subject = certs.make_name(state["country"], common_name or f"CSCA {state['country']}",
                                  organization=organization)
        cert = self._csca_cert(state, signer, subject, now, now)
        rec = self._store_cert(state, "csca", cert, ref, (now, add_years(now, csca_usage_years)), None)
        self._save(state)
        self._log("init", role="csca", key=signer.key_id, serial=rec.serial, country=state["country"])
        return rec

    def init_external(self, country: str, csca_certificate: bytes, clock: Clock | None = None, *,
                      mrz_code: str | None = None, algorithm: str = DEFAULT_ALGORITHM, organization: str | None = None,
                      signer_token: Pkcs11Config | None = None, document_validity_years: int = 10) -> CertRecord:
        """A PKI whose CSCA lives at another site: only its certificate is kept here. Signing keys are made
        here with `mrtd pki csr`, certified at the CSCA's site (`sign-csr`) and installed (`import-cert`)."""
        cert = load_certificate(csca_certificate, "CSCA certificate")
        mine = x509.load_der_x509_certificate(cert.der)
        if not cert.self_issued or not cert.signed_by(cert):
            raise InputError("CSCA certificate: not a self-signed CSCA certificate (9303-12 Table 6)")
        findings = [f for f in lint_certificate(cert.der, "csca") if f.severity is Severity.ERROR]
        if findings:
            raise ProfileError(f"CSCA certificate: {findings[0]}")
        state = self._new_state(country, algorithm, clock, mrz_code=mrz_code, organization=organization,
                                document_validity_years=document_validity_years, default_token=signer_token)
        if cert.country.upper() != state["country"]:
            raise InputError(f"CSCA certificate: its country {cert.country!r} is not this site's {state['country']!r}")
        state["csca"] = "external"
        usage = usage_of(mine)
        rec = self._store_cert(state, "csca", mine, {"store": "external"}, usage, None)
        self._save(state)
        self._log("init", role="csca", serial=rec.serial, country=state["country"], csca="external")
        return rec

    def _new_state(self, country: str, algorithm: str, clock: Clock | None, *, mrz_code: str | None,
                   organization: str | None, document_validity_years: int, default_token: Pkcs11Config | None,
                   csca_usage_years: int = 5, csca_validity_years: int = 15) -> dict[str, Any]:
        if clock is not None:
            self._clock = clock
        if self.exists():
            raise StateError(f"{self.root}: a PKI already exists here")
        country = country.upper()
        code = mrz_code or mrz_code_for(country)
        private_dir(self.root)
        tighten(self.root)
        return {
            "country": country, "mrz_code": code, "algorithm": algorithm, "organization": organization, "csca": "here",
            "pkcs11": {"module": default_token.module, "token": default_token.token} if default_token else None,
            "serials": [], "crl_number": 0, "certificates": [], "requests": [],
            "document_validity_years": document_validity_years,
            "csca_usage_years": csca_usage_years, "csca_validity_years": csca_validity_years,
        }

    def _csca_cert(self, state: dict[str, Any], signer: Signer, subject: x509.Name, now: datetime,
                   usage_start: datetime) -> x509.Certificate:
        usage_end = add_years(now, state["csca_usage_years"])
        spec = certs.CertificateSpec("csca", subject, signer.public_key(), now,
                                     add_years(now, state["csca_validity_years"]), state["mrz_code"],
                                     (usage_start, usage_end))
        return certs.issue(spec, certs.Issuer(signer), self._rng, serial=self._serial(state))

    def _current(self, state: dict[str, Any], role: str, now: datetime, common_name: str | None = None) -> CertRecord:
        """The newest active certificate of `role` (and subject CN) whose private key usage period contains `now`."""
        cands = [r for r in self._records(state) if r.role == role and r.status == "active"
                 and (common_name is None or f"CN={common_name.upper()}," in r.subject + ",")]
        usable = [r for r in cands if (_dt(r.usage_start) or _dt(r.not_before)) <= now <= (_dt(r.usage_end) or _dt(r.not_after))]  # type: ignore[operator]
        renew = self._renew_hint(state, role)
        if not usable:
            if cands:
                raise KeyAccessError(f"{role}: no key inside its private key usage period at {now:%Y-%m-%d %H:%M:%S} "
                                     f"(9303-12 §5); {renew}")
            raise StateError(f"{role}: no active certificate (none issued, or all revoked/superseded); {renew}")
        return max(usable, key=lambda r: (r.usage_start or r.not_before))

    @staticmethod
    def _renew_hint(state: dict[str, Any], role: str) -> str:
        from mrtd.pki.status import RENEW, RENEW_BY_REQUEST

        if role == "csca":
            return ("the CSCA lives at another site: import its new certificate there" if state.get("csca") == "external"
                    else f"run `{RENEW['csca']}` (or `mrtd pki init` for a new PKI)")
        if state.get("csca") == "external":
            return f"run `{RENEW_BY_REQUEST.format(role=role)}`"
        return f"run `{RENEW.get(role, 'mrtd pki issue ' + role)}`"

    def signer_for(self, role: str, passphrase: bytes, *, common_name: str | None = None) -> tuple[Signer, x509.Certificate]:
        """The signer of the current `role` key and its certificate; refuses outside the usage period.
        `passphrase` is that key's own secret (its passphrase, or its token's PIN). `common_name` picks one
        seal signer among several (the 2 characters after the country in the seal's signer identifier)."""
        state = self._load()
        rec = self._current(state, role, self.now(), common_name)
        signer = self._open_key(rec.key, passphrase, role)
        self._log("key-use", role=role, key=signer.key_id, serial=rec.serial)
        return signer, self.certificate(rec)

    def default_algorithm(self, role: str, algorithm: str | None = None) -> str:
        """The algorithm of a new `role` key: the one asked for, refused if the role's format forbids it;
        else the site's (an EC CSCA's curve) when the format allows it, else the format's first."""
        state = self._load()
        allowed = profile(role).algorithms
        if algorithm is not None:
            if allowed and algorithm not in allowed:
                raise ProfileError(f"algorithm: a {profile(role).title} cannot use {algorithm} "
                                   f"({profile(role).clause}: {', '.join(allowed)})")
            return algorithm
        # End-entity keys follow an EC CSCA's curve; under an RSA CSCA they default to P-256 (seal
        # signers must be EC anyway, and EC keeps EF.SOD signatures small).
        site = state["algorithm"] if state["algorithm"].startswith("ecdsa") else DEFAULT_ALGORITHM
        return site if not allowed or site in allowed else allowed[0]

    def issue(self, role: str, passphrase: bytes, *, key_secret: bytes | None = None, token: Pkcs11Config | None = None,
              common_name: str | None = None, algorithm: str | None = None,
              document_types: tuple[str, ...] = ("P",), usage_months: int | None = None,
              document_validity_years: int | None = None, validity_years: int | None = None) -> CertRecord:
        """Issue a new end-entity key and certificate under the current CSCA, opened with `passphrase`.

        The new key gets its own secret: `key_secret` (its file's passphrase), or it is made in `token`
        (whose PIN opens it); never the CSCA's secret. Document Signer: usage period `usage_months`
        (default 3) and validity = usage period + the longest document validity (default from init, 10
        years) (9303-12 §4.1). Seal and VDS-NC signers take `common_name` = the 2 characters after the
        country in the seal's signer identifier."""
        if role not in END_ENTITY_ROLES:
            raise InputError(f"role: {role!r} is not one of {', '.join(END_ENTITY_ROLES)}")
        alg = self.default_algorithm(role, algorithm)
        own = token.pin if token is not None else key_secret
        if not own:
            raise InputError(f"{role} key: no secret of its own given (its passphrase, or a token and its PIN)")
        if own == passphrase:
            raise InputError(f"{role} key: its secret is the CSCA's; each key needs its own secret or token, so that "
                             "whoever signs documents cannot sign certificates")
        state = self._load()
        now = self.now()
        csca_rec = self._current(state, "csca", now)
        csca_cert = self.certificate(csca_rec)
        csca_signer = self._open_key(csca_rec.key, passphrase, "csca")
        signer, ref = self._new_key(state, alg, self._label(role, now), own, token)
        cert, usage = self._certify(state, role, signer.public_key(), csca_signer, csca_cert, now,
                                    common_name=common_name, document_types=document_types, usage_months=usage_months,
                                    document_validity_years=document_validity_years, validity_years=validity_years)
        rec = self._record_issued(state, role, cert, ref, usage, csca_rec)
        self._save(state)
        self._log("issue", role=role, key=signer.key_id, serial=rec.serial, issuer_key=csca_signer.key_id,
                  issuer_serial=csca_rec.serial)
        return rec

    def _certify(self, state: dict[str, Any], role: str, public_key: PublicKey, csca_signer: Signer,
                 csca_cert: x509.Certificate, now: datetime, *, common_name: str | None,
                 document_types: tuple[str, ...], usage_months: int | None, document_validity_years: int | None,
                 validity_years: int | None, requested: x509.Name | None = None,
                 ) -> tuple[x509.Certificate, tuple[datetime | None, datetime | None] | None]:
        """The certificate of a `role` key under the CSCA: its subject, usage period and validity by role."""
        prof = profile(role)
        country = state["country"]
        usage: tuple[datetime | None, datetime | None] | None
        if role == "ds":
            months = usage_months or prof.private_key_usage_months or 3
            end = add_months(now, months)
            usage = (now, end)
            not_after = add_years(end, document_validity_years or state["document_validity_years"])
            subject = certs.make_name(country, common_name or f"DS {country} {now:%Y%m%d}",
                                      organization=state.get("organization"))
            doc_types = document_types
        elif role in ("seal-signer", "vdsnc-signer"):
            if not common_name or len(common_name) != 2:
                raise InputError(f"common_name: a {prof.title} needs a 2-character CN (seal signer identifier)")
            usage = (now, add_years(now, prof.private_key_usage_years or 1))
            not_after = add_years(now, validity_years or prof.validity_years or 6)
            subject = certs.make_name(country, common_name.upper())
            doc_types = ("NV",) if role == "vdsnc-signer" else ()
        else:
            usage = (now, add_years(now, prof.private_key_usage_years or 1))
            not_after = add_years(now, validity_years or prof.validity_years or 5)
            title = "Master List Signer" if role == "masterlist-signer" else "Deviation List Signer"
            subject = certs.make_name(country, common_name or f"{title} {country}", organization=state.get("organization"))
            doc_types = ()
        if not_after > csca_cert.not_valid_after_utc:
            raise StateError(f"{role}: its validity would end after the CSCA's ({csca_cert.not_valid_after_utc:%Y-%m-%d}); "
                             "roll the CSCA over (`mrtd pki rollover`)")
        # A request's own subject is checked against the profile when the certificate is issued.
        spec = certs.CertificateSpec(role, requested or subject, public_key, now, not_after, state["mrz_code"],
                                     usage if prof.emits("privateKeyUsagePeriod") else None, tuple(doc_types),
                                     crl_urls=tuple(certs._crl_urls_of(csca_cert)))
        return certs.issue(spec, certs.Issuer(csca_signer, csca_cert), self._rng, serial=self._serial(state)), usage

    def _record_issued(self, state: dict[str, Any], role: str, cert: x509.Certificate, ref: dict[str, str],
                       usage: tuple[datetime | None, datetime | None] | None, csca_rec: CertRecord | None) -> CertRecord:
        # Rotation: the previous key of this role stops signing; its certificate still verifies.
        for r in state["certificates"]:
            same_signer_id = role not in ("seal-signer", "vdsnc-signer") or r["subject"] == cert.subject.rfc4514_string()
            if r["role"] == role and r["status"] == "active" and same_signer_id:
                r["status"] = "superseded"
        return self._store_cert(state, role, cert, ref, usage, csca_rec.serial if csca_rec else None)

    def rollover(self, passphrase: bytes, *, algorithm: str | None = None, new_secret: bytes | None = None,
                 to_token: Pkcs11Config | None = None) -> tuple[CertRecord, CertRecord]:
        """A new CSCA key and certificate plus a link certificate signed by the current CSCA key (opened with
        `passphrase`). The new key is made in `to_token` (an HSM; its PIN opens it) or else in a file under
        `new_secret` (default: the same secret, so the custodians' shares still open it). Its usage period
        starts 2 days later, so the old key keeps signing until then (9303-12 §5.5)."""
        state = self._load()
        now = self.now()
        old_rec = self._current(state, "csca", now)
        old_cert = self.certificate(old_rec)
        old_signer = self._open_key(old_rec.key, passphrase, "csca")
        alg = algorithm or state["algorithm"]
        if to_token is None and old_rec.key["store"] == "pkcs11":  # a token CSCA's successor stays in its token
            to_token = Pkcs11Config(old_rec.key["module"], old_rec.key["token"], passphrase)
        signer, ref = self._new_key(state, alg, self._label("csca", now), new_secret or passphrase, to_token)
        start = now + ROLLOVER_GRACE
        new_cert = self._csca_cert(state, signer, old_cert.subject, now, start)
        new_rec = self._store_cert(state, "csca", new_cert, ref, (start, add_years(now, state["csca_usage_years"])),
                                   None)
        link = self._link(state, old_signer, old_cert, new_cert)
        link_rec = self._store_cert(state, "link", link, {"store": "none"}, (start, _dt(new_rec.usage_end)),
                                    old_rec.serial)
        # The old CSCA's key stops at the new key's start; its certificate stays valid for what it signed.
        for r in state["certificates"]:
            if r["role"] == "csca" and r["serial"] == old_rec.serial:
                r["usage_end"] = _iso(start)
        self._save(state)
        self._log("rollover", role="csca", key=signer.key_id, serial=new_rec.serial, old_serial=old_rec.serial,
                  link_serial=link_rec.serial, signed_by=old_signer.key_id, store=ref["store"])
        return new_rec, link_rec

    def _link(self, state: dict[str, Any], old_signer: Signer, old_cert: x509.Certificate,
              new_cert: x509.Certificate) -> x509.Certificate:
        serial = self._serial(state)
        pkup = new_cert.extensions.get_extension_for_class(x509.PrivateKeyUsagePeriod).value
        spec = certs.CertificateSpec(
            "link", new_cert.subject, new_cert.public_key(), new_cert.not_valid_before_utc,  # type: ignore[arg-type]
            new_cert.not_valid_after_utc, state["mrz_code"],
            (pkup.not_before.replace(tzinfo=UTC) if pkup.not_before else None,
             pkup.not_after.replace(tzinfo=UTC) if pkup.not_after else None),
            crl_urls=tuple(certs._crl_urls_of(new_cert)))
        return certs.issue(spec, certs.Issuer(old_signer, old_cert), self._rng, serial=serial)

    def revoke(self, serial: str, reason: str) -> CertRecord:
        """Mark a certificate revoked. The reason is kept here and in the log (Part 12 forbids CRL entry
        extensions, so it never goes into the CRL). Publish with `crl` within 48 h (9303-12 §4)."""
        if not reason.strip():
            raise InputError("reason: a revocation needs a reason (it is kept in the site records)")
        state = self._load()
        serial = serial.upper().removeprefix("0X")
        for r in state["certificates"]:
            if r["serial"] == serial:
                if r["role"] in ("csca", "link"):
                    raise StateError(f"{serial}: a CSCA is not revoked through its own CRL; roll it over")
                if r["status"] == "revoked":
                    raise StateError(f"{serial}: already revoked")
                r["status"] = "revoked"
                r["revoked_at"] = _iso(self.now())
                r["reason"] = reason
                self._save(state)
                self._log("revoke", role=r["role"], serial=serial, reason=reason)
                return CertRecord(**r)
        raise InputError(f"serial: no certificate {serial} in this site")

    def crl(self, passphrase: bytes, *, next_update_days: int = 90, force: bool = False) -> x509.CertificateRevocationList:
        """A new full CRL signed by the current CSCA key (CRL number incremented).

        9303-12 §4: at least every 90 days and not more often than every 48 hours, except to publish a
        new revocation (which must be out within 48 hours); `force` overrides the 48-hour rule."""
        if not 1 <= next_update_days <= 90:
            raise InputError("next_update_days: 9303-12 §4 asks for a CRL at least every 90 days")
        state = self._load()
        now = self.now()
        last = _dt(state.get("last_crl_at"))
        if (last is not None and not force and now - last < timedelta(hours=48)
                and not self.unpublished(state, self.latest_crl())):
            raise StateError(f"crl: the last CRL was issued at {last:%Y-%m-%d %H:%M}Z; 9303-12 §4 allows a new "
                             "one within 48 hours only to publish a revocation")
        csca_rec = self._current(state, "csca", now)
        signer = self._open_key(csca_rec.key, passphrase)
        revoked = [crlmod.Revocation(int(r.serial, 16), _dt(r.revoked_at) or now)
                   for r in self._records(state) if r.status == "revoked"]
        state["crl_number"] += 1
        state["last_crl_at"] = _iso(now)
        crl = crlmod.build_crl(self.certificate(csca_rec), signer, number=state["crl_number"], this_update=now,
                               next_update=now + timedelta(days=next_update_days), revoked=revoked)
        write_private(self.root / "crls" / f"crl-{state['crl_number']}.der", crl.public_bytes(serialization.Encoding.DER))
        self._save(state)
        self._log("crl", role="csca", key=signer.key_id, serial=csca_rec.serial, crl_number=state["crl_number"],
                  revoked=len(revoked))
        return crl

    def unpublished(self, state: dict[str, Any], latest: x509.CertificateRevocationList | None) -> list[CertRecord]:
        """The revoked certificates that `latest` (the last CRL) does not list: judged by serial, not by time,
        since a CRL and a revocation can share a second and a clock can step back."""
        on_crl = {entry.serial_number for entry in latest} if latest is not None else set()
        return [r for r in self._records(state) if r.status == "revoked" and int(r.serial, 16) not in on_crl]

    def latest_crl(self) -> x509.CertificateRevocationList | None:
        state = self._load()
        n = state["crl_number"]
        path = self.root / "crls" / f"crl-{n}.der"
        return x509.load_der_x509_crl(path.read_bytes()) if n and path.exists() else None

    def masterlist(self, passphrase: bytes, *, extra: tuple[x509.Certificate, ...] = ()) -> bytes:
        """Our master list: our CSCA certificates and link certificates, plus `extra` (imported CSCAs)."""
        state = self._load()
        signer, signer_cert = self.signer_for("masterlist-signer", passphrase)
        ours = [self.certificate(r) for r in self._records(state) if r.role in ("csca", "link")]
        current = self.certificate(self._current(state, "csca", self.now()))
        der = mlmod.build([*ours, *extra], signer, signer_cert, self.now(), include=[current])
        self.publish("ml", der)
        self._log("masterlist", role="masterlist-signer", key=signer.key_id, entries=len(ours) + len(extra))
        return der

    def publish(self, kind: str, der: bytes) -> Path:
        """Keep a list this site signed (`ml`, `dl`) as the latest of its kind, for `mrtd pki pkd export`."""
        return replace_private(self.root / "published" / f"{kind}-latest.der", der)

    def published(self, kind: str) -> bytes | None:
        path = self.root / "published" / f"{kind}-latest.der"
        return path.read_bytes() if path.exists() else None

    def keep_import(self, kind: str, der: bytes, *, verified: bool, source: str = "") -> str:
        """Keep imported bytes under pki/trust/ (master lists, CSCAs, CRLs: what the trust store reads) or
        pki/pkd/ (Document Signer certificates, deviation lists), and whether they were verified (only
        verified imports may go into a master list we sign). Returns the file's name."""
        import hashlib

        folder = "trust" if kind in TRUST_KINDS else "pkd"
        name = f"{kind}-{hashlib.sha256(der).hexdigest()[:16]}.der"
        write_private(self.root / folder / name, der)
        state = self._load()
        imports = state.setdefault("imports", [])
        if not any(i["file"] == name for i in imports):
            imports.append({"file": name, "folder": folder, "kind": kind, "verified": verified, "source": source,
                            "at": _iso(self.now())})
            self._save(state)
        return name

    def verified_imports(self) -> list[tuple[str, bytes]]:
        """(kind, bytes) of every import that was verified when it came in."""
        out = []
        for i in self._load().get("imports", []):
            path = self.root / i.get("folder", "trust") / i["file"]
            if i["verified"] and path.exists():
                out.append((i["kind"], path.read_bytes()))
        return out

    def trust_store(self) -> TrustStore:
        """Our own CSCAs, link certificates and latest CRL, plus every imported master list / CSCA."""
        store = TrustStore()
        state = self._load()
        for r in self._records(state):
            if r.role in ("csca", "link"):
                store.add_certificate(self.certificate(r), source=r.file)
        latest = self.latest_crl()
        if latest is not None:
            store.add_crl(latest)
        imported = self.root / "trust"
        if imported.exists():
            store.add_path(imported)
        return store

    def import_masterlist(self, der: bytes, *, verify_with: TrustStore | None = None, at: datetime | None = None,
                          unverified: bool = False) -> int:
        """Keep a foreign master list's exact bytes under pki/trust/. Its signature and signer are verified
        first, against `verify_with` or else the site's own trust store, as of `at` (default now); only
        `unverified` skips that, and the key log says so."""
        ml = mlmod.parse(der)
        if not unverified:
            mlmod.verify(ml, verify_with if verify_with is not None else self.trust_store(), at or self.now())
        name = self.keep_import("ml", der, verified=not unverified)
        self._log("masterlist-import", file=name, entries=len(ml.csca_der), verified=not unverified)
        return len(ml.csca_der)

    def list(self) -> list[CertRecord]:
        return self._records(self._load())

    # The audit key signs the audit log's checkpoints (mrtd.issuance.checkpoints). It is no ICAO role, so it has
    # no certificate: its public key is kept here, with every audit key the site ever had so that old
    # checkpoints still verify.

    def new_audit_key(self, secret: bytes, *, token: Pkcs11Config | None = None,
                      algorithm: str | None = None) -> dict[str, Any]:
        """A new audit key (in `token`, whose PIN opens it, or a file under `secret`); the one before stops
        signing. Returns its public record: key_id, algorithm, spki (base64 DER), created, status."""
        state = self._load()
        now = self.now()
        alg = algorithm or (state["algorithm"] if state["algorithm"] in ALGORITHMS else DEFAULT_ALGORITHM)
        signer, ref = self._new_key(state, alg, self._label("audit", now), token.pin if token else secret, token)
        der = signer.public_key().public_bytes(serialization.Encoding.DER,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
        keys = state.setdefault("audit_keys", [])
        for k in keys:
            k["status"] = "superseded" if k["status"] == "active" else k["status"]
        record = {"key_id": signer.key_id, "algorithm": alg, "spki": base64.b64encode(der).decode("ascii"),
                  "key": ref, "created": _iso(now), "status": "active"}
        keys.append(record)
        self._save(state)
        self._log("audit-key", role="audit", key=signer.key_id, store=ref["store"])
        return {k: v for k, v in record.items() if k != "key"}

    def audit_keys(self) -> tuple[dict[str, Any], ...]:
        """Every audit key's public record, oldest first (no key references, nothing secret)."""
        return tuple({k: v for k, v in r.items() if k != "key"} for r in self._load().get("audit_keys", []))

    def has_audit_key(self) -> bool:
        return any(r["status"] == "active" for r in self._load().get("audit_keys", []))

    def secret_in_environment(self, role: str) -> bytes | None:
        """`role`'s key secret from its own environment variable ($MRTD_DS_PASSPHRASE, $MRTD_AUDIT_PIN, ...:
        a PIN when the key is in a token), or None when it is not set. Never prompts: for cron and services."""
        value = os.environ.get(secret_env(role, self.key_in_token(role)))
        return value.encode("utf-8") if value else None

    def audit_signer(self, secret: bytes) -> Signer:
        """The signer of the active audit key, opened with its own secret (passphrase or its token's PIN)."""
        active = [r for r in self._load().get("audit_keys", []) if r["status"] == "active"]
        if not active:
            raise StateError("audit: this site has no audit key; create one with `mrtd audit init-key`")
        return self._open_key(active[-1]["key"], secret, "audit")
