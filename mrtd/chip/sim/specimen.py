"""A specimen document image for the simulator, tests and benchmarks: the Doc 9303 specimen MRZ
(ERIKSSON / L898902C), a DG2 padded to a chosen size, DG14/DG15 for the keys the profile supports,
EF.COM and an EF.SOD signed by a throw-away self-signed document signer.

Never an issued document: the signer and its certificate exist only in memory.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from mrtd.chip.image import ChipImage
from mrtd.chip.lds.cardsecurity import CardSecurity
from mrtd.chip.lds.dg1 import Dg1
from mrtd.chip.lds.dg2 import Dg2, FaceImage, FaceRecord, face_header
from mrtd.chip.lds.dg14 import Dg14
from mrtd.chip.lds.dg15 import Dg15
from mrtd.chip.lds.efcom import EfCom
from mrtd.chip.lds.files import dg_name, dg_tag
from mrtd.chip.lds.securityinfos import (
    ActiveAuthenticationInfo,
    ChipAuthenticationInfo,
    ChipAuthenticationPublicKeyInfo,
    SecurityInfo,
    SecurityInfos,
    TerminalAuthenticationInfo,
)
from mrtd.chip.lds.sod import Sod
from mrtd.chip.profiles import load_profile
from mrtd.chip.protocol.ca import ca_oid_dotted
from mrtd.chip.protocol.curves import Domain
from mrtd.chip.protocol.kdf import Cipher
from mrtd.chip.protocol.pace import Mapping as PaceMapping
from mrtd.chip.protocol.pace import PaceParams, card_access
from mrtd.pki.signer import HashName, MemorySigner

SPECIMEN_PACE = PaceParams(PaceMapping.GM, Cipher.AES128, 12)  # ECDH-GM-AES-128 on NIST P-256

TD3 = (
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
    "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
)


@dataclass(frozen=True)
class Specimen:
    image: ChipImage
    ds_certificate: x509.Certificate
    csca_certificate: x509.Certificate


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "UT"), x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _certificates(
    csca_key: ec.EllipticCurvePrivateKey, ds_key: ec.EllipticCurvePrivateKey, at: dt.datetime
) -> tuple[x509.Certificate, x509.Certificate]:
    """A throw-away CSCA and a DS it signed (Doc 9303-12 shapes, enough for passive authentication)."""
    csca_ski = x509.SubjectKeyIdentifier.from_public_key(csca_key.public_key())
    csca = (
        x509.CertificateBuilder()
        .subject_name(_name("mrtd specimen CSCA")).issuer_name(_name("mrtd specimen CSCA"))
        .public_key(csca_key.public_key()).serial_number(1)
        .not_valid_before(at - dt.timedelta(days=30)).not_valid_after(at + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(csca_ski, critical=False)
        .sign(csca_key, hashes.SHA256())
    )
    ds = (
        x509.CertificateBuilder()
        .subject_name(_name("mrtd specimen DS")).issuer_name(csca.subject)
        .public_key(ds_key.public_key()).serial_number(2)
        .not_valid_before(at - dt.timedelta(days=1)).not_valid_after(at + dt.timedelta(days=365))
        .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(csca_ski), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ds_key.public_key()), critical=False)
        .sign(csca_key, hashes.SHA256())
    )
    return csca, ds


def specimen(
    profile: str = "mrtd-sim",
    dg2_size: int = 20_000,
    *,
    at: dt.datetime | None = None,
    random: Callable[[int], bytes] = os.urandom,
    can: str | None = "123456",
    pace: PaceParams | None = SPECIMEN_PACE,
    extra: Mapping[int, bytes] | None = None,
    cvca: Sequence[bytes] = (),
    ef_cvca: bytes | None = None,
    chip_date: dt.date | None = None,
) -> Specimen:
    """A consistent specimen image for `profile` (jmrtd-applet: BAC, RSA-1024 AA, CA on P-192 with
    3DES; mrtd-sim: PACE (`pace`, GM on P-256 by default), ECDSA AA, CA on the PACE curve with AES-128, a
    CAN; PACE-CAM adds EF.CardSecurity). `extra` data groups (DG3, DG4, ...) are added and signed;
    `cvca`/`ef_cvca` give the chip a Terminal Authentication trust point and DG14 its
    TerminalAuthenticationInfo."""
    prof = load_profile(profile)
    at = at or dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    dgs: dict[int, bytes] = {1: Dg1.create(TD3).encode()}
    jpeg = b"\xff\xd8\xff\xe0" + random(max(16, dg2_size - 120)) + b"\xff\xd9"
    face = FaceRecord.create([FaceImage(jpeg, 480, 640)]).encode()
    dgs[2] = Dg2.create([(face_header(), face)]).encode()
    dgs.update(extra or {})
    aa_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    access: bytes | None = None
    if prof.name == "jmrtd-applet":
        aa_key = rsa.generate_private_key(65537, 1024)
        ca_key = ec.generate_private_key(ec.SECP192R1())  # the applet's key store is 192-bit
        ca_cipher = Cipher.DES3
    else:
        aa_key = ec.generate_private_key(ec.SECP256R1())
        pace_group = pace.domain if pace is not None else None
        curve = pace_group.curve_name if isinstance(pace_group, Domain) else "secp256r1"
        ca_key = ec.generate_private_key(ec.SECP256R1() if curve == "secp256r1" else ec.BrainpoolP256R1())
        ca_cipher = Cipher.AES128
        access = card_access(pace) if pace is not None else None
    ca_infos: list[SecurityInfo] = [
        ChipAuthenticationInfo.create(ca_oid_dotted(ca_cipher), key_id=1),
        ChipAuthenticationPublicKeyInfo.create(ca_key.public_key(), key_id=1),
    ]
    infos = list(ca_infos)
    if isinstance(aa_key, ec.EllipticCurvePrivateKey):
        infos.append(ActiveAuthenticationInfo.create())
    if cvca:
        infos.append(TerminalAuthenticationInfo.create())
    if access is not None:  # DG14 carries EF.CardAccess's SecurityInfos too [Doc 9303-11 §9.2.11]
        infos += SecurityInfos.decode(access).infos
    dgs[14] = Dg14.create(infos).encode()
    dgs[15] = Dg15.create(aa_key.public_key()).encode()
    com = EfCom.create("0108", "040000", [dg_tag(n) for n in sorted(dgs)]).encode()
    ds_key = ec.generate_private_key(ec.SECP256R1())
    csca, cert = _certificates(ec.generate_private_key(ec.SECP256R1()), ds_key, at)
    signer = MemorySigner(ds_key, "specimen-ds")
    sod = Sod.create(dgs, signer, cert, hash_name=HashName.SHA256).encode()
    files = {"EF.COM": com, **{dg_name(n): dgs[n] for n in sorted(dgs)}, "EF.SOD": sod}
    if access is not None:
        files["EF.CardAccess"] = access
        if pace is not None and pace.mapping is PaceMapping.CAM:
            pace_infos = list(SecurityInfos.decode(access).infos)
            files["EF.CardSecurity"] = CardSecurity.create([*pace_infos, *ca_infos], signer, cert).encode()
    if ef_cvca is not None:
        files["EF.CVCA"] = ef_cvca
    image = ChipImage(files, aa_key, ca_key, 1, can if prof.can else None, cvca=tuple(cvca), chip_date=chip_date)
    return Specimen(image, cert, csca)
