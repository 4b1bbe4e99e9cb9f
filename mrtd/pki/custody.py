"""Custody of the CSCA key by M of N named custodians, and the transcripts of their ceremonies.

The CSCA key's secret (the passphrase of its file, or the PIN of its token) is split with SLIP-39 Shamir
secret sharing (the `shamir-mnemonic` package, SatoshiLabs' reference implementation): each custodian
holds a share as a list of words with its own checksum, so a mistyped word is caught before anything is
combined. No one holds the secret: a ceremony gathers at least M shares, combines them in memory, runs one
CSCA operation and forgets the secret.

What the site keeps (pki/state.json "custody"): the quorum, and for each custodian the name, the share's
member index and a salted SHA-256 of the share (to say *whose* share is wrong, never to rebuild it).

A transcript says what a ceremony did: the operation, who took part, the key operations it logged and the
files it wrote (SHA-256). Each participant's entry carries an HMAC-SHA-256 of the transcript keyed with a
key derived from that custodian's share: only the holder of the share can check it, and a transcript changed
afterwards fails every custodian's check. The transcript's own SHA-256 is in the key log.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import shamir_mnemonic
from shamir_mnemonic.share import Share

from mrtd.errors import InputError, KeyAccessError

SECRET_BYTES = 16  # SLIP-39 master secrets are at least 128 bits and an even number of bytes
MIN_CUSTODIANS = 2


@dataclass(frozen=True)
class Custodian:
    name: str
    index: int
    check: str  # hex SHA-256(salt || share words)

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "index": self.index, "check": self.check}


@dataclass(frozen=True)
class Custody:
    quorum: int
    custodians: tuple[Custodian, ...]
    salt: str  # hex
    key_id: str  # the CSCA key the shares open

    def as_dict(self) -> dict[str, Any]:
        return {"quorum": self.quorum, "custodians": [c.as_dict() for c in self.custodians], "salt": self.salt,
                "key_id": self.key_id}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Custody:
        return cls(int(data["quorum"]), tuple(Custodian(c["name"], int(c["index"]), c["check"])
                                              for c in data["custodians"]), data["salt"], data["key_id"])

    def custodian(self, name: str) -> Custodian:
        for c in self.custodians:
            if c.name == name:
                return c
        raise InputError(f"custodian: {name!r} is not one of {', '.join(c.name for c in self.custodians)}")

    def describe(self) -> str:
        return f"{self.quorum} of {len(self.custodians)} ({', '.join(c.name for c in self.custodians)})"


def _normalise(share: str) -> str:
    return " ".join(share.lower().split())


def _check(salt: bytes, share: str) -> str:
    return hashlib.sha256(salt + _normalise(share).encode("utf-8")).hexdigest()


def frame(secret: bytes) -> bytes:
    """A secret of any length as a SLIP-39 master secret: one length byte, the secret, zero padding."""
    if not 1 <= len(secret) <= 255:
        raise InputError("custody: the secret must be 1..255 bytes")
    body = bytes([len(secret)]) + secret
    size = max(SECRET_BYTES, len(body) + len(body) % 2)
    return body.ljust(size, b"\0")


def unframe(master: bytes) -> bytes:
    n = master[0] if master else 0
    if not n or n + 1 > len(master) or any(master[n + 1 :]):
        raise KeyAccessError("custody: the combined shares do not hold a secret (shares of another split?)")
    return master[1 : n + 1]


def split(secret: bytes, names: Sequence[str], quorum: int, key_id: str,
          rng: Callable[[int], bytes] = os.urandom) -> tuple[Custody, dict[str, str]]:
    """Split `secret` among `names`, any `quorum` of them recovering it. Returns what the site keeps and,
    to hand to each custodian once, their share (words)."""
    names = [n.strip() for n in names]
    if len(names) < MIN_CUSTODIANS or len(set(names)) != len(names) or not all(names):
        raise InputError(f"custodians: at least {MIN_CUSTODIANS} distinct names are needed")
    if not 2 <= quorum <= len(names):
        raise InputError(f"quorum: {quorum} must be between 2 and the number of custodians ({len(names)})")
    groups = shamir_mnemonic.generate_mnemonics(1, [(quorum, len(names))], frame(secret))
    salt = rng(16)
    custodians, shares = [], {}
    for name, words in zip(names, groups[0], strict=True):
        share = Share.from_mnemonic(words)
        custodians.append(Custodian(name, share.index, _check(salt, words)))
        shares[name] = words
    return Custody(quorum, tuple(custodians), salt.hex(), key_id), shares


def check_share(custody: Custody, name: str, share: str) -> str:
    """The custodian's share, normalised, once it is known to be theirs (checksum, index and digest)."""
    who = custody.custodian(name)
    words = _normalise(share)
    try:
        parsed = Share.from_mnemonic(words)
    except (shamir_mnemonic.MnemonicError, ValueError, KeyError, IndexError) as exc:
        raise KeyAccessError(f"custodian {name}: the share is not valid ({type(exc).__name__}: a word is "
                             "missing or mistyped)") from None
    if parsed.index != who.index or not hmac.compare_digest(_check(bytes.fromhex(custody.salt), words), who.check):
        raise KeyAccessError(f"custodian {name}: this is not {name}'s share")
    return words


def combine(custody: Custody, shares: Mapping[str, str]) -> bytes:
    """The secret from the shares of at least `quorum` custodians (name -> words)."""
    checked = {name: check_share(custody, name, words) for name, words in shares.items()}
    if len(checked) < custody.quorum:
        raise KeyAccessError(f"custody: {len(checked)} share(s) given; the CSCA key needs {custody.quorum} of "
                             f"{len(custody.custodians)} custodians")
    try:
        master = shamir_mnemonic.combine_mnemonics(list(checked.values()))
    except (shamir_mnemonic.MnemonicError, ValueError) as exc:
        raise KeyAccessError(f"custody: the shares do not combine: {exc}") from None
    return unframe(master)


# Transcripts


def _mac_key(share_words: str) -> bytes:
    return hashlib.sha256(b"mrtd ceremony transcript\0" + _normalise(share_words).encode("utf-8")).digest()


def canonical(body: Mapping[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def seal_transcript(body: Mapping[str, Any], shares: Mapping[str, str]) -> dict[str, Any]:
    """The transcript: `body` (which names the participants) and each participant's MAC over it."""
    data = canonical(body)
    macs = {name: hmac.new(_mac_key(words), data, hashlib.sha256).hexdigest() for name, words in shares.items()}
    return {"transcript": dict(body), "custodian_macs": macs}


def transcript_digest(transcript: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical(transcript)).hexdigest()


def check_transcript(transcript: Mapping[str, Any], name: str, share: str) -> None:
    """Raise KeyAccessError unless `name` took part with `share` and the transcript is unchanged since."""
    macs = transcript.get("custodian_macs") or {}
    if name not in macs:
        raise KeyAccessError(f"transcript: {name} did not take part in this ceremony")
    expected = hmac.new(_mac_key(share), canonical(transcript["transcript"]), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, str(macs[name])):
        raise KeyAccessError(f"transcript: {name}'s check fails: not {name}'s share, or the transcript was changed")
