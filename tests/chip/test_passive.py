"""Passive authentication: our documents pass; one changed byte anywhere fails and names the check;
other issuers' encodings (BSI reference SOD) are read; `mrtd chip verify` exits accordingly."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization

sys.path.insert(0, str(Path(__file__).parent / "lds"))
import ldskit
from clikit import envelope
from clikit import json_result as result_of
from conftest import VECTORS

from mrtd.chip.document import write_folder
from mrtd.chip.lds.sod import Sod
from mrtd.chip.passive import Status, passive_authentication
from mrtd.pki.trust import TrustStore

IMAGE = ldskit.build(signature=ldskit.portrait())
PKI = ldskit.make_pki()
DG_NAMES = [n for n in IMAGE.files if n.startswith("DG")]
ALSO = {"DG1": {"dg1-structure", "document-type", "issuer-country"}, "DG12": {"ds-usage-period"}}


def _report(files: dict[str, bytes], trust: TrustStore | None = None, at: dt.datetime = ldskit.NOW):  # type: ignore[no-untyped-def]
    return passive_authentication(files, trust or PKI.trust(), at)


def test_our_document_passes_every_check() -> None:
    report = _report(dict(IMAGE.files))
    assert report.ok, [c.as_dict() for c in report.failed()]
    names = [c.name for c in report.checks]
    for expected in ("sod-structure", "sod-signature", "ds-chain:signature", "ds-chain:validity", "dg-coverage",
                     "document-type", "issuer-country", "ds-usage-period"):  # fmt: skip
        assert expected in names
    assert {f"dg-hash:{n}" for n in DG_NAMES} <= set(names)
    assert all(c.status is Status.PASSED for c in report.checks), [c.as_dict() for c in report.checks if c.status is not Status.PASSED]


@pytest.mark.parametrize("name", DG_NAMES)
def test_one_changed_byte_in_a_data_group_fails_its_hash(name: str) -> None:
    raw = IMAGE.files[name]
    for pos in sorted({0, 1, len(raw) // 2, len(raw) - 1}):
        files = dict(IMAGE.files)
        changed = bytearray(raw)
        changed[pos] ^= 0x01
        files[name] = bytes(changed)
        report = _report(files)
        assert not report.ok
        failed = [c.name for c in report.failed()]
        assert failed[0] == f"dg-hash:{name}", (pos, failed)
        # a damaged DG1 or DG12 also spoils the comparisons made with its contents
        assert set(failed[1:]) <= ALSO.get(name, set()), (pos, failed)


def test_every_changed_byte_of_the_sod_fails() -> None:
    raw = IMAGE.files["EF.SOD"]
    named = {"sod-structure", "sod-signature", "dg-coverage"}
    for pos in range(len(raw)):
        files = dict(IMAGE.files)
        changed = bytearray(raw)
        changed[pos] ^= 0x01
        files["EF.SOD"] = bytes(changed)
        report = _report(files)
        failed = {c.name for c in report.failed()}
        assert failed, f"byte {pos} of EF.SOD changed and every check passed"
        assert failed & named or any(f.startswith(("ds-chain", "dg-hash:")) for f in failed), failed


def test_uncovered_data_group_fails_coverage() -> None:
    files = dict(IMAGE.files)
    files["DG13"] = b"\x6d\x02\x01\x02"
    report = _report(files)
    assert [c.name for c in report.failed()] == ["dg-coverage"]
    assert "DG13" in report.check("dg-coverage").why


def test_missing_group_is_not_a_failure() -> None:
    files = dict(IMAGE.files)
    del files["DG2"]
    report = _report(files)
    assert report.ok and "DG2" in report.check("dg-coverage").why


def test_missing_sod() -> None:
    files = dict(IMAGE.files)
    del files["EF.SOD"]
    report = _report(files)
    assert [c.name for c in report.failed()] == ["sod-structure"]


def test_untrusted_and_expired() -> None:
    other = ldskit.make_pki("p384")
    report = _report(dict(IMAGE.files), trust=other.trust())
    assert {c.name for c in report.failed()} == {"ds-chain:signature"}
    late = _report(dict(IMAGE.files), at=dt.datetime(2040, 1, 1, tzinfo=dt.UTC))
    assert "ds-chain:validity" in {c.name for c in late.failed()}


def test_document_type_and_country_mismatch() -> None:
    visa_only = ldskit.make_pki("p256", "NL", ("V",))
    report = _report(dict(ldskit.build(visa_only).files), trust=visa_only.trust())
    assert [c.name for c in report.failed()] == ["document-type"]
    german = ldskit.make_pki("p256", "DE")
    report = _report(dict(ldskit.build(german).files), trust=german.trust())
    assert [c.name for c in report.failed()] == ["issuer-country"]
    assert "NLD" in report.check("issuer-country").why


def test_issue_date_outside_key_usage() -> None:
    import dataclasses

    late = dataclasses.replace(ldskit.sample_document(), date_of_issue=dt.date(2026, 6, 1))
    report = _report(dict(ldskit.build(document=late).files))
    assert [c.name for c in report.failed()] == ["ds-usage-period"]


def test_rsa_pss_document_passes() -> None:
    pki = ldskit.make_pki("rsa")
    assert _report(dict(ldskit.build(pki).files), trust=pki.trust()).ok


def test_bsi_reference_sod() -> None:
    """Another issuer's files (RSA-PSS, digest ids with NULL, v0): signature and hashes check; the chain
    fails for want of the BSI test CSCA, and the check says so."""
    v = json.loads((VECTORS / "lds" / "lds-examples.json").read_text("utf-8"))["bsi_sod"]
    files = {"EF.SOD": bytes.fromhex(v["EF.SOD"]), "DG1": bytes.fromhex(v["DG1"]), "DG14": bytes.fromhex(v["DG14"])}
    report = passive_authentication(files, PKI.trust(), dt.datetime(2014, 1, 1, tzinfo=dt.UTC))
    assert report.check("sod-signature").passed and "RSASSA-PSS" in report.check("sod-signature").why
    assert report.check("dg-hash:DG1").passed and report.check("dg-hash:DG14").passed
    assert not report.check("ds-chain:signature").passed
    assert report.check("issuer-country").passed  # D<< and C=DE
    assert report.check("document-type").status is Status.NOT_APPLICABLE
    ds = Sod.decode(files["EF.SOD"]).ds_certificate()
    assert ds is not None
    store = TrustStore()
    store.add_certificate(ds)  # trusting the DS itself: a self-contained check of the remaining path logic
    assert passive_authentication(files, store, dt.datetime(2014, 1, 1, tzinfo=dt.UTC)).check("sod-signature").passed


def _cli_folder(tmp_path: Path) -> tuple[Path, Path]:
    folder = tmp_path / "doc"
    write_folder(IMAGE, folder)
    return folder, PKI.write_csca(tmp_path / "csca.pem")


def test_cli_verify_passes(tmp_path: Path) -> None:
    from mrtd.cli.chip import chip

    folder, csca = _cli_folder(tmp_path)
    result = CliRunner().invoke(chip, ["verify", str(folder), "--trust", str(csca), "--at", "2026-01-05"])
    assert result.exit_code == 0, result.output
    assert "passive authentication PASSED" in result.output
    result = CliRunner().invoke(chip, ["verify", str(folder), "--trust", str(csca), "--at", "2026-01-05", "--json"])
    assert result.exit_code == 0 and envelope(result.output)["ok"] is True


@pytest.mark.parametrize("name", ["DG1", "DG2", "DG11", "EF.SOD"])
def test_cli_verify_fails_on_a_changed_byte(tmp_path: Path, name: str) -> None:
    from mrtd.chip.document import file_name
    from mrtd.cli.chip import chip

    folder, csca = _cli_folder(tmp_path)
    path = folder / file_name(name)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    result = CliRunner().invoke(chip, ["verify", str(folder), "--trust", str(csca), "--at", "2026-01-05", "--json"])
    assert result.exit_code == 1, result.output
    payload = result_of(result.output)
    failed = [c["name"] for c in payload["checks"] if not c["passed"]]
    assert payload["ok"] is False and failed
    if name != "EF.SOD":
        assert failed[0] == f"dg-hash:{name}" and set(failed[1:]) <= ALSO.get(name, set())


def test_cli_verify_trusts_a_folder(tmp_path: Path) -> None:
    from mrtd.cli.chip import chip

    folder, _ = _cli_folder(tmp_path)
    trust_dir = tmp_path / "trust"
    trust_dir.mkdir()
    (trust_dir / "csca.der").write_bytes(PKI.csca.public_bytes(serialization.Encoding.DER))
    result = CliRunner().invoke(chip, ["verify", str(folder), "--trust", str(trust_dir), "--at", "2026-01-05"])
    assert result.exit_code == 0, result.output


def test_hashes_cover_the_bytes_as_read() -> None:
    """A data group written with a non-minimal length (BER, as some issuers do) is hashed and checked
    over its exact bytes, never over a re-encoding."""
    from mrtd.asn1.tlv import Tlv
    from mrtd.chip.lds.dg1 import Dg1

    dg1 = Tlv.decode(IMAGE.files["DG1"])
    wide = b"\x61\x82" + len(dg1.value).to_bytes(2, "big") + dg1.value
    assert wide != IMAGE.files["DG1"] and Dg1.decode(wide).encode() == wide
    groups = {**IMAGE.data_groups, 1: wide}
    sod = Sod.create(groups, PKI.ds_signer, PKI.ds)
    files = {**IMAGE.files, "DG1": wide, "EF.SOD": sod.raw}
    assert _report(files).ok
    files["DG1"] = IMAGE.files["DG1"]  # same content, minimal length: not the bytes signed
    assert [c.name for c in _report(files).failed()] == ["dg-hash:DG1"]


def test_revoked_ds_fails_the_chain() -> None:
    from mrtd.pki.crl import Revocation, build_crl

    crl = build_crl(
        PKI.csca, PKI.csca_signer, number=1, this_update=ldskit.NOW - dt.timedelta(hours=1),
        next_update=ldskit.NOW + dt.timedelta(days=30),
        revoked=[Revocation(PKI.ds.serial_number, ldskit.NOW - dt.timedelta(hours=2))],
    )  # fmt: skip
    store = PKI.trust()
    store.add_crl(crl)
    report = _report(dict(IMAGE.files), trust=store)
    assert [c.name for c in report.failed()] == ["ds-chain:crl"]


@pytest.fixture(scope="module")
def cam() -> tuple[dict[str, bytes], TrustStore]:
    """A PACE-CAM document: EF.CardSecurity signed by the Document Signer beside the unsigned EF.CardAccess."""
    from mrtd.chip.protocol.kdf import Cipher
    from mrtd.chip.protocol.pace import Mapping, PaceParams
    from mrtd.chip.sim.specimen import specimen

    sp = specimen("mrtd-sim", 2000, pace=PaceParams(Mapping.CAM, Cipher.AES128, 12))
    trust = TrustStore()
    trust.add_certificate(sp.csca_certificate)
    return dict(sp.image.files), trust


def test_ef_card_security_is_verified_and_holds_ef_card_access(cam: tuple[dict[str, bytes], TrustStore]) -> None:
    files, trust = cam
    report = passive_authentication(files, trust, dt.datetime(2026, 1, 2, tzinfo=dt.UTC))
    check = report.check("card-security")
    assert report.ok and check.status is Status.PASSED and "EF.CardAccess is part of it" in check.why


@pytest.mark.parametrize(
    "name,pos,why",
    [("EF.CardAccess", -1, "altered"),  # the domain parameter id of the PACEInfo
     ("EF.CardSecurity", -40, "EF.CardSecurity")],  # inside the signature
)
def test_an_altered_ef_card_access_or_card_security_fails(
    cam: tuple[dict[str, bytes], TrustStore], name: str, pos: int, why: str
) -> None:
    files, trust = cam
    raw = bytearray(files[name])
    raw[pos] ^= 0x01
    report = passive_authentication(files | {name: bytes(raw)}, trust, dt.datetime(2026, 1, 2, tzinfo=dt.UTC))
    check = report.check("card-security")
    assert not report.ok and check.status is Status.FAILED and why in check.why, check.why
