"""CV certificates (BSI TR-03110-3, Doc 9303-12 §7.2.2): the codec keeps exact bytes, the lint finds what
the profile forbids, the site's CV PKI issues CVCA -> DV -> IS chains and link certificates that verify,
and random bytes only ever raise MrtdError."""

from __future__ import annotations

import contextlib
import datetime as dt
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given
from hypothesis import strategies as st

from mrtd.errors import EncodingError, MrtdError, SignatureError
from mrtd.pki.cvc.certificate import (
    ID_IS,
    READ_DG3,
    READ_DG4,
    Chat,
    CvCertificate,
    Role,
    bcd_date,
    lint_cv_certificate,
    parse_bcd_date,
    split_certificates,
)
from mrtd.pki.cvc.store import CvPki
from mrtd.pki.signer import MemorySigner

TODAY = dt.date(2026, 1, 5)
PW = b"cv passphrase"


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> tuple[CvPki, CvCertificate, CvCertificate, CvCertificate, Path]:
    root = tmp_path_factory.mktemp("pki")
    cv = CvPki(root, "UT")
    cvca = cv.init_cvca("CVCA", "brainpoolP256r1", 3 * 365, READ_DG3 | READ_DG4, PW, TODAY)
    dv = cv.issue_dv("DVPOLICE", True, READ_DG3 | READ_DG4, 90, PW, TODAY)
    term, chain_file, _key = cv.issue_is(dv.chr, "ISBORDER", READ_DG3 | READ_DG4, 30, PW, PW, TODAY, root / "is")
    return cv, cvca, dv, term, chain_file


def test_bcd_dates() -> None:
    assert bcd_date(dt.date(2026, 1, 5)) == bytes([2, 6, 0, 1, 0, 5])
    assert parse_bcd_date(bytes([2, 6, 0, 1, 0, 5]), "x") == dt.date(2026, 1, 5)
    for bad in (bytes([2, 6, 1, 3, 0, 1]), bytes([2, 6, 0, 1, 0, 0x15]), bytes(5)):
        with pytest.raises(EncodingError):
            parse_bcd_date(bad, "x")


def test_the_chain_verifies_and_round_trips(chain: tuple[CvPki, CvCertificate, CvCertificate, CvCertificate, Path]) -> None:
    _cv, cvca, dv, term, chain_file = chain
    assert cvca.chr == cvca.car == "UTCVCA00001" and cvca.chat.role is Role.CVCA and cvca.public_key.has_parameters
    assert dv.car == cvca.chr and dv.chat.role is Role.DV_DOMESTIC and not dv.public_key.has_parameters
    assert term.car == dv.chr and term.chat == Chat(Role.IS, READ_DG3 | READ_DG4, ID_IS)
    curve = cvca.public_key.curve
    assert isinstance(curve, ec.BrainpoolP256R1)
    cvca.verify(cvca.public_key.key())
    dv.verify(cvca.public_key.key())
    term.verify(dv.public_key.key(curve))
    with pytest.raises(SignatureError):
        term.verify(cvca.public_key.key())
    for c in (cvca, dv, term):
        assert CvCertificate.decode(c.raw).raw == c.raw and c.encode() == c.raw
        assert lint_cv_certificate(c, {term.chr: dv, dv.chr: cvca}.get(c.chr)) == []
    assert [c.chr for c in split_certificates(chain_file.read_bytes())] == [dv.chr, term.chr]
    assert term.raw[:2] == b"\x7f\x21" and term.body[:2] == b"\x7f\x4e"


def test_a_changed_byte_breaks_the_signature(chain: tuple[CvPki, CvCertificate, CvCertificate, CvCertificate, Path]) -> None:
    _cv, cvca, dv, _term, _ = chain
    raw = bytearray(dv.raw)
    at = raw.index(dv.chr.encode())
    raw[at + 2] ^= 0x01
    with pytest.raises(SignatureError):
        CvCertificate.decode(bytes(raw)).verify(cvca.public_key.key())


def test_rollover_link_certificate(tmp_path: Path) -> None:
    cv = CvPki(tmp_path, "UT")
    old = cv.init_cvca("CVCA", "secp256r1", 365, READ_DG3, PW, TODAY)
    new, link = cv.link(365, PW, TODAY + dt.timedelta(days=300))
    assert link.car == old.chr and link.chr == new.chr == "UTCVCA00002"
    link.verify(old.public_key.key())  # the old key vouches for the new one
    new.verify(new.public_key.key())
    assert cv.current_cvca().chr == new.chr
    assert lint_cv_certificate(link, old) == []


def test_lint_finds_profile_breaches() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    signer = MemorySigner(key)
    no_params = CvCertificate.create(
        car="UTCVCA00001", chr="UTCVCA00001", public_key=key.public_key(), chat=Chat(Role.CVCA, 3),
        effective=TODAY, expiration=TODAY - dt.timedelta(days=1), signer=signer, signer_curve=key.curve,
    )  # fmt: skip
    rules = {f.rule for f in lint_cv_certificate(no_params)}
    assert {"domain-parameters", "validity"} <= rules
    bad_ref = CvCertificate.create(
        car="UTCVCA00001", chr="utx", public_key=key.public_key(), chat=Chat(Role.IS, 0x3F),
        effective=TODAY, expiration=TODAY, signer=signer, signer_curve=key.curve, with_parameters=True,
    )  # fmt: skip
    rules = {f.rule for f in lint_cv_certificate(bad_ref, no_params)}
    assert {"holder-reference", "rfu-bits", "domain-parameters"} <= rules


def test_store_refuses_bad_input(tmp_path: Path) -> None:
    from mrtd.errors import ConfigurationError, InputError

    with pytest.raises(InputError):
        CvPki(tmp_path, "uto")
    cv = CvPki(tmp_path, "UT")
    with pytest.raises(ConfigurationError):
        cv.issue_dv("DV", True, READ_DG3, 30, PW, TODAY)  # no CVCA yet
    cv.init_cvca("CVCA", "brainpoolP256r1", 365, READ_DG3, PW, TODAY)
    with pytest.raises(ConfigurationError):
        cv.init_cvca("CVCA", "brainpoolP256r1", 365, READ_DG3, PW, TODAY)  # one CVCA; roll it over instead
    with pytest.raises(MrtdError):
        cv.issue_dv("DV", True, READ_DG3, 30, b"wrong passphrase", TODAY)


@given(st.binary(max_size=300))
def test_random_bytes_raise_only_mrtd_errors(data: bytes) -> None:
    with contextlib.suppress(MrtdError):
        CvCertificate.decode(b"\x7f\x21" + bytes([len(data) & 0x7F]) + data)
