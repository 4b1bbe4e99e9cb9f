"""EF.SOD and EF.CardSecurity signing: every variant we write verifies with us and with `openssl cms`."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from pathlib import Path

import ldskit
import pytest
from conftest import require
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding

from mrtd.asn1.cms import DIGEST_OIDS
from mrtd.asn1.tlv import Tlv, tlv
from mrtd.chip.lds import securityinfos as si
from mrtd.chip.lds.cardsecurity import CardSecurity
from mrtd.chip.lds.sod import ID_LDS_SECURITY_OBJECT, LdsSecurityObject, Sod
from mrtd.errors import EncodingError, ProfileError, SignatureError
from mrtd.pki.signer import HashName, MemorySigner

DGS = {1: b"\x61\x03\x5f\x1f\x00", 2: b"\x75\x02\x01\x02", 15: b"\x6f\x01\x00"}


@pytest.mark.parametrize("kind", ["p256", "p384", "bp256", "rsa"])
@pytest.mark.parametrize("hash_name", [HashName.SHA256, HashName.SHA384, HashName.SHA512])
def test_sod_variants_verify(kind: str, hash_name: HashName) -> None:
    pki = ldskit.make_pki(kind)
    sod = Sod.create(DGS, pki.ds_signer, pki.ds, hash_name=hash_name)
    assert Sod.decode(sod.raw).raw == sod.raw
    lso = sod.security_object
    assert lso.version == 1 and (lso.lds_version, lso.unicode_version) == ("0108", "040000")
    assert lso.hash_algorithm.parameters is None  # Doc 9303-10 §4.6.2.2: no NULL
    assert lso.hash_name == hash_name.value
    for n, data in DGS.items():
        assert lso.hash_of(n) == hashlib.new(hash_name.value, data).digest()
    scheme = sod.verify()
    assert ("RSASSA-PSS" in scheme) == (kind == "rsa")
    sd = sod.signed_data
    assert sd.version == 3 and sd.content_type == ID_LDS_SECURITY_OBJECT
    assert [a.oid for a in sd.digest_algorithms] == [DIGEST_OIDS[hash_name.value]]
    signer = sod.signer_info
    assert signer.version == 1 and signer.issuer is not None  # issuerAndSerialNumber
    assert set(signer.attributes()) == {"1.2.840.113549.1.9.3", "1.2.840.113549.1.9.4"}


def test_sod_v0_has_no_version_info() -> None:
    pki = ldskit.make_pki()
    sod = Sod.create(DGS, pki.ds_signer, pki.ds, lds_version=None, unicode_version=None)
    assert sod.security_object.version == 0 and sod.security_object.lds_version is None
    sod.verify()


def test_sod_with_signing_time() -> None:
    pki = ldskit.make_pki()
    sod = Sod.create(DGS, pki.ds_signer, pki.ds, signing_time=ldskit.NOW)
    assert "1.2.840.113549.1.9.5" in sod.signer_info.attributes()
    sod.verify()


def test_sod_refuses_wrong_signer_and_sha224() -> None:
    pki = ldskit.make_pki()
    other = MemorySigner(ec.generate_private_key(ec.SECP256R1()), "other")
    with pytest.raises(ProfileError, match="not the key of the certificate"):
        Sod.create(DGS, other, pki.ds)
    with pytest.raises(ProfileError, match="SHA-256, SHA-384 or SHA-512"):
        Sod.create(DGS, pki.ds_signer, pki.ds, hash_name=HashName.SHA224)


def test_sod_verify_with_other_certificate_fails() -> None:
    sod = Sod.create(DGS, ldskit.make_pki().ds_signer, ldskit.make_pki().ds)
    with pytest.raises(SignatureError, match="does not verify"):
        sod.verify(ldskit.make_pki("p384").ds)


def test_sod_refuses_mislabelled_groups() -> None:
    pki = ldskit.make_pki()
    with pytest.raises(EncodingError, match="DG2 do not start with its tag 75"):
        Sod.create({1: DGS[1], 2: DGS[1]}, pki.ds_signer, pki.ds)
    with pytest.raises(EncodingError, match="trailing"):
        Sod.create({1: DGS[1] + b"\x00", 2: DGS[2]}, pki.ds_signer, pki.ds)


def test_lso_refuses_too_few_groups() -> None:
    with pytest.raises(Exception, match="2 to 16"):
        LdsSecurityObject.create(HashName.SHA256, {1: b"a"})


@pytest.mark.parametrize(
    ("kind", "hash_name"),
    [("p256", HashName.SHA256), ("p384", HashName.SHA384), ("rsa", HashName.SHA256), ("rsa", HashName.SHA512),
     ("bp256", HashName.SHA256)],
)  # fmt: skip
def test_openssl_accepts_our_sod(kind: str, hash_name: HashName, tmp_path: Path) -> None:
    require(ldskit.openssl() is not None, "openssl CLI")
    pki = ldskit.make_pki(kind)
    image = ldskit.build(pki, hash_name=hash_name)
    sod = Sod.decode(image["EF.SOD"])
    code, content, err = ldskit.openssl_cms_verify(sod.content_info, pki.csca, tmp_path)
    assert code == 0, err
    assert "Verification successful" in err
    assert content == sod.security_object.raw


def test_openssl_refuses_a_changed_sod(tmp_path: Path) -> None:
    require(ldskit.openssl() is not None, "openssl CLI")
    pki = ldskit.make_pki()
    sod = Sod.decode(ldskit.build(pki)["EF.SOD"])
    ci = bytearray(sod.content_info)
    at = ci.index(sod.security_object.raw) + 30
    ci[at] ^= 0x01
    code, _, err = ldskit.openssl_cms_verify(bytes(ci), pki.csca, tmp_path)
    assert code != 0, err


def test_openssl_accepts_card_security(tmp_path: Path) -> None:
    require(ldskit.openssl() is not None, "openssl CLI")
    pki = ldskit.make_pki()
    infos: list[si.SecurityInfo] = [
        si.PaceInfo.create(si.ID_PACE_ECDH_GM_AES_128, 13),
        si.ChipAuthenticationInfo.create(si.ID_CA_ECDH_AES_128),
        si.ChipAuthenticationPublicKeyInfo.create(ec.generate_private_key(ec.SECP256R1()).public_key()),
    ]
    cs = CardSecurity.create(infos, pki.ds_signer, pki.ds)
    assert CardSecurity.decode(cs.raw).raw == cs.raw
    cs.verify()
    code, content, err = ldskit.openssl_cms_verify(cs.raw, pki.csca, tmp_path)
    assert code == 0, err
    assert content == cs.security_infos.raw


def test_openssl_made_sod_verifies_with_us(tmp_path: Path) -> None:
    """An EF.SOD that openssl signs (RSA PKCS#1 v1.5 or ECDSA, openssl's own signed attributes and
    digest identifiers): our reader must accept another issuer's encoding."""
    require(ldskit.openssl() is not None, "openssl CLI")
    import subprocess

    from cryptography.hazmat.primitives import serialization

    from mrtd.asn1.tlv import tlv

    lso = LdsSecurityObject.create(HashName.SHA256, DGS)
    (tmp_path / "lso.der").write_bytes(lso.raw)
    for kind in ("rsa", "p256"):
        pki = ldskit.make_pki(kind)
        key = pki.ds_signer._key  # test-only access to the in-memory key, to hand it to openssl
        (tmp_path / "key.pem").write_bytes(
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        )
        (tmp_path / "ds.pem").write_bytes(pki.ds.public_bytes(serialization.Encoding.PEM))
        out = tmp_path / f"sod-{kind}.der"
        proc = subprocess.run(
            ["openssl", "cms", "-sign", "-binary", "-nodetach", "-outform", "DER", "-econtent_type", ID_LDS_SECURITY_OBJECT,
             "-md", "sha256", "-nosmimecap", "-signer", str(tmp_path / "ds.pem"), "-inkey", str(tmp_path / "key.pem"),
             "-in", str(tmp_path / "lso.der"), "-out", str(out)],
            capture_output=True, text=True, timeout=60, check=False, env={**os.environ, "OPENSSL_CONF": "/dev/null"},
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        sod = Sod.decode(tlv(0x77, out.read_bytes()))
        scheme = sod.verify()
        assert scheme.startswith("RSA PKCS#1 v1.5" if kind == "rsa" else "ECDSA"), scheme
        assert sod.security_object.raw == lso.raw
        assert Tlv.decode(sod.raw).value == out.read_bytes()


def test_sod_signing_time_is_utc() -> None:
    pki = ldskit.make_pki()
    sod = Sod.create(DGS, pki.ds_signer, pki.ds, signing_time=dt.datetime(2051, 1, 1, tzinfo=dt.UTC))
    value = sod.signer_info.attributes()["1.2.840.113549.1.9.5"][0]
    assert value.tag == 0x18 and value.value == b"20510101000000Z"  # GeneralizedTime from 2050


def _explicit_ds(pki: ldskit.Pki) -> x509.Certificate:
    """The test DS certificate rewritten with explicit EC domain parameters (as Doc 9303-12 §5 asks) and
    signed again by the CSCA: cryptography cannot build one, so the DER is assembled here."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec as ec_

    from mrtd.asn1 import der
    from mrtd.asn1.keys import spki

    cert = Tlv.decode(pki.ds.public_bytes(Encoding.DER)).children()
    tbs = list(cert[0].children())
    key = pki.ds_signer.public_key()
    assert isinstance(key, ec_.EllipticCurvePublicKey)
    tbs[6] = Tlv.decode(spki(key, explicit=True))  # [0] version, serial, sig, issuer, validity, subject, SPKI
    tbs_der = der.seq(*(t.raw for t in tbs))
    csca_key = pki.csca_signer._key  # test-only: re-sign the edited certificate body
    assert isinstance(csca_key, ec_.EllipticCurvePrivateKey)
    signature = csca_key.sign(tbs_der, ec_.ECDSA(hashes.SHA384()))
    return x509.load_der_x509_certificate(der.seq(tbs_der, cert[1].raw, tlv(0x03, b"\x00" + signature)))


def test_ds_with_explicit_parameters(tmp_path: Path) -> None:
    pki = ldskit.make_pki()
    ds = _explicit_ds(pki)
    assert b"\x06\x07\x2a\x86\x48\xce\x3d\x01\x01" in ds.public_bytes(Encoding.DER)  # id-prime-field: explicit
    sod = Sod.create(DGS, pki.ds_signer, ds)
    assert sod.verify().startswith("ECDSA")
    from mrtd.chip.passive import passive_authentication

    files = {"EF.SOD": sod.raw, "DG1": DGS[1], "DG2": DGS[2], "DG15": DGS[15]}
    report = passive_authentication(files, pki.trust(), ldskit.NOW)
    assert report.check("sod-signature").passed and report.check("ds-chain:signature").passed, report.as_dict()
    require(ldskit.openssl() is not None, "openssl CLI")
    # OpenSSL 3 refuses explicit EC parameters in certificate paths ("Certificate public key has explicit
    # ECC parameters"), so it checks the CMS signature only (-noverify); the path is checked above.
    code, content, err = ldskit.openssl_cms_verify(sod.content_info, pki.csca, tmp_path)
    assert code != 0 and "explicit ECC parameters" in err
    code, content, err = ldskit.openssl_cms_verify(sod.content_info, pki.csca, tmp_path, extra=("-noverify",))
    assert code == 0, err
    assert content == sod.security_object.raw
