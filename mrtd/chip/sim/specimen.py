"""A specimen document image for the simulator, tests and benchmarks: the Doc 9303 specimen MRZ
(ERIKSSON / L898902C), a DG2 padded to a chosen size, DG14/DG15 for the keys the profile supports,
EF.COM and an EF.SOD signed by a throw-away self-signed document signer.

Never an issued document: the signer and its certificate exist only in memory.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from mrtd.chip.lds.dg1 import Dg1
from mrtd.chip.lds.dg2 import Dg2, FaceImage, FaceRecord, face_header
from mrtd.chip.lds.dg14 import Dg14
from mrtd.chip.lds.dg15 import Dg15
from mrtd.chip.lds.efcom import EfCom
from mrtd.chip.lds.securityinfos import ChipAuthenticationInfo, ChipAuthenticationPublicKeyInfo
from mrtd.chip.lds.sod import Sod
from mrtd.chip.perso import DEFAULT_PACE, ChipImage
from mrtd.chip.profiles import load_profile
from mrtd.chip.protocol.ca import ca_oid_dotted
from mrtd.chip.protocol.kdf import Cipher
from mrtd.chip.protocol.pace import card_access
from mrtd.pki.signer import HashName, MemorySigner

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
) -> Specimen:
    """A consistent specimen image for `profile` (jmrtd-applet: BAC, RSA-1024 AA, CA on P-256 with
    3DES; mrtd-sim: PACE-GM on P-256, ECDSA AA, CA with AES-128, a CAN)."""
    prof = load_profile(profile)
    at = at or dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    dg1 = Dg1.create(TD3).encode()
    jpeg = b"\xff\xd8\xff\xe0" + random(max(16, dg2_size - 120)) + b"\xff\xd9"
    face = FaceRecord.create([FaceImage(jpeg, 480, 640)]).encode()
    dg2 = Dg2.create([(face_header(), face)]).encode()
    ca_key = ec.generate_private_key(ec.SECP256R1())
    aa_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    if prof.name == "jmrtd-applet":
        aa_key = rsa.generate_private_key(65537, 1024)
        ca_cipher = Cipher.DES3
    else:
        aa_key = ec.generate_private_key(ec.SECP256R1())
        ca_cipher = Cipher.AES128
    dg14 = Dg14.create([
        ChipAuthenticationInfo.create(ca_oid_dotted(ca_cipher), key_id=1),
        ChipAuthenticationPublicKeyInfo.create(ca_key.public_key(), key_id=1),
    ]).encode()
    dg15 = Dg15.create(aa_key.public_key()).encode()
    com = EfCom.create("0108", "040000", [0x61, 0x75, 0x6E, 0x6F]).encode()
    ds_key = ec.generate_private_key(ec.SECP256R1())
    csca, cert = _certificates(ec.generate_private_key(ec.SECP256R1()), ds_key, at)
    sod = Sod.create({1: dg1, 2: dg2, 14: dg14, 15: dg15}, MemorySigner(ds_key, "specimen-ds"), cert,
                     hash_name=HashName.SHA256).encode()
    files = {"EF.COM": com, "DG1": dg1, "DG2": dg2, "DG14": dg14, "DG15": dg15, "EF.SOD": sod}
    if prof.card_access:
        files["EF.CardAccess"] = card_access(DEFAULT_PACE)
    image = ChipImage(files, aa_key, ca_key, 1, can if prof.can else None)
    return Specimen(image, cert, csca)
