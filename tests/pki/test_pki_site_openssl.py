# ruff: noqa: F811  (pytest fixtures imported from pkikit are parameters here)
"""A site's whole PKI, checked by the system openssl, with file keys and with SoftHSM2 keys."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pkikit import SiteFactory, attime, der, make_site, openssl, pem, softhsm  # noqa: F401

from mrtd.pki.lint import lint_certificate, lint_crl, lint_masterlist

ROLES = [("ds", None), ("seal-signer", "AB"), ("vdsnc-signer", "VN"), ("masterlist-signer", None),
         ("deviationlist-signer", None)]


@pytest.mark.parametrize("algorithm", ["ecdsa-p256", "ecdsa-brainpoolp384r1", "ecdsa-p521", "rsa-pss-3072"])
def test_every_certificate_and_crl_passes_openssl_verify(make_site: SiteFactory, tmp_path: Path, algorithm: str) -> None:
    kit = make_site(algorithm=algorithm)
    s = kit.site
    recs = [kit.issue(role, common_name=cn) for role, cn in ROLES]
    s.revoke(recs[0].serial, "superseded by a new key")
    crl = s.crl(kit.secret)
    csca = s.certificate(next(r for r in s.list() if r.role == "csca"))
    (tmp_path / "csca.pem").write_bytes(pem(csca))
    (tmp_path / "crl.pem").write_bytes(pem(crl))
    at = attime(kit.clock.now + timedelta(hours=1))
    for rec in recs[1:]:
        leaf = tmp_path / f"{rec.role}.pem"
        leaf.write_bytes(pem(s.certificate(rec)))
        r = openssl("verify", "-attime", at, "-CAfile", str(tmp_path / "csca.pem"), "-crl_check",
                    "-CRLfile", str(tmp_path / "crl.pem"), str(leaf))
        assert r.returncode == 0 and ": OK" in r.stdout, (rec.role, r.stdout, r.stderr)
    # the revoked Document Signer is refused by openssl through our CRL
    ds = tmp_path / "ds.pem"
    ds.write_bytes(pem(s.certificate(recs[0])))
    r = openssl("verify", "-attime", at, "-CAfile", str(tmp_path / "csca.pem"), "-crl_check",
                "-CRLfile", str(tmp_path / "crl.pem"), str(ds))
    assert r.returncode != 0 and "revoked" in (r.stdout + r.stderr)
    # and the CRL itself verifies against the CSCA
    r = openssl("crl", "-in", str(tmp_path / "crl.pem"), "-CAfile", str(tmp_path / "csca.pem"), "-noout")
    assert r.returncode == 0 and "verify OK" in (r.stdout + r.stderr), r.stderr


def test_chain_through_a_link_certificate(make_site: SiteFactory, tmp_path: Path) -> None:
    kit = make_site()
    s = kit.site
    old_csca = s.certificate(s.list()[0])
    kit.clock.now += timedelta(days=30)
    new, link = s.rollover(kit.secret)
    kit.clock.now += timedelta(days=3)  # past the 2-day grace: the new key signs
    ds = kit.issue("ds")
    assert ds.issuer_serial == new.serial
    crl = s.crl(kit.secret)
    (tmp_path / "old.pem").write_bytes(pem(old_csca))
    (tmp_path / "link.pem").write_bytes(pem(s.certificate(link)))
    (tmp_path / "ds.pem").write_bytes(pem(s.certificate(ds)))
    (tmp_path / "crl.pem").write_bytes(pem(crl))
    at = attime(kit.clock.now + timedelta(hours=1))
    # A verifier that only trusts the OLD CSCA reaches the new DS through the link certificate.
    r = openssl("verify", "-attime", at, "-CAfile", str(tmp_path / "old.pem"), "-untrusted",
                str(tmp_path / "link.pem"), str(tmp_path / "ds.pem"))
    assert r.returncode == 0 and ": OK" in r.stdout, r.stdout + r.stderr
    report = s.trust_store().validate(s.certificate(ds), kit.clock.now, purpose="ds")
    assert report.ok, report.as_dict()
    only_old = type(s.trust_store())()
    only_old.add_certificate(old_csca)
    only_old.add_certificate(s.certificate(link))
    only_old.add_crl(crl)
    report = only_old.validate(s.certificate(ds), kit.clock.now, purpose="ds", require_crl=True)
    assert report.ok and len(report.path) == 3, report.as_dict()


def test_openssl_cms_verify_accepts_our_master_list(make_site: SiteFactory, tmp_path: Path) -> None:
    kit = make_site()
    s = kit.site
    kit.issue("masterlist-signer")
    ml = s.masterlist(kit.key("masterlist-signer"))
    (tmp_path / "ml.der").write_bytes(ml)
    csca = s.certificate(s.list()[0])
    (tmp_path / "csca.pem").write_bytes(pem(csca))
    r = openssl("cms", "-verify", "-inform", "DER", "-in", str(tmp_path / "ml.der"), "-CAfile",
                str(tmp_path / "csca.pem"), "-attime", attime(kit.clock.now + timedelta(hours=1)),
                "-purpose", "any", "-out", str(tmp_path / "content.der"))
    assert r.returncode == 0 and "Verification successful" in r.stderr, r.stderr
    # the verified content is our CscaMasterList with the CSCA inside, byte for byte
    assert der(csca) in (tmp_path / "content.der").read_bytes()
    r = openssl("cms", "-cmsout", "-print", "-inform", "DER", "-in", str(tmp_path / "ml.der"))
    assert "2.23.136.1.1.2" in r.stdout and "signingTime" in r.stdout


def test_linter_finds_nothing_in_our_own_output(make_site: SiteFactory) -> None:
    kit = make_site()
    s = kit.site
    for role, cn in ROLES:
        kit.issue(role, common_name=cn)
    kit.clock.now += timedelta(days=10)
    s.rollover(kit.secret)
    for rec in s.list():
        cert_der = der(s.certificate(rec))
        assert lint_certificate(cert_der, rec.role) == [], rec.role
        guessed = lint_certificate(cert_der)  # role taken from the certificate's own extensions, and said
        assert [f.rule for f in guessed] == ["role-assumed"] and f"linted as {rec.role}" in guessed[0].message
    s.revoke(s.list()[1].serial, "test")
    assert lint_crl(der(s.crl(kit.secret))) == []
    assert lint_masterlist(s.masterlist(kit.key("masterlist-signer")), at=kit.clock.now) == []


def test_site_holds_no_unencrypted_private_key(make_site: SiteFactory) -> None:
    kit = make_site()
    for role, cn in ROLES:
        kit.issue(role, common_name=cn)
    kit.clock.now += timedelta(days=10)
    kit.site.rollover(kit.secret)
    files = [p for p in kit.path.rglob("*") if p.is_file()]
    key_files = 0
    for p in files:
        data = p.read_bytes()
        assert b"-----BEGIN PRIVATE KEY-----" not in data, p
        assert b"-----BEGIN EC PRIVATE KEY-----" not in data, p
        assert b"-----BEGIN RSA PRIVATE KEY-----" not in data, p
        for secret in {kit.secret, *(kit.key(role) for role, _ in ROLES)}:
            assert secret not in data, f"a secret found in {p}"
        if b"ENCRYPTED PRIVATE KEY" in data:
            key_files += 1
            for loader_input in (data,):
                try:
                    serialization.load_pem_private_key(loader_input, password=None)
                except TypeError:
                    continue  # "password required": encrypted, as it must be
                raise AssertionError(f"{p} loads without a passphrase")
        else:
            try:  # a bare DER key would load without a password
                serialization.load_der_private_key(data, password=None)
            except (ValueError, TypeError):
                pass
            else:
                raise AssertionError(f"{p} is an unencrypted DER private key")
    assert key_files == (0 if kit.backend == "softhsm" else 7)


def test_revoked_and_expired_are_refused_by_our_validation(make_site: SiteFactory) -> None:
    kit = make_site()
    s = kit.site
    ds = kit.issue("ds")
    s.revoke(ds.serial, "key compromise")
    s.crl(kit.secret)
    report = s.trust_store().validate(s.certificate(ds), kit.clock.now + timedelta(minutes=1), purpose="ds")
    assert [c.name for c in report.failed()] == ["crl"]
    other = kit.issue("ds")
    late = kit.clock.now + timedelta(days=365 * 11)
    report = s.trust_store().validate(s.certificate(other), late, purpose="ds")
    assert "validity" in [c.name for c in report.failed()]


def test_signer_for_refuses_outside_the_usage_period(make_site: SiteFactory) -> None:
    from mrtd.errors import KeyAccessError

    kit = make_site()
    s = kit.site
    kit.issue("ds")
    signer, cert = s.signer_for("ds", kit.key("ds"))
    sig = signer.sign(b"document", __import__("mrtd.pki.keys", fromlist=["x"]).default_hash(signer.public_key()))
    assert sig
    pkup = cert.extensions.get_extension_for_class(x509.PrivateKeyUsagePeriod).value
    assert pkup.not_after is not None
    kit.clock.now = pkup.not_after.replace(tzinfo=kit.clock.now.tzinfo) + timedelta(seconds=1)
    try:
        s.signer_for("ds", kit.key("ds"))
    except KeyAccessError as exc:
        assert "usage period" in str(exc)
    else:
        raise AssertionError("signed outside the private key usage period")
    assert kit.key("ds") not in s.log_file.read_bytes() and kit.secret not in s.log_file.read_bytes()


def test_rotation_and_seal_signers_by_identifier(make_site: SiteFactory) -> None:
    kit = make_site()
    s = kit.site
    first = kit.issue("ds")
    kit.clock.now += timedelta(days=80)
    second = kit.issue("ds")
    statuses = {r.serial: r.status for r in s.list()}
    assert statuses[first.serial] == "superseded" and statuses[second.serial] == "active"
    assert s.signer_for("ds", kit.key("ds"))[1].serial_number == int(second.serial, 16)
    ab = kit.issue("seal-signer", common_name="AB")
    cd = kit.issue("seal-signer", common_name="CD")
    assert s.signer_for("seal-signer", kit.key("seal-signer"), common_name="AB")[1].serial_number == int(ab.serial, 16)
    assert s.signer_for("seal-signer", kit.key("seal-signer"), common_name="CD")[1].serial_number == int(cd.serial, 16)
    log = s.log_entries()
    assert all({"time", "actor", "op", "key"} <= set(e) for e in log)
    assert [e["op"] for e in log].count("issue") == 4


def test_new_csca_key_waits_two_days(make_site: SiteFactory) -> None:
    kit = make_site()
    s = kit.site
    old = s.list()[0]
    kit.clock.now += timedelta(days=365)
    new, _ = s.rollover(kit.secret)
    assert kit.issue("ds").issuer_serial == old.serial  # inside the 2-day grace
    kit.clock.now += timedelta(days=2, seconds=1)
    assert kit.issue("ds").issuer_serial == new.serial


def test_crl_cadence_48_hours_unless_a_revocation(make_site: SiteFactory) -> None:
    from mrtd.errors import StateError
    from mrtd.pki.crl import crl_number

    kit = make_site()
    s = kit.site
    ds = kit.issue("ds")
    assert crl_number(s.crl(kit.secret)) == 1
    kit.clock.now += timedelta(hours=1)
    with pytest.raises(StateError, match="48 hours"):
        s.crl(kit.secret)
    s.revoke(ds.serial, "key compromise")
    second = s.crl(kit.secret)  # a revocation is published at once
    assert crl_number(second) == 2 and second.get_revoked_certificate_by_serial_number(int(ds.serial, 16))
    kit.clock.now += timedelta(hours=49)
    assert crl_number(s.crl(kit.secret)) == 3
    assert crl_number(s.latest_crl()) == 3  # type: ignore[arg-type]


def test_crl_cadence_judges_a_revocation_by_whether_the_last_crl_lists_it(make_site: SiteFactory) -> None:
    """Not by the revocation's time: one made in the same second as the CRL that lists it is published
    already, and one recorded after a clock stepped back is not."""
    from mrtd.errors import StateError
    from mrtd.pki.crl import crl_number

    kit = make_site()
    s = kit.site
    first, second = kit.issue("ds"), kit.issue("ds")
    kit.clock.now += timedelta(hours=1)
    s.revoke(first.serial, "key compromise")
    assert crl_number(s.crl(kit.secret)) == 1
    with pytest.raises(StateError, match="48 hours"):  # the same second: nothing left to publish
        s.crl(kit.secret)
    kit.clock.now -= timedelta(minutes=10)  # the clock stepped back (NTP)
    s.revoke(second.serial, "key compromise")
    crl = s.crl(kit.secret)
    assert crl_number(crl) == 2 and crl.get_revoked_certificate_by_serial_number(int(second.serial, 16))
