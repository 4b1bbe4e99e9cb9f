"""M-of-N custody of the CSCA secret (SLIP-39 shares) and ceremony transcripts."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mrtd.errors import InputError, KeyAccessError
from mrtd.pki import custody

NAMES = ["alice", "bob", "carol"]


def test_two_of_three_recover_the_secret_and_one_does_not() -> None:
    kept, shares = custody.split(b"csca passphrase", NAMES, 2, "csca-1")
    assert kept.describe() == "2 of 3 (alice, bob, carol)"
    assert len(shares["alice"].split()) == 20  # a 128-bit SLIP-39 share: 20 words
    for pair in (("alice", "bob"), ("bob", "carol"), ("alice", "carol")):
        assert custody.combine(kept, {n: shares[n] for n in pair}) == b"csca passphrase"
    with pytest.raises(KeyAccessError, match="1 share\\(s\\) given; the CSCA key needs 2 of 3"):
        custody.combine(kept, {"carol": shares["carol"]})


def test_a_share_is_checked_against_its_custodian() -> None:
    kept, shares = custody.split(b"pin-1234", NAMES, 2, "csca-1")
    with pytest.raises(KeyAccessError, match="not bob's share"):
        custody.combine(kept, {"alice": shares["alice"], "bob": shares["carol"]})
    words = shares["bob"].split()
    words[5] = "academic" if words[5] != "academic" else "acid"
    with pytest.raises(KeyAccessError, match="custodian bob: the share is not valid"):
        custody.combine(kept, {"alice": shares["alice"], "bob": " ".join(words)})
    with pytest.raises(InputError, match="'mallory' is not one of alice, bob, carol"):
        custody.combine(kept, {"mallory": shares["bob"]})
    # Case and spacing as a person types them do not matter.
    assert custody.combine(kept, {"alice": "  " + shares["alice"].upper(), "carol": shares["carol"]}) == b"pin-1234"


def test_shares_of_another_split_do_not_combine() -> None:
    kept, shares = custody.split(b"one", NAMES, 2, "k")
    _, other = custody.split(b"two", NAMES, 2, "k")
    with pytest.raises(KeyAccessError):
        custody.combine(kept, {"alice": shares["alice"], "bob": other["bob"]})


def test_quorum_and_names_are_checked() -> None:
    with pytest.raises(InputError, match="quorum"):
        custody.split(b"s", NAMES, 1, "k")
    with pytest.raises(InputError, match="quorum"):
        custody.split(b"s", NAMES, 4, "k")
    with pytest.raises(InputError, match="distinct"):
        custody.split(b"s", ["alice", "alice"], 2, "k")


def test_the_transcript_is_checked_by_each_custodian_with_their_share() -> None:
    _, shares = custody.split(b"s3cret", NAMES, 2, "k")
    present = {"alice": shares["alice"], "carol": shares["carol"]}
    sealed = custody.seal_transcript({"operation": "crl", "custodians": ["alice", "carol"]}, present)
    custody.check_transcript(sealed, "alice", shares["alice"])
    custody.check_transcript(sealed, "carol", shares["carol"])
    with pytest.raises(KeyAccessError, match="bob did not take part"):
        custody.check_transcript(sealed, "bob", shares["bob"])
    with pytest.raises(KeyAccessError, match="alice's check fails"):
        custody.check_transcript(sealed, "alice", shares["carol"])
    sealed["transcript"]["operation"] = "issue ds"
    with pytest.raises(KeyAccessError, match="carol's check fails"):
        custody.check_transcript(sealed, "carol", shares["carol"])


@settings(max_examples=25, deadline=None)
@given(st.binary(min_size=1, max_size=64))
def test_any_secret_round_trips_through_the_frame(secret: bytes) -> None:
    assert custody.unframe(custody.frame(secret)) == secret
