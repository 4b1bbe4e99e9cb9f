"""The EAC PKI of a site, in `pki/cvc/`: the CVCA (self-signed CV certificates and link certificates on
rollover), the Document Verifiers it certifies, and the inspection-system certificates a DV issues.

Layout: `cvca/<CHR>.cvcert` + `cvca/<CHR>.key` (encrypted PKCS#8, FileSigner), `dv/<CHR>.cvcert` +
`dv/<CHR>.key`, `links/<CHR>.cvcert`; an inspection system's certificate and key go to the folder the
operator names (they belong to the terminal, not to the site). Certificate Holder References are
country (2) + holder mnemonic (up to 9) + sequence number (5 digits, counted per holder) [Doc 9303-12
Table 12]. Every certificate made is linted before it is written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec

from mrtd.errors import ConfigurationError, InputError, ProfileError, Severity
from mrtd.pki.cvc.certificate import RIGHTS, Chat, CvCertificate, Role, lint_cv_certificate
from mrtd.pki.keys import FileSigner
from mrtd.pki.signer import HashName
from mrtd.private import write_private

CURVES: dict[str, type[ec.EllipticCurve]] = {
    "brainpoolP256r1": ec.BrainpoolP256R1, "brainpoolP384r1": ec.BrainpoolP384R1,
    "brainpoolP512r1": ec.BrainpoolP512R1, "secp256r1": ec.SECP256R1, "secp384r1": ec.SECP384R1,
    "secp521r1": ec.SECP521R1,
}
_HASH = {256: HashName.SHA256, 384: HashName.SHA384, 512: HashName.SHA512, 521: HashName.SHA512}


def rights_of(names: Iterable[str]) -> int:
    out = 0
    for n in names:
        if n.lower() not in RIGHTS:
            raise InputError(f"rights: {n!r} is not one of {', '.join(RIGHTS)}")
        out |= RIGHTS[n.lower()]
    return out


def _check(cert: CvCertificate, issuer: CvCertificate | None) -> CvCertificate:
    errors = [f for f in lint_cv_certificate(cert, issuer) if f.severity is Severity.ERROR]
    if errors:
        raise ProfileError(f"CV certificate {cert.chr}: " + "; ".join(map(str, errors)), errors)
    return cert


class CvPki:
    def __init__(self, pki_root: Path, country: str) -> None:
        self.root = Path(pki_root) / "cvc"
        if len(country) != 2 or not country.isalpha() or not country.isupper():
            raise InputError(f"country: {country!r} is not a two-letter upper-case code [Doc 9303-12 Table 12]")
        self.country = country

    # -- where things are ----------------------------------------------------------------------------------

    def _next_chr(self, mnemonic: str) -> str:
        if not 1 <= len(mnemonic) <= 9 or not mnemonic.isascii() or not mnemonic.isprintable():
            raise InputError(f"holder mnemonic {mnemonic!r}: 1 to 9 printable characters [Doc 9303-12 Table 12]")
        prefix = self.country + mnemonic
        used = [p.stem for d in ("cvca", "dv", "is", "links") for p in (self.root / d).glob(f"{prefix}?????.cvcert")]
        return f"{prefix}{max((int(u[-5:]) for u in used if u[-5:].isdigit()), default=0) + 1:05d}"

    def certificate(self, kind: str, chr_: str) -> CvCertificate:
        path = self.root / kind / f"{chr_}.cvcert"
        if not path.is_file():
            raise ConfigurationError(f"{path}: no such CV certificate")
        return CvCertificate.decode(path.read_bytes())

    def current_cvca(self) -> CvCertificate:
        certs = [CvCertificate.decode(p.read_bytes()) for p in sorted((self.root / "cvca").glob("*.cvcert"))]
        if not certs:
            raise ConfigurationError(f"{self.root}: no CVCA yet (mrtd pki cvca init)")
        return max(certs, key=lambda c: (c.effective, c.chr))

    def _signer(self, kind: str, chr_: str, passphrase: bytes) -> FileSigner:
        return FileSigner.load(self.root / kind / f"{chr_}.key", passphrase, key_id=chr_)

    def _write(self, kind: str, cert: CvCertificate) -> Path:
        path = self.root / kind / f"{cert.chr}.cvcert"
        return write_private(path, cert.raw, exclusive=True)  # never overwrite a certificate

    # -- the use cases ---------------------------------------------------------------------------------

    def init_cvca(self, mnemonic: str, curve: str, days: int, rights: int, passphrase: bytes, today: dt.date) -> CvCertificate:
        """A CVCA key pair and its self-signed certificate with the domain parameters."""
        if any((self.root / "cvca").glob("*.cvcert")):
            raise ConfigurationError(f"{self.root / 'cvca'}: a CVCA exists; roll it over with `mrtd pki cvca link`")
        return self._new_cvca(mnemonic, curve, days, rights, passphrase, today, previous=None)

    def link(self, days: int, passphrase: bytes, today: dt.date, curve: str | None = None) -> tuple[CvCertificate, CvCertificate]:
        """CVCA rollover: a new key, its self-signed certificate, and the link certificate signed by the
        previous key (what chips take to move their trust point) [Doc 9303-11 §7.1.4.3.2]."""
        old = self.current_cvca()
        mnemonic = old.chr[2:-5]
        name = curve or next(n for n, cls in CURVES.items() if isinstance(old.public_key.curve, cls))
        new = self._new_cvca(mnemonic, name, days, old.chat.rights, passphrase, today, previous=old)
        old_signer = self._signer("cvca", old.chr, passphrase)
        assert old.public_key.curve is not None
        link = _check(CvCertificate.create(
            car=old.chr, chr=new.chr, public_key=new.public_key.key(), chat=new.chat, effective=today,
            expiration=new.expiration, signer=old_signer, signer_curve=old.public_key.curve,
            hash_name=_HASH[old.public_key.curve.key_size], with_parameters=True,
        ), old)  # fmt: skip
        self._write("links", link)
        return new, link

    def _new_cvca(self, mnemonic: str, curve: str, days: int, rights: int, passphrase: bytes, today: dt.date,
                  previous: CvCertificate | None) -> CvCertificate:
        if curve not in CURVES:
            raise InputError(f"curve: {curve!r} is not one of {', '.join(CURVES)}")
        chr_ = self._next_chr(mnemonic)
        key = ec.generate_private_key(CURVES[curve]())
        signer = FileSigner(key, chr_)
        signer.save(self.root / "cvca" / f"{chr_}.key", passphrase)
        cert = _check(CvCertificate.create(
            car=chr_, chr=chr_, public_key=key.public_key(), chat=Chat(Role.CVCA, rights), effective=today,
            expiration=today + dt.timedelta(days=days), signer=signer, signer_curve=key.curve,
            hash_name=_HASH[key.curve.key_size], with_parameters=True,
        ), None)  # fmt: skip
        self._write("cvca", cert)
        return cert

    def issue_dv(self, mnemonic: str, domestic: bool, rights: int, days: int, passphrase: bytes, today: dt.date) -> CvCertificate:
        cvca = self.current_cvca()
        assert cvca.public_key.curve is not None
        chr_ = self._next_chr(mnemonic)
        key = ec.generate_private_key(type(cvca.public_key.curve)())
        FileSigner(key, chr_).save(self.root / "dv" / f"{chr_}.key", passphrase)
        cert = _check(CvCertificate.create(
            car=cvca.chr, chr=chr_, public_key=key.public_key(),
            chat=Chat(Role.DV_DOMESTIC if domestic else Role.DV_FOREIGN, rights), effective=today,
            expiration=min(today + dt.timedelta(days=days), cvca.expiration),
            signer=self._signer("cvca", cvca.chr, passphrase), signer_curve=cvca.public_key.curve,
            hash_name=_HASH[cvca.public_key.curve.key_size],
        ), cvca)  # fmt: skip
        self._write("dv", cert)
        return cert

    def issue_is(self, dv_chr: str, mnemonic: str, rights: int, days: int, dv_passphrase: bytes,
                 is_passphrase: bytes, today: dt.date, out_dir: Path) -> tuple[CvCertificate, Path, Path]:
        """An inspection system's key pair and certificate: `out_dir/<CHR>.cvcert` holds the chain the
        terminal sends (the DV's certificate, then its own), `out_dir/<CHR>.key` its encrypted key."""
        dv = self.certificate("dv", dv_chr)
        cvca = self.certificate("cvca", dv.car)
        assert cvca.public_key.curve is not None
        chr_ = self._next_chr(mnemonic)
        key = ec.generate_private_key(type(cvca.public_key.curve)())
        cert = _check(CvCertificate.create(
            car=dv.chr, chr=chr_, public_key=key.public_key(), chat=Chat(Role.IS, rights), effective=today,
            expiration=min(today + dt.timedelta(days=days), dv.expiration),
            signer=self._signer("dv", dv.chr, dv_passphrase), signer_curve=cvca.public_key.curve,
            hash_name=_HASH[cvca.public_key.curve.key_size],
        ), dv)  # fmt: skip
        self._write("is", cert)
        chain = write_private(out_dir / f"{chr_}.cvcert", dv.raw + cert.raw, exclusive=True)
        key_path = out_dir / f"{chr_}.key"
        FileSigner(key, chr_).save(key_path, is_passphrase)
        return cert, chain, key_path
