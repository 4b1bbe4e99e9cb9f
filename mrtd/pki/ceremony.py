"""CSCA ceremonies at a site: putting the CSCA key under the custody of M of N named custodians, and running
one CSCA operation with a quorum of their shares (mrtd.pki.custody holds the sharing and the transcripts).

`setup` re-encrypts a file CSCA key under a fresh random secret that nobody sees whole, splits it among the
custodians and hands each their share once (a token CSCA's PIN is split as it is). A `Ceremony` gathers
shares through a `prompt` (name, then the hidden share), checks each against its custodian, combines them
when the quorum is reached, and, once the operation is done, writes the transcript under pki/ceremonies/
and records its SHA-256 in the key log.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mrtd.errors import InputError, KeyAccessError, StateError
from mrtd.pki import custody
from mrtd.pki.keys import FileSigner
from mrtd.pki.lifecycle import _zeroise
from mrtd.pki.site import PkiSite, _iso
from mrtd.private import write_private

Prompt = Callable[[str, bool], str]  # (question, hide input) -> answer


def custody_of(site: PkiSite) -> custody.Custody | None:
    if not site.exists():
        return None
    data = site._load().get("custody")
    return custody.Custody.from_dict(data) if data else None


def stale_custody(site: PkiSite) -> str | None:
    """Why the custodians' shares no longer open the current CSCA key, if they do not."""
    held = custody_of(site)
    if held is None:
        return None
    state = site._load()
    current = [r for r in site._records(state) if r.role == "csca" and r.status == "active"]
    if current and site.key_id_of(current[-1]) != held.key_id and current[-1].key.get("store") == "pkcs11":
        return ("the CSCA key moved into a token: split its PIN among the custodians with "
                "`mrtd pki ceremony setup`")
    return None


def setup(site: PkiSite, csca_secret: bytes, names: Sequence[str], quorum: int) -> dict[str, str]:
    """Put the current CSCA key under custody; returns each custodian's share (to hand over once)."""
    state = site._load()
    rec = site._current(state, "csca", site.now())
    signer = site._open_key(rec.key, csca_secret, "csca")  # the secret given must open the key
    secret = csca_secret
    if rec.key["store"] == "file":
        secret = os.urandom(custody.SECRET_BYTES).hex().encode("ascii")
        path = site.root / rec.key["path"]
        fresh = path.with_name(path.name + ".custody")
        assert isinstance(signer, FileSigner)
        signer.save(fresh, secret, scrypt_log2n=site._kdf_log2n)
        _zeroise(path)
        os.replace(fresh, path)
    kept, shares = custody.split(secret, names, quorum, site.key_id_of(rec))
    state = site._load()
    state["custody"] = kept.as_dict()
    site._save(state)
    site._log("custody-setup", role="csca", key=kept.key_id, serial=rec.serial, quorum=quorum,
              custodians=[c.name for c in kept.custodians])
    return shares


@dataclass
class Ceremony:
    """One CSCA operation done with a quorum of custodians."""

    site: PkiSite
    operation: str
    prompt: Prompt
    started: str = ""
    log_before: int = 0
    shares: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.started = _iso(self.site.now()) or ""
        self.log_before = len(self.site.log_entries())

    def secret(self, held: custody.Custody) -> bytes:
        """Ask custodians for their shares until the quorum is reached; the combined secret."""
        while len(self.shares) < held.quorum:
            name = self.prompt(f"custodian ({len(self.shares) + 1} of {held.quorum} needed; "
                               f"{', '.join(c.name for c in held.custodians)})", False).strip()
            if not name:
                raise KeyAccessError(f"ceremony: {len(self.shares)} share(s) given; the CSCA key needs {held.quorum} of "
                                     f"{len(held.custodians)} custodians")
            if name in self.shares:
                raise InputError(f"custodian {name}: has already given a share in this ceremony")
            words = custody.check_share(held, name, self.prompt(f"share of {name}", True))
            self.shares[name] = words
        return custody.combine(held, self.shares)

    def finish(self, artefacts: Sequence[Path] = ()) -> Path:
        """Write the transcript (each participant's MAC over it) and log its digest."""
        if not self.shares:
            raise StateError("ceremony: no custodian took part")
        held = custody_of(self.site)
        state = self.site._load()
        body: dict[str, Any] = {
            "operation": self.operation, "country": state["country"], "started": self.started,
            "finished": _iso(self.site.now()), "quorum": held.quorum if held else None,
            "custodians_present": sorted(self.shares),
            "custodians": [c.name for c in held.custodians] if held else [],
            "key_operations": self.site.log_entries()[self.log_before:],
            "artefacts": [{"file": str(p), "sha256": _sha256(p)} for p in artefacts if p.is_file()],
        }
        sealed = custody.seal_transcript(body, self.shares)
        folder = self.site.root / "ceremonies"
        stamp = self.started.replace(":", "").replace("-", "").replace("+0000", "Z")
        path = folder / f"{stamp}-{self.operation.split()[0]}-{os.urandom(3).hex()}.json"
        write_private(path, json.dumps(sealed, indent=1, sort_keys=True) + "\n", exclusive=True)
        digest = custody.transcript_digest(sealed)
        self.site._log("ceremony", role="csca", operation=self.operation, custodians=sorted(self.shares),
                       transcript=path.name, sha256=digest)
        return path


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def check(site: PkiSite, transcript: Path, name: str, share: str) -> dict[str, Any]:
    """A custodian's check of a transcript: their MAC verifies with their share, and the key log holds the
    transcript's digest. Returns the transcript body."""
    try:
        sealed = json.loads(transcript.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{transcript}: not a ceremony transcript ({exc})") from None
    custody.check_transcript(sealed, name, share)
    digest = custody.transcript_digest(sealed)
    if not any(e.get("op") == "ceremony" and e.get("sha256") == digest for e in site.log_entries()):
        raise KeyAccessError(f"{transcript.name}: its digest is not in the site's key log")
    body: dict[str, Any] = sealed["transcript"]
    return body
