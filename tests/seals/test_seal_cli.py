"""`mrtd seal make` and `mrtd seal verify` end to end: a real site PKI, example applications, PNG files."""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from clikit import envelope, json_result
from conftest import EXAMPLES, KEY_SECRETS, secret_env
from sealkit import cert_path, seals_dir

from mrtd.cli.seal import seal
from mrtd.pki.site import PkiSite
from mrtd.seals import barcode


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("seal-site")
    s = PkiSite(path, clock=lambda: datetime.now(UTC), actor="test", kdf_log2n=12, rng=os.urandom)
    s.init("UT", "ecdsa-p256", KEY_SECRETS["csca"], mrz_code="UTO")
    for role, cn in (("seal-signer", "TS"), ("vdsnc-signer", "NC")):
        s.issue(role, KEY_SECRETS["csca"], key_secret=KEY_SECRETS[role], common_name=cn)
    return path


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(seal, list(args), env=secret_env(), catch_exceptions=False)
    return result.exit_code, result.output


def _csca(site: Path) -> Path:
    return next((site / "pki" / "certs").glob("csca-*.pem"))


def _seal_certs(site: Path) -> Path:
    return next((site / "pki" / "certs").glob("seal-signer-*.pem"))


@pytest.mark.parametrize(("fmt", "symbology"), [("vds", "datamatrix"), ("idb", "qr"), ("vdsnc", "qr"),
                                                ("vds", "qr"), ("idb", "datamatrix"), ("vdsnc", "datamatrix")])
def test_make_visa_then_verify(site: Path, tmp_path: Path, fmt: str, symbology: str) -> None:
    out = tmp_path / "visa.png"
    code, text = _run("make", "--format", fmt, "--type", "visa", str(EXAMPLES / "alex-mueller-visa-mrva.json"),
                      "--site", str(site), "--out", str(out), "--symbology", symbology,
                      "--passport-number", "C01X00T47", "--duration-of-stay", "90", "--json")
    assert code == 0, text
    made = envelope(text)
    assert made["ok"] and made["command"] == "seal make" and out.exists()
    decoded = barcode.decode_one(barcode.open_image(out))
    assert not decoded.has_eci and decoded.symbology.value == symbology
    # The CSCA alone: VDS-NC and IDB need no lookup (embedded / by SHA-1 from --certs), VDS finds its signer in --certs
    code, text = _run("verify", str(out), "--trust", str(_csca(site)), "--certs", str(_seal_certs(site)), "--json",
                      "--strict")
    report = json_result(text)
    assert code == 0, text
    assert report["verdict"] == "valid" and {c["name"]: c["passed"] for c in report["checks"]}["chain"]
    if fmt == "vds":
        assert report["content"]["MRZ_MRVA"].startswith("V<UTOMUELLER<<ALEX")
        assert report["content"]["PASSPORT_NUMBER"] == "C01X00T47"


def test_make_etd_then_verify(site: Path, tmp_path: Path) -> None:
    out = tmp_path / "etd.png"
    code, text = _run("make", "--format", "vds", "--type", "etd", str(EXAMPLES / "arnpol-long-name-td2.json"),
                      "--site", str(site), "--out", str(out), "--symbology", "datamatrix")
    assert code == 0, text
    code, text = _run("verify", str(out), "--trust", str(_csca(site)), "--certs", str(_seal_certs(site)))
    assert code == 0, text
    assert "verdict: valid" in text and "EMERGENCY_TRAVEL_DOCUMENT" in text
    # --out is never overwritten
    code, text = _run("make", "--format", "vds", "--type", "etd", str(EXAMPLES / "arnpol-long-name-td2.json"),
                      "--site", str(site), "--out", str(out))
    assert code == 1 and "exists" in text
    td3 = tmp_path / "td3.png"
    code, text = _run("make", "--format", "vds", "--type", "etd", str(EXAMPLES / "siobhan-oneill-emergency.json"),
                      "--site", str(site), "--out", str(td3))
    assert code == 1 and "TD2 MRZ" in text and not td3.exists()


