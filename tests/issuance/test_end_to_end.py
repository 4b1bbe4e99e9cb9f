"""Every example application issued end to end, every output checked by software we did not write:

- EF.SOD: `openssl cms -verify` against the site's CSCA, and the signed content holds DG1's hash;
- the seal: zxing-cpp decodes the PNG to the very bytes the receipt hashed, and `mrtd seal verify` says valid;
- the MRZ: tesseract reads the written page image back (the layouts print check, on the file on disk);
- the chip: personalised through pcscd + vpcd into the simulator running as a separate process on a vpcd
  slot, then read back in a fresh PC/SC session (PACE or BAC, AA, CA, passive authentication) and compared
  byte for byte with the chip/ folder.

Plus one run against PostgreSQL (127.0.0.1:5432, database `test`, a schema of its own).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from clikit import json_result
from conftest import (
    EXAMPLES,
    KEY_SECRETS,
    ROOT,
    SEAL_SYMBOLOGIES,
    SIGNING_SECRETS,
    pcscd_stack,
    require,
    secret_env,
)
from PIL import Image

from mrtd.chip.document import read_files
from mrtd.errors import MrtdError
from mrtd.issuance.application import read_application
from mrtd.issuance.audit import verify_chain
from mrtd.issuance.pipeline import IssueOptions, Issuer, Receipt
from mrtd.issuance.site import SiteConfig, init_site
from mrtd.issuance.states import DocumentState
from mrtd.layouts import load_template
from mrtd.layouts.qa import check_print
from mrtd.model import Application

PASS = b"end-to-end-passphrase"
READER = "Virtual PCD 00 00"
PORT = 35963
SCRIPT = ROOT / "scripts" / "pcscd.sh"
CASES = [p.name for p in sorted(EXAMPLES.glob("*.json"))]
# No ICAO IDB message holds a TD2 MRZ (0x81 MRZ_TD2 is national) and these are no emergency travel documents.
NO_SEAL = {"arnpol-long-name-td2.json": "0x81 MRZ_TD2 is a national message"}


def clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@pytest.fixture(scope="module")
def pcscd() -> Iterator[None]:
    with pcscd_stack():
        yield


_last_stop = [0.0]


@contextmanager
def virtual_card(state: Path) -> Iterator[None]:
    """The simulator as its own process on vpcd slot 0, present to pcscd; killed by its pid afterwards."""
    from mrtd.chip import pcsc

    wait = 1.0 - (time.monotonic() - _last_stop[0])
    if wait > 0:
        time.sleep(wait)  # a card back faster than pcscd's poll can leave the slot stuck
    proc = subprocess.Popen([sys.executable, "-m", "mrtd.chip.sim.vpcd", "--port", str(PORT), "--profile",
                             "mrtd-sim", "--state", str(state)], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        pcsc.wait_for_card(READER, 10)
        _first_answer(pcsc)
        yield
    finally:
        proc.kill()
        proc.wait()
        _last_stop[0] = time.monotonic()


def _first_answer(pcsc: Any) -> None:
    """Wait until the new card answers an APDU: pcscd may report it present before its vpcd link is up
    (seen once under heavy load as `Transaction failed` on the first APDU). SELECT MF changes nothing."""
    deadline = time.monotonic() + 5
    while True:
        try:
            t = pcsc.PcscTransport(READER)
            try:
                t.transmit(bytes.fromhex("00A4000C023F00"))
            finally:
                t.close()
            return
        except MrtdError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> SiteConfig:
    root = tmp_path_factory.mktemp("e2e") / "site"
    return init_site(root, "UTO", secrets=KEY_SECRETS, clock=clock, certificate_country="UT", kdf_log2n=12)


def _cert(site: SiteConfig, role: str) -> Path:
    (path,) = sorted((site.root / "pki" / "certs").glob(f"{role}-*.pem"))
    return path


def _application(case: str) -> Application:
    app = read_application(EXAMPLES / case)
    if app.document.format.is_visa:  # a visa names the passport it goes in and the stay: then it takes a visa seal
        assert app.extra == {"seal.passport_number": "C01X00T47", "seal.duration_of_stay": "90"}
    return app


def _sod_content_info(ef_sod: bytes) -> bytes:
    """EF.SOD is [APPLICATION 23] (0x77) around the CMS ContentInfo: take the value."""
    assert ef_sod[0] == 0x77
    first = ef_sod[1]
    if first < 0x80:
        return ef_sod[2 : 2 + first]
    n = first & 0x7F
    length = int.from_bytes(ef_sod[2 : 2 + n], "big")
    return ef_sod[2 + n : 2 + n + length]


def check_sod_with_openssl(receipt: Receipt, site: SiteConfig, tmp: Path) -> None:
    require(shutil.which("openssl") is not None, "openssl CLI")
    chip = receipt.out_dir / "chip"
    (tmp / "sod.der").write_bytes(_sod_content_info((chip / "EF.SOD").read_bytes()))
    proc = subprocess.run(
        ["openssl", "cms", "-verify", "-inform", "DER", "-in", str(tmp / "sod.der"), "-CAfile",
         str(_cert(site, "csca")), "-purpose", "any", "-binary", "-out", str(tmp / "lso.der")],
        capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "Verification successful" in proc.stderr
    content = (tmp / "lso.der").read_bytes()
    for dg in ("DG1.bin", "DG2.bin"):
        assert hashlib.sha256((chip / dg).read_bytes()).digest() in content


def check_seal_with_zxing(receipt: Receipt, site: SiteConfig) -> None:
    import zxingcpp

    from mrtd.cli.seal import seal as seal_group

    png = receipt.out_dir / "seal.png"
    found = zxingcpp.read_barcodes(Image.open(png), formats=SEAL_SYMBOLOGIES)
    assert len(found) == 1
    assert hashlib.sha256(found[0].bytes).hexdigest() == receipt.data["seal"]["payload_sha256"]
    result = CliRunner().invoke(seal_group, ["verify", str(png), "--trust", str(_cert(site, "csca")), "--certs",
                                             str(_cert(site, "seal-signer")), "--json"])
    assert result.exit_code == 0, result.output
    report = json_result(result.output)
    assert report["verdict"] == "valid"
    seal = receipt.data["seal"]
    assert report["format"] == seal["format"] and report["document_type"] == seal["document_type"]
    if seal["type"] == "mrz":  # the IDB holds the document's own MRZ, as printed and as in DG1
        (message,) = [m for m in report["content"] if m.startswith("MRZ_")]
        assert report["content"][message] == "\n".join(receipt.data["mrz"])
    else:
        assert seal["type"] == "visa" and report["content"]["PASSPORT_NUMBER"] == "C01X00T47"


def check_mrz_with_tesseract(receipt: Receipt) -> None:
    require(shutil.which("tesseract") is not None, "tesseract")
    fmt = receipt.data["document"]["format"]
    template = load_template(fmt.lower())
    pngs = sorted(p.name for p in receipt.out_dir.glob("page*.png"))
    name = "page.png" if pngs == ["page.png"] else f"page-{template.mrz.side}.png"
    with Image.open(receipt.out_dir / name) as im:
        result = check_print(im.convert("RGB"), template, receipt.data["mrz"])
    assert result.ok, result.findings
    assert receipt.checks["print-check"] == "pass"
    pdf = (receipt.out_dir / "page.pdf").read_bytes()
    assert pdf.startswith(b"%PDF-") and len(re.findall(rb"/Type\s*/Page(?!s)", pdf)) == len(pngs)


def check_chip_over_pcsc(receipt: Receipt, issuer: Issuer) -> None:
    from mrtd.chip.pcsc import PcscTransport
    from mrtd.chip.reader import mrz_info_from_dg1, read_chip

    files = read_files(receipt.out_dir / "chip")
    t = PcscTransport(READER)
    try:
        report = read_chip(t, mrz_info_from_dg1(files["DG1"]), issuer.trust, clock())
    finally:
        t.close()
    assert report.ok, report.checks
    pace = {"access-control": "pass"} if "EF.CardAccess" in files else {}  # PACE as the signed DG14 lists it
    assert {c.name: c.status for c in report.checks} == {
        "active-authentication": "pass", "chip-authentication": "pass", "passive-authentication": "pass"} | pace
    assert report.files == files  # byte for byte what the chip/ folder holds
    assert receipt.data["chip"]["reader"] == "named reader"


@pytest.mark.pcsc
@pytest.mark.ocr
@pytest.mark.slow
@pytest.mark.parametrize("case", CASES)
def test_example_issued_end_to_end(case: str, site: SiteConfig, pcscd: None, tmp_path: Path) -> None:
    from mrtd.chip.pcsc import PcscTransport

    app = _application(case)
    with Issuer(site, clock=clock, secrets=SIGNING_SECRETS, options=IssueOptions(actor="e2e")) as issuer:
        if app.document.format.is_visa:
            receipt = issuer.issue(app, tmp_path / "out")
        else:
            with virtual_card(tmp_path / "card.json"):
                receipt = issuer.issue(app, tmp_path / "out", transport_factory=lambda: PcscTransport(READER))
                check_chip_over_pcsc(receipt, issuer)
        record = issuer.store.document(receipt.number)
    assert record.state is DocumentState.ISSUED
    checks = receipt.checks
    assert "fail" not in checks.values()
    if checks["lds"] == "pass":
        check_sod_with_openssl(receipt, site, tmp_path)
    if checks["seal"] == "pass":
        check_seal_with_zxing(receipt, site)
    else:
        assert not (receipt.out_dir / "seal.png").exists()
    if checks["page"] == "pass":
        check_mrz_with_tesseract(receipt)
    else:
        assert checks["page"] == "not-applicable" and app.document.format.value in ("TD2", "MRV-A", "MRV-B")
    if case in NO_SEAL:
        seal_check = next(c for c in receipt.data["checks"] if c["name"] == "seal")
        assert seal_check["status"] == "not-applicable" and NO_SEAL[case] in seal_check["detail"]
        assert not record.seals
    else:
        assert checks["seal"] == "pass"
        expected = ("vds", "visa") if app.document.format.is_visa else ("idb", "mrz")
        assert (receipt.data["seal"]["format"], receipt.data["seal"]["type"]) == expected
        assert [s.kind for s in record.seals] == [expected[0]]


@pytest.mark.postgres
@pytest.mark.slow
def test_one_run_against_postgresql(tmp_path: Path) -> None:
    try:
        import psycopg
    except ImportError:
        psycopg = None  # type: ignore[assignment]
    require(psycopg is not None, "psycopg")
    schema = f"e2e_{uuid.uuid4().hex[:12]}"
    try:
        conn = psycopg.connect("host=127.0.0.1 port=5432 dbname=test", autocommit=True, connect_timeout=3)
    except psycopg.OperationalError:
        conn = None
    require(conn is not None, "PostgreSQL at 127.0.0.1:5432, database test")
    assert conn is not None
    conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        url = f"postgresql://127.0.0.1:5432/test?options=-csearch_path%3D{schema}"
        site = init_site(tmp_path / "site", "UTO", secrets=KEY_SECRETS, clock=clock, certificate_country="UT",
                         database_url=url, kdf_log2n=12)
        assert site.records_url == url and not (tmp_path / "site" / "records.sqlite3").exists()
        with Issuer(site, clock=clock, secrets=SIGNING_SECRETS, options=IssueOptions(render_page=False)) as issuer:
            receipt = issuer.issue(read_application(EXAMPLES / "anna-eriksson-td1.json"), tmp_path / "out")
            assert issuer.store.dialect == "postgresql"
            assert issuer.store.document(receipt.number).state is DocumentState.ISSUED
            assert verify_chain(issuer.store).ok
        assert receipt.data["site"]["records"] == "postgresql"
        tables = conn.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = %s",
                              (schema,)).fetchone()
        assert tables is not None and tables[0] > 0
    finally:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        conn.close()


@pytest.mark.pcsc
@pytest.mark.slow
def test_cli_issue_with_a_named_reader(site: SiteConfig, pcscd: None, tmp_path: Path) -> None:
    from mrtd.cli.issue import issue

    raw = json.loads((EXAMPLES / "anna-eriksson-td1.json").read_text("utf-8"))
    for key in ("portrait", "signature"):
        raw[key] = str((EXAMPLES / raw[key]).resolve())
    raw["extra"] = {"note": "issued through the CLI"}  # another application than the parametrized one
    raw["document"].pop("number")  # which already used the example's number on this site
    application = tmp_path / "application.json"
    application.write_text(json.dumps(raw), encoding="utf-8")
    args = [str(application), "--site", str(site.root), "--out", str(tmp_path / "out"),
            "--reader", READER, "--no-print-check", "--json"]
    with virtual_card(tmp_path / "card.json"):
        result = CliRunner().invoke(issue, args, env=secret_env())
    assert result.exit_code == 0, result.output
    data = json_result(result.output)
    assert data["chip"]["reader"] == "named reader" and data["chip"]["status"] == "personalised"
    card = json.loads((tmp_path / "card.json").read_text("utf-8"))
    assert card["locked"] is True  # the simulator process saved its state: personalised and locked
