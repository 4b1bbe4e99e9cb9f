"""Through the real stack (pyscard -> pcscd -> vpcd -> the virtual card process): Extended Access
Control with `mrtd chip read --is-cert --is-key` as a user runs it, and the JMRTD applet profile refusing
the default document before the first byte with `mrtd chip write`."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent / "lds"))
import eackit
import ldskit
from clikit import envelope, json_result
from test_pcsc_integration import AT, READERS, pcscd, virtual_card  # noqa: F401  (the pcscd fixture)

from mrtd.chip.document import write_folder
from mrtd.chip.fingerprint import wsq_decode
from mrtd.chip.lds.dg3 import Dg3
from mrtd.chip.lds.finger import Compression
from mrtd.chip.lds.securityinfos import ID_CA_ECDH_3DES
from mrtd.pki.cvc.store import CvPki

pytestmark = pytest.mark.pcsc
MRTD = [sys.executable, "-m", "mrtd.cli"]  # this tree's code (the venv's `mrtd` may be another checkout's)
MRZ_INFO = "L898902C3,740812,120415"


def _read(out: Path, trust: Path, *extra: str) -> tuple[int, dict[str, object]]:
    env = {**os.environ, "MRTD_IS_KEY_PASSPHRASE": eackit.PW.decode()}
    proc = subprocess.run([*MRTD, "chip", "read", "--reader", READERS[0], "--mrz-info", MRZ_INFO, "--trust", str(trust),
                           "--out", str(out), "--max-read", "60000", "--json", *extra], capture_output=True, text=True, env=env)
    return proc.returncode, json_result(proc.stdout)


def test_eac_through_pcscd(pcscd: None, tmp_path: Path) -> None:  # noqa: F811
    from mrtd.chip.pcsc import PcscTransport
    from mrtd.chip.perso import personalise
    from mrtd.chip.protocol import perso_commands as pc
    from mrtd.chip.protocol.bac import MrzInfo
    from mrtd.chip.protocol.pace import parse_card_access
    from mrtd.chip.reader import ChipSession
    from mrtd.pki.trust import TrustStore

    eac = eackit.cv_pki(tmp_path / "cv")
    sp = eackit.eac_specimen(eac)
    trust = tmp_path / "csca.pem"
    trust.write_bytes(sp.csca_certificate.public_bytes(Encoding.PEM))
    store = TrustStore()
    store.add_certificate(sp.csca_certificate)
    # an expired terminal certificate of the same PKI, and a terminal of another country's PKI
    cv = CvPki(tmp_path / "cv", "UT")
    _c, expired_chain, expired_key = cv.issue_is(eac.dv.chr, "OLD", 3, 10, eackit.PW, eackit.PW,
                                                 eackit.TODAY - dt.timedelta(days=40), tmp_path / "old")
    foreign = eackit.cv_pki(tmp_path / "foreign", "XA")
    with virtual_card(0, "mrtd-sim", tmp_path / "card.json"):
        t = PcscTransport(READERS[0])
        try:
            report = personalise(sp.image, t, "mrtd-sim", trust=store, at=AT)
            assert report.ok, report.checks
        finally:
            t.close()
        # a valid chain reads DG3 and DG4
        code, out = _read(tmp_path / "valid", trust, "--is-cert", str(eac.chain_file), "--is-key", str(eac.key_file))
        assert code == 0 and out["ok"], out
        checks = {c["name"]: c["status"] for c in out["checks"]}  # type: ignore[union-attr]
        assert checks["terminal-authentication"] == "pass" and checks["passive-authentication"] == "pass"
        assert checks["chip-authentication"] == "pass" and checks["active-authentication"] == "pass"
        dg3 = (tmp_path / "valid" / "DG3.bin").read_bytes()
        assert dg3 == sp.image.files["DG3"] and (tmp_path / "valid" / "DG4.bin").read_bytes() == sp.image.files["DG4"]
        # without Terminal Authentication: not read, and the card refuses a read
        code, out = _read(tmp_path / "plain", trust)
        assert code == 0 and not (tmp_path / "plain" / "DG3.bin").exists()
        t = PcscTransport(READERS[0])
        try:
            s = ChipSession(t)
            s.run_pace(parse_card_access(s.read_card_access() or b"")[0], MrzInfo.parse(MRZ_INFO))
            s.select_applet()
            for fid in (0x0103, 0x0104):
                s.check(pc.select_file(fid), "select")
                assert s.send(pc.read_binary(0, 4), "read").sw == 0x6982
        finally:
            t.close()
        # an expired chain, and another PKI's chain: refused, nothing read
        for name, chain, key in (("expired", expired_chain, expired_key), ("foreign", foreign.chain_file, foreign.key_file)):
            code, out = _read(tmp_path / name, trust, "--is-cert", str(chain), "--is-key", str(key))
            ta = next(c for c in out["checks"] if c["name"] == "terminal-authentication")  # type: ignore[union-attr]
            assert code == 1 and ta["status"] == "fail", (name, ta)
            assert ("6A80" if name == "expired" else "6A88") in ta["detail"]
            assert not (tmp_path / name / "DG3.bin").exists()
    # the finger images decode with NBIS's WSQ decoder and their ISO 19794-4 headers match the images
    for record in Dg3.decode(dg3).records():
        assert record.compression is Compression.WSQ
        (view,) = record.images
        img = wsq_decode(view.image)
        assert img.size == (view.width, view.height) and img.mode == "L"


def test_jmrtd_applet_refuses_the_default_plan_untouched_and_takes_the_one_it_holds(pcscd: None, tmp_path: Path) -> None:  # noqa: F811
    pki = ldskit.make_pki()
    default, holdable = tmp_path / "default", tmp_path / "holdable"
    write_folder(ldskit.build(pki), default)
    write_folder(ldskit.build(pki, aa="rsa-1024", ca="ecdh-p192", pace=False, ca_protocol=ID_CA_ECDH_3DES), holdable)
    trust = pki.write_csca(tmp_path / "csca.pem")
    state = tmp_path / "card.json"
    with virtual_card(1, "jmrtd-applet", state):
        refused = subprocess.run([*MRTD, "chip", "write", str(default), "--reader", READERS[1], "--profile", "jmrtd-applet",
                                  "--json"], capture_output=True, text=True)
        assert refused.returncode == 1
        msg = envelope(refused.stdout)["errors"][0]
        assert msg["rule"] == "profile" and "nothing was sent" in msg["message"] and "secp256r1" in msg["message"]
        written = json.loads(state.read_text())["files"] if state.exists() else {}
        assert written == {}  # the card is untouched
        ok = subprocess.run([*MRTD, "chip", "write", str(holdable), "--reader", READERS[1], "--profile", "jmrtd-applet",
                             "--trust", str(trust), "--json"], capture_output=True, text=True)
        assert ok.returncode == 0, ok.stdout + ok.stderr
        assert {c["name"]: c["status"] for c in json_result(ok.stdout)["checks"]}["chip-authentication"] == "pass"


def test_on_chip_keys_end_to_end(pcscd: None, tmp_path: Path) -> None:  # noqa: F811
    """`[chip] keys = "on-chip"`: the issuing pipeline asks the card (through pcscd + vpcd) for its key
    pairs, builds and signs the LDS around the public keys, personalises, reads back, runs AA and CA, locks;
    no private key is written anywhere (the card process keeps its memory in RAM: no --state file)."""
    import time

    from conftest import EXAMPLES, KEY_SECRETS, SIGNING_SECRETS
    from test_pcsc_integration import PORTS, ROOT, _last_stop

    from mrtd.chip import pcsc
    from mrtd.chip.pcsc import PcscTransport
    from mrtd.issuance.application import read_application
    from mrtd.issuance.pipeline import IssueOptions, Issuer
    from mrtd.issuance.site import init_site, load_site

    now = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)

    root = init_site(tmp_path / "site", "UTO", secrets=KEY_SECRETS, clock=lambda: now, certificate_country="UT", kdf_log2n=12).root
    toml = root / "mrtd.toml"
    toml.write_text(toml.read_text().replace("[chip]\n", '[chip]\nkeys = "on-chip"\n'))
    site = load_site(root)
    assert site.chip_keys == "on-chip"
    since = time.monotonic() - _last_stop.get(0, 0.0)
    if since < 1.0:
        time.sleep(1.0 - since)
    started = time.time() - 1  # the site's own CSCA/DS/seal keys were made before this
    proc = subprocess.Popen([sys.executable, "-m", "mrtd.chip.sim.vpcd", "--port", str(PORTS[0]), "--profile", "mrtd-sim"],
                            stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        pcsc.wait_for_card(READERS[0], 10)
        with Issuer(site, clock=lambda: now, secrets=SIGNING_SECRETS, options=IssueOptions(render_page=False, actor="t")) as issuer:
            receipt = issuer.issue(read_application(EXAMPLES / "anna-eriksson-td3.json"), tmp_path / "out",
                                   transport_factory=lambda: PcscTransport(READERS[0]))
    finally:
        proc.kill()
        proc.wait()
        _last_stop[0] = time.monotonic()
    chip = receipt.as_dict()["chip"]
    checks = {c["name"]: c["status"] for c in chip["checks"]}
    assert chip["status"] == "personalised" and checks["active-authentication"] == "pass"
    assert checks["chip-authentication"] == "pass" and checks["read-back"] == "pass" and checks["lock"] == "pass"
    # no private key file written while issuing: not in the output, the site, or where the card process ran
    # (the shared /tmp is not scanned: other people's tests write keys there at the same time)
    pem_markers = (b"PRIVATE KEY-----", b"ENCRYPTED PRIVATE KEY")
    for folder in (tmp_path, ROOT):
        for path in folder.rglob("*"):
            try:
                if ".venv" in path.parts or not path.is_file() or path.stat().st_mtime < started:
                    continue
                if path.parent == root / "pki" / "keys" and path.name.startswith(("csca-", "ds-", "seal-signer-", "audit-")):
                    continue  # the site's own signing keys (the Document Signer's is made on first use; the audit key's)
                data = path.read_bytes()[:1_000_000]
            except OSError:
                continue
            assert not any(m in data for m in pem_markers), path
    assert not (tmp_path / "out" / "chip" / "keys").exists()