def test_verify_exit_codes(site: Path, tmp_path: Path) -> None:
    certs = seals_dir() / "certs"
    resident = seals_dir() / "vds" / "vdstools_residentPermit.hex"
    code, text = _run("verify", str(resident), "--trust", str(certs))
    assert code == 0 and "trusted-signer" in text
    # signed, but the trust path holds no certificate for its signer
    code, text = _run("verify", str(resident), "--trust", str(_csca(site)), "--json")
    assert code == 1 and json_result(text)["verdict"] == "unknown-signer"
    # signer found for lookup only, not trusted
    code, text = _run("verify", str(resident), "--trust", str(_csca(site)), "--certs", str(cert_path("UTTS5B")),
                      "--json")
    assert code == 1 and json_result(text)["verdict"] == "untrusted"
    unsigned = seals_dir() / "vds" / "vdstools_administrativeDocumentV9Basic.bin"
    code, text = _run("verify", str(unsigned), "--trust", str(certs), "--json")
    assert code == 1 and json_result(text)["verdict"] == "unsigned"
    idb_text = seals_dir() / "idb" / "vdstools_Visa.txt"
    assert _run("verify", str(idb_text), "--trust", str(cert_path("UTTS5B")))[0] == 0
    quirky = seals_dir() / "vds" / "vdstools_ankunftsnwPapier2.bin"
    code, text = _run("verify", str(quirky), "--trust", str(certs), "--json")
    assert {f["rule"] for f in json_result(text)["findings"]} == {"v4-with-v3-reference"}
    code, text = _run("verify", str(quirky), "--trust", str(certs), "--strict", "--json")
    assert code == 1 and envelope(text)["errors"][0]["rule"] == "encoding"
    flipped = tmp_path / "flipped.bin"
    raw = bytearray(bytes.fromhex(resident.read_text()))
    raw[-1] ^= 1
    flipped.write_bytes(bytes(raw))
    code, text = _run("verify", str(flipped), "--trust", str(certs), "--json")
    assert code == 1 and json_result(text)["verdict"] == "invalid"
    garbage = tmp_path / "garbage.txt"
    garbage.write_text("hello")
    assert _run("verify", str(garbage), "--trust", str(certs))[0] == 1


def _without_extra(name: str, folder: Path) -> Path:
    """A copy of an example application without its `extra` (images copied along: paths are relative)."""
    data = json.loads((EXAMPLES / name).read_text("utf-8"))
    data.pop("extra", None)
    for sub in ("portraits", "signatures"):
        shutil.copytree(EXAMPLES / sub, folder / sub, dirs_exist_ok=True)
    path = folder / name
    path.write_text(json.dumps(data), "utf-8")
    return path


def test_make_refuses_bad_requests_and_writes_nothing(site: Path, tmp_path: Path) -> None:
    out = tmp_path / "x.png"
    bare_visa = _without_extra("alex-mueller-visa-mrva.json", tmp_path / "apps")
    code, text = _run("make", "--format", "vds", "--type", "visa", str(bare_visa),
                      "--site", str(site), "--out", str(out), "--passport-number", "C01X00T47")
    assert code == 1 and "duration_of_stay" in text and not out.exists()
    code, text = _run("make", "--format", "vds", "--type", "visa", str(EXAMPLES / "siobhan-oneill-emergency.json"),
                      "--site", str(site), "--out", str(out), "--passport-number", "X", "--duration-of-stay", "9")
    assert code == 1 and "not a visa" in text and not out.exists()
    empty = tmp_path / "nosite"
    empty.mkdir()
    code, text = _run("make", "--format", "idb", "--type", "etd", str(EXAMPLES / "arnpol-long-name-td2.json"),
                      "--site", str(empty), "--out", str(out))
    assert code == 1 and "no PKI" in text and not out.exists()
    assert not list(tmp_path.glob(".*.tmp"))
    shutil.rmtree(empty)


@pytest.mark.parametrize(("name", "message", "symbology"), [
    ("anna-eriksson-td1.json", "MRZ_TD1", "qr"), ("anna-eriksson-td3.json", "MRZ_TD3", "datamatrix"),
    ("siobhan-oneill-emergency.json", "MRZ_TD3", "qr"),
])
def test_make_mrz_idb_then_verify(site: Path, tmp_path: Path, name: str, message: str, symbology: str) -> None:
    from mrtd.issuance.application import read_application
    from mrtd.mrz import mrz_lines

    out = tmp_path / "mrz.png"
    code, text = _run("make", "--format", "idb", "--type", "mrz", str(EXAMPLES / name), "--site", str(site),
                      "--out", str(out), "--symbology", symbology, "--json")
    assert code == 0, text
    assert json_result(text)["type"] == "mrz" and out.exists()
    code, text = _run("verify", str(out), "--trust", str(_csca(site)), "--certs", str(_seal_certs(site)), "--json",
                      "--strict")
    assert code == 0, text
    report = json_result(text)
    doc = read_application(EXAMPLES / name).document
    assert report["verdict"] == "valid" and report["document_type"] == f"IDB {message}"
    assert report["content"][message] == "\n".join(mrz_lines(doc))
    assert report["content"].get("CAN") == (doc.can or None)


def test_mrz_kind_is_refused_where_no_profile_has_it(site: Path, tmp_path: Path) -> None:
    out = tmp_path / "mrz.png"
    td3 = str(EXAMPLES / "anna-eriksson-td3.json")
    for fmt, name in (("vds", "Doc 9303-13 VDS"), ("vdsnc", "VDS-NC")):
        code, text = _run("make", "--format", fmt, "--type", "mrz", td3, "--site", str(site), "--out", str(out),
                          "--json")
        assert code == 1 and not out.exists()
        error = envelope(text)["errors"][0]
        assert error["rule"] == "input" and name in error["message"] and "0x07/0x08" in error["message"]
    for other in ("arnpol-long-name-td2.json", "alex-mueller-visa-mrva.json"):
        code, text = _run("make", "--format", "idb", "--type", "mrz", str(EXAMPLES / other), "--site", str(site),
                          "--out", str(out))
        assert code == 1 and "TD1 (0x07) and TD3 (0x08) only" in text and not out.exists()
