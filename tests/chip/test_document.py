"""The document image: what build_document_image makes, the folder it is written to and read from, and
`mrtd chip build` end to end (site PKI -> folder -> `mrtd chip verify`)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import shutil
import stat
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from PIL import Image

sys.path.insert(0, str(Path(__file__).parent / "lds"))
import ldskit
from clikit import envelope
from clikit import json_result as result_of
from conftest import EXAMPLES, KEY_SECRETS

from mrtd.chip.document import DocumentImage, file_name, read_files, read_folder, write_folder
from mrtd.chip.lds import securityinfos as si
from mrtd.chip.lds.cardaccess import CardAccess
from mrtd.chip.lds.cardsecurity import CardSecurity
from mrtd.chip.lds.dg1 import Dg1
from mrtd.chip.lds.dg2 import Dg2, FaceImageType, ImageDataType
from mrtd.chip.lds.dg7 import Dg7
from mrtd.chip.lds.dg11 import Dg11
from mrtd.chip.lds.dg12 import Dg12
from mrtd.chip.lds.dg14 import Dg14
from mrtd.chip.lds.dg15 import Dg15
from mrtd.chip.lds.efcom import EfCom
from mrtd.chip.passive import passive_authentication
from mrtd.errors import InputError, KeyAccessError
from mrtd.model import PartialDate


def test_image_contents() -> None:
    img = ldskit.build(signature=ldskit.portrait())
    assert list(img.files) == ["EF.COM", "DG1", "DG2", "DG7", "DG11", "DG12", "DG14", "DG15", "EF.SOD", "EF.CardAccess"]
    com = EfCom.decode(img["EF.COM"])
    assert com.lds_version == "0108" and com.data_groups == (1, 2, 7, 11, 12, 14, 15)
    assert Dg1.decode(img["DG1"]).lines == ldskit.MRZ
    face = Dg2.decode(img["DG2"]).instances[0].face().faces[0]
    assert face.image == ldskit.portrait() and face.data_type is ImageDataType.JPEG
    assert face.face_type is FaceImageType.TOKEN_FRONTAL and face.gender == 2 and (face.width, face.height) == (360, 480)
    assert 15_000 <= len(img["DG2"]) <= 20_000
    assert Dg7.decode(img["DG7"]).images == (ldskit.portrait(),)
    dg11 = Dg11.decode(img["DG11"]).fields
    assert dg11.full_name == "DE<BRUIJN<<WILLEKE<LISELOTTE" and dg11.date_of_birth == PartialDate(1965, 3, 10)
    assert dg11.personal_number == "999999990" and dg11.place_of_birth == "AMSTERDAM"
    dg12 = Dg12.decode(img["DG12"]).fields
    assert dg12.date_of_issue == PartialDate(2026, 1, 5) and dg12.personalisation_time == ldskit.NOW
    infos = Dg14.decode(img["DG14"]).security_infos
    assert infos.of_type(si.PaceInfo)[0].parameter_id == 13
    assert infos.of_type(si.ChipAuthenticationPublicKeyInfo)[0].public_key().public_numbers() == img.ca_key.public_key().public_numbers()  # type: ignore[union-attr]
    assert infos.of_type(si.ActiveAuthenticationInfo)[0].signature_algorithm == si.ECDSA_PLAIN_SHA256
    assert Dg15.decode(img["DG15"]).public_key().public_numbers() == img.aa_key.public_key().public_numbers()  # type: ignore[union-attr]
    assert CardAccess.decode(img["EF.CardAccess"]).pace_infos == infos.of_type(si.PaceInfo)
    assert isinstance(img.aa_key, ec.EllipticCurvePrivateKey) and isinstance(img.ca_key, ec.EllipticCurvePrivateKey)
    assert "aa_key" not in repr(img) or "EllipticCurvePrivateKey" not in repr(img)


def test_image_options() -> None:
    p384 = Dg14.decode(ldskit.build(aa="ecdsa-p384")["DG14"]).security_infos.of_type(si.ActiveAuthenticationInfo)
    assert p384[0].signature_algorithm == si.ECDSA_PLAIN_BY_HASH["sha384"]
    img = ldskit.build(aa="rsa-1024", ca=None, pace=False)
    assert "EF.CardAccess" not in img.files and "DG14" not in img.files
    assert isinstance(img.aa_key, rsa.RSAPrivateKey) and img.aa_key.key_size == 1024 and img.ca_key is None
    img = ldskit.build(aa=None, ca="ecdh-brainpoolp256r1", card_security=True, pace_parameter_id=12)
    assert "DG15" not in img.files and img.aa_key is None
    cs = CardSecurity.decode(img["EF.CardSecurity"])
    cs.verify()
    assert len(cs.security_infos.of_type(si.ChipAuthenticationPublicKeyInfo)) == 1
    assert passive_authentication(img.files, ldskit.make_pki().trust(), ldskit.NOW).ok


def test_jpeg2000_portrait_and_each_image_unique_keys() -> None:
    a = ldskit.build(portrait=ldskit.portrait("jp2"))
    assert Dg2.decode(a["DG2"]).instances[0].face().faces[0].data_type is ImageDataType.JPEG2000
    b = ldskit.build()
    assert a.aa_key.private_numbers() != b.aa_key.private_numbers()  # type: ignore[union-attr]


def test_bad_inputs() -> None:
    with pytest.raises(InputError, match="portrait"):
        ldskit.build(portrait=b"GIF89a....")
    with pytest.raises(InputError, match="key algorithm"):
        ldskit.build(aa="dsa-1024")
    with pytest.raises(InputError, match="not an LDS1"):
        DocumentImage({"DG17": b""})


def test_folder_round_trip(tmp_path: Path) -> None:
    img = ldskit.build()
    out = tmp_path / "doc"
    write_folder(img, out)
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted([*(file_name(n) for n in img.files), "keys"])
    assert "DG1.bin" in names and "EF.SOD" in names and "EF.COM" in names and "EF.CardAccess" in names
    key_file = out / "keys" / "chip-keys.json"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE((out / "keys").stat().st_mode) == 0o700
    back = read_folder(out)
    assert dict(back.files) == dict(img.files)
    assert back.aa_key.private_numbers() == img.aa_key.private_numbers()  # type: ignore[union-attr]
    assert back.ca_key.private_numbers() == img.ca_key.private_numbers()  # type: ignore[union-attr]
    with pytest.raises(InputError, match="refusing to overwrite"):
        write_folder(img, out)
    # plain short names (DG1 without .bin) are read too
    plain = tmp_path / "plain"
    shutil.copytree(out, plain)
    (plain / "DG1.bin").rename(plain / "DG1")
    assert read_files(plain) == dict(img.files)


def test_encrypted_keys(tmp_path: Path) -> None:
    img = ldskit.build()
    out = tmp_path / "doc"
    write_folder(img, out, passphrase=b"correct horse")
    text = (out / "keys" / "chip-keys.json").read_text()
    assert "ENCRYPTED PRIVATE KEY" in text and "BEGIN PRIVATE KEY" not in text
    with pytest.raises(KeyAccessError, match="passphrase is needed"):
        read_folder(out)
    with pytest.raises(KeyAccessError):
        read_folder(out, passphrase=b"wrong")
    back = read_folder(out, passphrase=b"correct horse")
    assert back.aa_key.private_numbers() == img.aa_key.private_numbers()  # type: ignore[union-attr]


def test_write_failure_leaves_nothing(tmp_path: Path) -> None:
    img = ldskit.build()
    broken = dataclasses.replace(img, files={**img.files, "DG3": b"x"})
    object.__setattr__(broken, "aa_key", "not a key")
    with pytest.raises(AttributeError):
        write_folder(broken, tmp_path / "doc")
    assert list(tmp_path.iterdir()) == []


def _site(tmp_path: Path) -> tuple[Path, bytes]:
    from mrtd.issuance.site import init_site

    site = tmp_path / "site"
    secret = KEY_SECRETS["ds"]
    init_site(site, "UTO", secrets=KEY_SECRETS, clock=lambda: dt.datetime.now(dt.UTC), kdf_log2n=10, actor="test",
              certificate_country="UT")
    assert (site / "mrtd.toml").is_file()
    return site, secret


def test_cli_build_then_verify(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mrtd.cli.chip import chip
    from mrtd.pki.site import PkiSite

    site, secret = _site(tmp_path)
    app = json.loads((EXAMPLES / "anna-eriksson-td3.json").read_text("utf-8"))
    app["document"]["date_of_issue"] = dt.datetime.now(dt.UTC).date().isoformat()  # `chip build` signs on the UTC day
    app["portrait"] = str(EXAMPLES / app["portrait"])
    app["signature"] = str(EXAMPLES / app["signature"])
    app_path = tmp_path / "anna.json"
    app_path.write_text(json.dumps(app), "utf-8")
    (tmp_path / "pass.txt").write_bytes(secret + b"\n")
    out = tmp_path / "doc"
    monkeypatch.delenv("MRTD_DS_PASSPHRASE", raising=False)
    monkeypatch.setenv("MRTD_CHIP_KEYS_PASSPHRASE", "keys secret")
    result = CliRunner().invoke(
        chip, ["build", str(app_path), "--site", str(site), "--out", str(out), "--secret-file", f"ds={tmp_path / 'pass.txt'}", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert envelope(result.output)["ok"]
    payload = result_of(result.output)
    assert payload["keys_encrypted"] is True
    assert {"EF.COM", "DG1", "DG2", "DG7", "EF.SOD", "EF.CardAccess"} <= set(payload["files"])
    assert (out / "DG1.bin").is_file() and (out / "EF.SOD").is_file()
    assert secret.decode() not in result.output
    dg7 = Dg7.decode((out / "DG7.bin").read_bytes()).images[0]
    assert Image.open(io.BytesIO(dg7)).format == "JPEG"
    csca = PkiSite(site, clock=lambda: dt.datetime.now(dt.UTC)).trust_store()
    trust = tmp_path / "csca.pem"

    trust.write_bytes(b"".join(c.pem() for c in csca.certificates()))
    result = CliRunner().invoke(chip, ["verify", str(out), "--trust", str(trust)])
    assert result.exit_code == 0, result.output
    assert "PASSED" in result.output
    # the same check against the site's CSCA master list
    ml = tmp_path / "masterlist.der"
    pki = PkiSite(site, clock=lambda: dt.datetime.now(dt.UTC), kdf_log2n=10)
    pki.issue("masterlist-signer", KEY_SECRETS["csca"], key_secret=KEY_SECRETS["masterlist-signer"])
    ml.write_bytes(pki.masterlist(KEY_SECRETS["masterlist-signer"]))
    result = CliRunner().invoke(chip, ["verify", str(out), "--trust", str(ml), "--json"])
    assert result.exit_code == 0, result.output
    assert envelope(result.output)["ok"] is True


def test_cli_build_refuses_bad_passphrase(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mrtd.cli.chip import chip

    site, _ = _site(tmp_path)
    app_path = EXAMPLES / "anna-eriksson-td3.json"
    monkeypatch.setenv("MRTD_DS_PASSPHRASE", "not-the-secret-xyzzy")
    monkeypatch.setenv("MRTD_CHIP_KEYS_PASSPHRASE", "keys secret")
    out = tmp_path / "doc"
    result = CliRunner().invoke(chip, ["build", str(app_path), "--site", str(site), "--out", str(out)])
    assert result.exit_code == 1 and not out.exists()
    assert "xyzzy" not in result.output and "passphrase" in result.output


def test_cli_build_refuses_to_write_the_chip_keys_in_the_clear(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mrtd.cli.chip import chip

    site, secret = _site(tmp_path)
    monkeypatch.setenv("MRTD_DS_PASSPHRASE", secret.decode())
    monkeypatch.delenv("MRTD_CHIP_KEYS_PASSPHRASE", raising=False)
    app_path = EXAMPLES / "anna-eriksson-td3.json"
    out = tmp_path / "doc"
    result = CliRunner().invoke(chip, ["build", str(app_path), "--site", str(site), "--out", str(out)])
    assert result.exit_code == 1 and not out.exists()
    assert "written encrypted" in result.output
    # On a test bench, in the clear only when asked; the date of issue is the day the EF.SOD is signed.
    result = CliRunner().invoke(chip, ["build", str(app_path), "--site", str(site), "--out", str(out),
                                       "--unencrypted-keys", "--json"])
    assert result.exit_code == 0, result.output
    payload = result_of(result.output)
    assert payload["keys_encrypted"] is False
    assert payload["date_of_issue"] == dt.datetime.now(dt.UTC).date().isoformat()
    # A stale date of issue is refused, not replaced.
    stale = json.loads(app_path.read_text("utf-8"))
    stale["document"]["date_of_issue"] = "2024-05-01"
    for kind in ("portrait", "signature"):
        stale[kind] = str(EXAMPLES / stale[kind])
    stale_path = tmp_path / "stale.json"
    stale_path.write_text(json.dumps(stale), "utf-8")
    result = CliRunner().invoke(chip, ["build", str(stale_path), "--site", str(site), "--out", str(tmp_path / "d2"),
                                       "--unencrypted-keys"])
    assert result.exit_code == 1 and "2024-05-01 is not today" in result.output
