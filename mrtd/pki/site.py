"""The PKI state of a site folder: certificates, serials, CRL numbers, encrypted keys, key-operation log.

Layout under `<site>/pki/`:
  state.json   certificates (role, serial, validity, usage period, status, file, key reference), the
               serials ever used, the CRL number; rewritten atomically (temp file + rename)
  certs/       one PEM per certificate;  keys/  encrypted PKCS#8 (scrypt) files;  crls/  every CRL
  log.jsonl    append-only, one JSON object per key operation: who, when, what, which key. Never a secret.
Keys in a PKCS#11 token are referenced by module path, token label and key label (the PIN is passed in).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from mrtd.errors import ConfigurationError, InputError, KeyAccessError, StateError
from mrtd.pki import certificates as certs
from mrtd.pki import crl as crlmod
from mrtd.pki import masterlist as mlmod
from mrtd.pki.keys import ALGORITHMS, DEFAULT_SCRYPT_LOG2N, FileSigner
from mrtd.pki.profiles import mrz_code_for, profile
from mrtd.pki.signer import Signer
from mrtd.pki.trust import TrustStore

Clock = Callable[[], datetime]
END_ENTITY_ROLES = ("ds", "seal-signer", "vdsnc-signer", "masterlist-signer", "deviationlist-signer")
ROLLOVER_GRACE = timedelta(days=2)  # 9303-12 §5.5: do not use a new CSCA key for the first 2 days


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
        tmp = self.state_file.with_name("state.json.tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(state, fh, indent=1, sort_keys=True)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.state_file)

    def now(self, clock: Clock | None = None) -> datetime:
        c = clock or self._clock
        if c is None:
            raise ConfigurationError("clock: none given")
        return c().astimezone(UTC).replace(microsecond=0)

    def _log(self, op: str, *, role: str | None = None, key: str | None = None, serial: str | None = None,
             **detail: Any) -> None:
        entry = {"time": _iso(self.now()), "actor": self.actor, "op": op, "role": role, "key": key,
                 "serial": serial, **detail}
        fd = os.open(self.log_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, (json.dumps(entry, sort_keys=True) + "\n").encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)

    def log_entries(self) -> list[dict[str, Any]]:
        if not self.log_file.exists():
            return []
        return [json.loads(line) for line in self.log_file.read_text("utf-8").splitlines() if line.strip()]

    # Keys

    def _new_key(self, state: dict[str, Any], algorithm: str, label: str, secret: bytes) -> tuple[Signer, dict[str, str]]:
        if algorithm not in ALGORITHMS:
            raise InputError(f"algorithm: {algorithm!r} is not one of {', '.join(ALGORITHMS)}")
        p11 = state.get("pkcs11")
        if p11:
            from mrtd.pki import pkcs11

            session = pkcs11.open_session(p11["module"], p11["token"], secret)
            signer: Signer = pkcs11.generate_key(session, algorithm, label)
            ref = {"store": "pkcs11", "module": p11["module"], "token": p11["token"], "label": label}
        else:
            path = self.root / "keys" / f"{label}.p8.pem"
            signer = FileSigner.generate(path, algorithm, secret, key_id=label, scrypt_log2n=self._kdf_log2n)
            ref = {"store": "file", "path": str(path.relative_to(self.root))}
        self._log("key-generate", key=signer.key_id, algorithm=algorithm, store=ref["store"])
        return signer, ref

    def _label(self, role: str, now: datetime) -> str:
        """A unique, non-secret key name (tokens may be shared by several sites)."""
        return f"{role}-{now:%Y%m%d%H%M%S}-{self._rng(4).hex()}"

    def _open_key(self, ref: dict[str, str], secret: bytes) -> Signer:
        if ref["store"] == "pkcs11":
            from mrtd.pki import pkcs11

            session = pkcs11.open_session(ref["module"], ref["token"], secret)
            return pkcs11.Pkcs11Signer(session, ref["label"])
        return FileSigner.load(self.root / ref["path"], secret, key_id=Path(ref["path"]).name.removesuffix(".p8.pem"))

    # Records

    def _records(self, state: dict[str, Any]) -> list[CertRecord]:
        return [CertRecord(**r) for r in state["certificates"]]

    def _store_cert(self, state: dict[str, Any], role: str, cert: x509.Certificate, key: dict[str, str],
                    usage: tuple[datetime | None, datetime | None] | None, issuer_serial: str | None) -> CertRecord:
        serial = f"{cert.serial_number:X}"
        name = f"{role}-{serial}.pem"
        (self.root / "certs").mkdir(parents=True, exist_ok=True)
        (self.root / "certs" / name).write_bytes(cert.public_bytes(serialization.Encoding.PEM))
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
             document_validity_years: int = 10) -> CertRecord:
        """Create the site's PKI and its first (self-signed) CSCA. `passphrase` protects file keys; with
        `pkcs11` the key is generated in the token and `pkcs11.pin` is used instead."""
        if clock is not None:
            self._clock = clock
        if self.exists():
            raise StateError(f"{self.root}: a PKI already exists here")
        country = country.upper()
        code = mrz_code or mrz_code_for(country)
        self.root.mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o700)
        state: dict[str, Any] = {
            "country": country, "mrz_code": code, "algorithm": algorithm, "organization": organization,
            "pkcs11": {"module": pkcs11.module, "token": pkcs11.token} if pkcs11 else None,
            "serials": [], "crl_number": 0, "certificates": [],
            "document_validity_years": document_validity_years,
            "csca_usage_years": csca_usage_years, "csca_validity_years": csca_validity_years,
        }
        secret = pkcs11.pin if pkcs11 else passphrase
        now = self.now()
        signer, ref = self._new_key(state, algorithm, self._label("csca", now), secret)
        subject = certs.make_name(country, common_name or f"CSCA {country}", organization=organization)
        cert = self._csca_cert(state, signer, subject, now, now)
        rec = self._store_cert(state, "csca", cert, ref, (now, add_years(now, csca_usage_years)), None)
        self._save(state)
        self._log("init", role="csca", key=signer.key_id, serial=rec.serial, country=country)
        return rec

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
        if not usable:
            if cands:
                raise KeyAccessError(f"{role}: no key inside its private key usage period at {now:%Y-%m-%d %H:%M:%S} "
                                     "(9303-12 §5); issue a new one")
            raise StateError(f"{role}: no active certificate (none issued, or all revoked/superseded)")
        return max(usable, key=lambda r: (r.usage_start or r.not_before))

    def signer_for(self, role: str, passphrase: bytes, *, common_name: str | None = None) -> tuple[Signer, x509.Certificate]:
        """The signer of the current `role` key and its certificate; refuses outside the usage period.
        `passphrase` is the key passphrase, or the PKCS#11 PIN for a token site. `common_name` picks one
        seal signer among several (the 2 characters after the country in the seal's signer identifier)."""
        state = self._load()
        rec = self._current(state, role, self.now(), common_name)
        signer = self._open_key(rec.key, passphrase)
        self._log("key-use", role=role, key=signer.key_id, serial=rec.serial)
        return signer, self.certificate(rec)

    def issue(self, role: str, passphrase: bytes, *, common_name: str | None = None, algorithm: str | None = None,
              document_types: tuple[str, ...] = ("P",), usage_months: int | None = None,
              document_validity_years: int | None = None, validity_years: int | None = None) -> CertRecord:
        """Issue a new end-entity key and certificate under the current CSCA.

        Document Signer: usage period `usage_months` (default 3) and validity = usage period + the
        longest document validity (default from init, 10 years) (9303-12 §4.1). Seal and VDS-NC signers
        take `common_name` = the 2 characters after the country in the seal's signer identifier."""
        if role not in END_ENTITY_ROLES:
            raise InputError(f"role: {role!r} is not one of {', '.join(END_ENTITY_ROLES)}")
        state = self._load()
        now = self.now()
        csca_rec = self._current(state, "csca", now)
        csca_cert = self.certificate(csca_rec)
        csca_signer = self._open_key(csca_rec.key, passphrase)
        prof = profile(role)
        # End-entity keys follow an EC CSCA's curve; under an RSA CSCA they default to P-256 (seal
        # signers must be EC anyway, and EC keeps EF.SOD signatures small).
        alg = algorithm or (state["algorithm"] if state["algorithm"].startswith("ecdsa") else "ecdsa-p256")
        label = self._label(role, now)
        signer, ref = self._new_key(state, alg, label, passphrase)
        issuer = certs.Issuer(csca_signer, csca_cert)
        country = state["country"]
        serial = self._serial(state)
        usage: tuple[datetime | None, datetime | None] | None
        if role == "ds":
            months = usage_months or profile("ds").private_key_usage_months or 3
            usage = (now, add_months(now, months))
            assert usage[1] is not None
            not_after = add_years(usage[1], document_validity_years or state["document_validity_years"])
            subject = certs.make_name(country, common_name or f"DS {country} {now:%Y%m%d}",
                                      organization=state.get("organization"))
            doc_types = document_types
        elif role in ("seal-signer", "vdsnc-signer"):
            if not common_name or len(common_name) != 2:
                raise InputError(f"common_name: a {prof.title} needs a 2-character CN (seal signer identifier)")
            years = prof.private_key_usage_years or 1
            usage = (now, add_years(now, years))
            not_after = add_years(now, validity_years or prof.validity_years or 6)
            subject = certs.make_name(country, common_name.upper())
            doc_types = ("NV",) if role == "vdsnc-signer" else ()
        else:
            years = prof.private_key_usage_years or 1
            usage = (now, add_years(now, years))
            not_after = add_years(now, validity_years or prof.validity_years or 5)
            title = "Master List Signer" if role == "masterlist-signer" else "Deviation List Signer"
            subject = certs.make_name(country, common_name or f"{title} {country}", organization=state.get("organization"))
            doc_types = ()
        if not_after > csca_cert.not_valid_after_utc:
            raise StateError(f"{role}: its validity would end after the CSCA's ({csca_cert.not_valid_after_utc:%Y-%m-%d}); roll the CSCA over")
        spec = certs.CertificateSpec(role, subject, signer.public_key(), now, not_after, state["mrz_code"],
                                     usage if prof.emits("privateKeyUsagePeriod") else None, tuple(doc_types),
                                     crl_urls=tuple(certs._crl_urls_of(csca_cert)))
        cert = certs.issue(spec, issuer, self._rng, serial=serial)
        # Rotation: the previous key of this role stops signing; its certificate still verifies.
        for r in state["certificates"]:
            same_signer_id = role not in ("seal-signer", "vdsnc-signer") or r["subject"] == cert.subject.rfc4514_string()
            if r["role"] == role and r["status"] == "active" and same_signer_id:
                r["status"] = "superseded"
        rec = self._store_cert(state, role, cert, ref, usage, csca_rec.serial)
        self._save(state)
        self._log("issue", role=role, key=signer.key_id, serial=rec.serial, issuer_key=csca_signer.key_id,
                  issuer_serial=csca_rec.serial)
        return rec

    def rollover(self, passphrase: bytes, *, algorithm: str | None = None) -> tuple[CertRecord, CertRecord]:
        """A new CSCA key and certificate plus a link certificate signed by the current CSCA key. The new
        key's usage period starts 2 days later, so the old key keeps signing until then."""
        state = self._load()
        now = self.now()
        old_rec = self._current(state, "csca", now)
        old_cert = self.certificate(old_rec)
        old_signer = self._open_key(old_rec.key, passphrase)
        alg = algorithm or state["algorithm"]
        signer, ref = self._new_key(state, alg, self._label("csca", now), passphrase)
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
                  link_serial=link_rec.serial, signed_by=old_signer.key_id)
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
        if last is not None and not force and now - last < timedelta(hours=48):
            newer = [r for r in self._records(state) if r.status == "revoked" and (_dt(r.revoked_at) or now) >= last]
            if not newer:
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
        (self.root / "crls").mkdir(exist_ok=True)
        (self.root / "crls" / f"crl-{state['crl_number']}.der").write_bytes(crl.public_bytes(serialization.Encoding.DER))
        self._save(state)
        self._log("crl", role="csca", key=signer.key_id, serial=csca_rec.serial, crl_number=state["crl_number"],
                  revoked=len(revoked))
        return crl

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
        self._log("masterlist", role="masterlist-signer", key=signer.key_id, entries=len(ours) + len(extra))
        return der

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
        import hashlib

        (self.root / "trust").mkdir(parents=True, exist_ok=True)
        name = f"ml-{hashlib.sha256(der).hexdigest()[:16]}.der"
        (self.root / "trust" / name).write_bytes(der)
        self._log("masterlist-import", file=name, entries=len(ml.csca_der), verified=not unverified)
        return len(ml.csca_der)

    def list(self) -> list[CertRecord]:
        return self._records(self._load())
