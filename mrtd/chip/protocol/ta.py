"""Terminal Authentication v1 (Doc 9303-11 §7.1, BSI TR-03110): the terminal proves with its CV
certificate chain and private key that it may read fingerprints (DG3) and irises (DG4).

Terminal side (`TerminalAuthTerminal`): for each certificate MSE:Set DST (83 CAR) and PSO:Verify
Certificate (7F4E body, 5F37 signature), then MSE:Set AT (83 terminal CHR), GET CHALLENGE and EXTERNAL
AUTHENTICATE with s = Sign(SK_IFD, ID_IC || r_IC || Comp(PK_DH,IFD)). Chip side (`TaChip`): the
certificate validation of §7.1.4.3 against the chip's trust points and current date, the effective
authorization, and the signature check. Both sans-I/O; secure messaging (after Chip Authentication) is
the session's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric import ec

from mrtd.asn1.tlv import tlv
from mrtd.chip.protocol.apdu import Command
from mrtd.errors import EncodingError, MrtdError, SignatureError
from mrtd.pki.cvc.certificate import READ_DG3, READ_DG4, CvCertificate, Role, objects
from mrtd.pki.signer import MemorySigner, der_ecdsa, raw_ecdsa

CLAUSE = "Doc 9303-11 §7.1"


def set_dst(car: str) -> Command:
    return Command(0x00, 0x22, 0x81, 0xB6, tlv(0x83, car.encode("latin-1")))


def verify_certificate(cert: CvCertificate) -> Command:
    """PSO:Verify Certificate: the body and the signature, without the 7F21 wrapper [§7.1.5.2]."""
    return Command(0x00, 0x2A, 0x00, 0xBE, cert.body + tlv(0x5F37, cert.signature))


def set_at(chr_: str) -> Command:
    return Command(0x00, 0x22, 0x81, 0xA4, tlv(0x83, chr_.encode("latin-1")))


def signed_data(id_ic: bytes, r_ic: bytes, comp_pk_ifd: bytes) -> bytes:
    return id_ic + r_ic + comp_pk_ifd


class TerminalAuthTerminal:
    """`chain`: the certificates from the one the chip's trust point verifies (link, DV) to the terminal's."""

    def __init__(self, chain: Sequence[CvCertificate], terminal_key: ec.EllipticCurvePrivateKey,
                 id_ic: bytes, comp_pk_ifd: bytes) -> None:
        if not chain or chain[-1].chat.role is not Role.IS:
            raise EncodingError("Terminal Authentication: the chain must end with the terminal's certificate [§7.1.2]")
        self.chain = list(chain)
        self.key = terminal_key
        self.id_ic = id_ic
        self.comp_pk_ifd = comp_pk_ifd

    def certificate_commands(self) -> list[Command]:
        out: list[Command] = []
        for cert in self.chain:
            out += [set_dst(cert.car), verify_certificate(cert)]
        return out

    def set_at(self) -> Command:
        return set_at(self.chain[-1].chr)

    def external_authenticate(self, r_ic: bytes) -> Command:
        cert = self.chain[-1]
        der = MemorySigner(self.key).sign(signed_data(self.id_ic, r_ic, self.comp_pk_ifd), cert.hash_name)
        return Command(0x00, 0x82, 0x00, 0x00, raw_ecdsa(der, self.key.curve))


@dataclass
class _Imported:
    cert: CvCertificate
    key: ec.EllipticCurvePublicKey
    rights: int  # effective authorization so far
    domestic: bool


@dataclass
class TaChip:
    """The chip's side: `trust` the CVCA certificates it holds (most recent first), `today` its current date.

    `verify` imports a certificate or raises; `authenticate` checks the terminal's signature and returns
    the effective rights (READ_DG3 | READ_DG4). The current date and the trust points change as §7.1.4.3
    says; the caller keeps `trust` and `today` (the chip's permanent memory).
    """

    trust: list[CvCertificate]
    today: dt.date
    selected: _Imported | None = None
    imported: _Imported | None = field(default=None)

    def _curve(self) -> ec.EllipticCurve:
        for t in self.trust:
            if t.public_key.curve is not None:
                return t.public_key.curve
        raise EncodingError("Terminal Authentication: the trust point has no domain parameters [Doc 9303-12 §7.2.2.3]")

    def set_dst(self, car: str) -> None:
        """Select the key that verifies the next certificate: a trust point or the last imported key."""
        if self.imported is not None and self.imported.cert.chr == car:
            self.selected = self.imported
            return
        for t in self.trust:
            if t.chr == car and (t.expiration >= self.today):
                self.selected = _Imported(t, t.public_key.key(self._curve()), t.chat.rights, True)
                return
        raise LookupError(car)

    def verify(self, body_and_signature: bytes) -> CvCertificate:
        """PSO:Verify Certificate [§7.1.4.3.5]: signature, expiry, import, current date, trust points."""
        parts = list(objects(body_and_signature))
        if [t for t, _, _ in parts] != [0x7F4E, 0x5F37] or self.selected is None:
            raise EncodingError("PSO:Verify Certificate: needs 7F4E and 5F37 after MSE:Set DST [§7.1.5.2]")
        cert = CvCertificate.decode(tlv(0x7F21, parts[0][2] + parts[1][2]))
        issuer = self.selected
        if cert.car != issuer.cert.chr:
            raise SignatureError(f"{cert.chr}: its CAR {cert.car} is not the selected key {issuer.cert.chr}")
        cert.verify(issuer.key)
        role = cert.chat.role
        if role is Role.CVCA and issuer.cert.chat.role is not Role.CVCA:
            raise SignatureError(f"{cert.chr}: a CVCA certificate from a non-CVCA issuer")
        if role is not Role.CVCA and cert.expiration < self.today:
            raise SignatureError(f"{cert.chr}: expired on {cert.expiration} (the chip's date is {self.today}) [§7.1.4.3.3]")
        rights = issuer.rights & cert.chat.rights
        key = cert.public_key.key(self._curve())
        # accurate certificates move the chip's date forward: CVCA link, DV, and terminal certificates
        # of a domestic DV [§7.1.4.3.3]
        accurate = role in (Role.CVCA, Role.DV_DOMESTIC, Role.DV_FOREIGN) or (role is Role.IS and issuer.domestic)
        if accurate and cert.effective > self.today:
            self.today = cert.effective
        if role is Role.CVCA:  # a link certificate: a new trust point, at most two kept [§7.1.4.3.4]
            self.trust = [cert, *[t for t in self.trust if t.chr != cert.chr]][:2]
            self.imported = None
        else:
            self.imported = _Imported(cert, key, rights, role is not Role.DV_FOREIGN and issuer.domestic)
        self.selected = None
        return cert

    def terminal(self, chr_: str) -> _Imported:
        """MSE:Set AT: the terminal key just imported."""
        if self.imported is None or self.imported.cert.chr != chr_ or self.imported.cert.chat.role is not Role.IS:
            raise LookupError(chr_)
        return self.imported

    def authenticate(self, chr_: str, signature: bytes, id_ic: bytes, r_ic: bytes, comp_pk_ifd: bytes) -> int:
        """The effective rights when `signature` verifies, else SignatureError [§7.1.4.3.6]."""
        term = self.terminal(chr_)
        from cryptography.exceptions import InvalidSignature

        from mrtd.pki.signer import hash_algorithm

        try:
            term.key.verify(der_ecdsa(signature), signed_data(id_ic, r_ic, comp_pk_ifd),
                            ec.ECDSA(hash_algorithm(term.cert.hash_name)))
        except (InvalidSignature, MrtdError, ValueError) as exc:
            raise SignatureError(f"Terminal Authentication: the signature of {chr_} does not verify [{CLAUSE}]") from exc
        return term.rights & (READ_DG3 | READ_DG4)


