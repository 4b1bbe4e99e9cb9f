"""The numbering high-water mark: what the site knows about its numbers outside the records database.

A document number is issued once, ever. The records database alone cannot promise that: deleted,
emptied, replaced by an older copy or edited, it would hand out its numbers again. So the site keeps,
in its PKI state (`pki/numbering-mark.json`, beside `state.json`; a file of its own so that a PKI
command rewriting `state.json` can never carry an older mark back), and in its HSM token when it has
one (a public data object `mrtd-numbering-mark-<first certificate's serial>`; the higher of the two is
the mark, so deleting the file or putting an old copy back does not lower it):

- `records_id`: the id of the records database it belongs to (records_meta), so a new or foreign
  database is refused;
- `documents`: how many documents the records held at the last commit. Documents are never deleted,
  so records holding fewer are behind the mark: refused;
- `sequences`: per numbering policy, the next value: raised *before* a number is used, so a crash can
  only skip numbers, and numbering always resumes above it (even after an older backup is restored);
- `pki/numbers-given.log`: every number given from outside (a blank's), appended before it is used, so
  a restore can tell which blanks went out in the part of the records it did not bring back.

`guard_store` wires a `RecordStore` to the mark (it implements `records.NumberGuard`) after checking the
database against it. Updates are serialised by a lock file and only ever raise the values.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mrtd.errors import ConfigurationError, StateError
from mrtd.issuance.records import RecordStore
from mrtd.private import FILE_MODE, append_private, private_dir, replace_private

MARK_FILE = "numbering-mark.json"
GIVEN_FILE = "numbers-given.log"
LOCK_FILE = "numbering-mark.lock"
TOKEN_LABEL = "mrtd-numbering-mark"
RESTORE_HINT = ("restore the site's last backup with `mrtd site restore BACKUP` (numbering then resumes above "
                "the mark)")


class RecordsBehind(StateError):
    """The records database is older than the site's numbering mark, or not the site's: refused."""


@dataclass
class Mark:
    records_id: str
    documents: int = 0
    sequences: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"records_id": self.records_id, "documents": self.documents, "sequences": dict(self.sequences)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str) -> Mark:
        try:
            sequences = {str(k): int(v) for k, v in dict(data.get("sequences", {})).items()}
            return cls(str(data["records_id"]), int(data["documents"]), sequences)
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigurationError(f"{where}: not a numbering mark ({exc})") from None

    def merged(self, other: Mark) -> Mark:
        """The higher of each value (a mark only ever goes up)."""
        keys = set(self.sequences) | set(other.sequences)
        return Mark(other.records_id, max(self.documents, other.documents),
                    {k: max(self.sequences.get(k, 0), other.sequences.get(k, 0)) for k in sorted(keys)})


class MarkKeeper:
    """The mark of the site in `root`: read, checked against the records, raised under a lock."""

    def __init__(self, root: Path) -> None:
        self.folder = Path(root) / "pki"
        self.path = self.folder / MARK_FILE
        self.given_path = self.folder / GIVEN_FILE
        self._token: tuple[str, str, str] | bool | None = False  # (module, token, object label); False: not read

    def token(self) -> tuple[str, str, str] | None:
        """The site's HSM token and the label of the mark's data object there, when the site has a token.
        The label names the site's first certificate (tokens may be shared by several sites)."""
        if self._token is False:
            self._token = None
            try:
                state = json.loads((self.folder / "state.json").read_text("utf-8"))
            except (OSError, ValueError):
                return None
            token, certificates = state.get("pkcs11"), state.get("certificates") or []
            if token and certificates:
                self._token = (token["module"], token["token"], f"{TOKEN_LABEL}-{certificates[0]['serial']}")
        return self._token if isinstance(self._token, tuple) else None

    def _token_marks(self) -> list[Mark]:
        where = self.token()
        if where is None:
            return []
        from mrtd.pki import pkcs11

        return [Mark.from_dict(json.loads(raw), f"token {where[1]}: {where[2]}")
                for raw in pkcs11.read_data(*where)]

    def kept(self) -> bool:
        """Whether this site keeps a mark: it has a PKI (a records-only folder has none)."""
        return (self.folder / "state.json").exists()

    def read(self) -> Mark | None:
        """The mark: the file's and, with a token, the token's, whichever is higher (a file deleted or put
        back from an old copy does not lower it)."""
        marks = self._token_marks()
        if self.path.exists():
            try:
                marks.insert(0, Mark.from_dict(json.loads(self.path.read_text("utf-8")), str(self.path)))
            except (OSError, ValueError) as exc:
                raise ConfigurationError(f"{self.path}: unreadable numbering mark: {exc}") from None
        if not marks:
            return None
        ids = {m.records_id for m in marks}
        if len(ids) > 1:
            raise RecordsBehind(f"{self.path}: the numbering marks in the file and in the token name different "
                                f"records ({', '.join(sorted(ids))}); {RESTORE_HINT}")
        merged = marks[0]
        for other in marks[1:]:
            merged = merged.merged(other)
        return merged

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        private_dir(self.folder)
        fd = os.open(self.folder / LOCK_FILE, os.O_RDWR | os.O_CREAT, FILE_MODE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def write(self, mark: Mark, *, lower: bool = False) -> Mark:
        """Raise the mark to `mark` (or set it exactly with `lower`: a restore accepted on purpose, which
        never lowers a sequence)."""
        with self._locked():
            current = self.read()
            if current is None:
                new = mark
            elif lower:
                new = Mark(mark.records_id, mark.documents, current.merged(mark).sequences)
            else:
                new = current.merged(mark)
            text = json.dumps(new.as_dict(), indent=1, sort_keys=True) + "\n"
            replace_private(self.path, text)
            where = self.token()
            if where is not None:
                from mrtd.pki import pkcs11

                pkcs11.write_data(*where, text.encode("utf-8"))
            return new

    def given(self) -> list[str]:
        if not self.given_path.exists():
            return []
        return [line.strip() for line in self.given_path.read_text("ascii").splitlines() if line.strip()]

    # -- checking a database against the mark

    def check(self, store: RecordStore) -> Mark:
        """The mark, if the records are this site's and not behind it; RecordsBehind otherwise."""
        mark = self.read()
        if mark is None:
            raise ConfigurationError(f"{self.path}: this site keeps no numbering mark yet (made before mrtd kept "
                                     "one): run `mrtd site upgrade`")
        records_id, documents, _ = store.numbering_state()
        if records_id != mark.records_id:
            raise RecordsBehind(f"records: the database is not the one this site's numbering mark belongs to "
                                f"(records id {records_id or 'none'}, the mark's {mark.records_id}): a new or "
                                f"another site's database; {RESTORE_HINT}")
        if documents < mark.documents:
            raise RecordsBehind(f"records: the database holds {documents} documents but the site's numbering mark "
                                f"says {mark.documents} were recorded: it is older than the site (a copy put back, "
                                f"or rows deleted); {RESTORE_HINT}")
        return mark


class Guard:
    """`records.NumberGuard` over a site's mark."""

    def __init__(self, keeper: MarkKeeper, records_id: str) -> None:
        self.keeper = keeper
        self.records_id = records_id

    def floor(self, sequence_key: str) -> int:
        mark = self.keeper.read()
        return mark.sequences.get(sequence_key, 0) if mark else 0

    def reserve(self, sequence_key: str, next_value: int) -> None:
        self.keeper.write(Mark(self.records_id, 0, {sequence_key: next_value}))

    def reserve_given(self, number: str) -> None:
        with self.keeper._locked():
            append_private(self.keeper.given_path, number + "\n")

    def committed(self, documents: int) -> None:
        self.keeper.write(Mark(self.records_id, documents))


def guard_store(root: Path, store: RecordStore) -> RecordStore:
    """Check the site's records against its mark and have the store keep the mark up; a site without a PKI
    (a records-only folder) keeps none."""
    keeper = MarkKeeper(root)
    if keeper.kept():
        mark = keeper.check(store)
        store.guard = Guard(keeper, mark.records_id)
    return store


def start_mark(root: Path, store: RecordStore) -> Mark:
    """The mark of a new site, or of a site made before marks (`mrtd site upgrade`): from its records."""
    keeper = MarkKeeper(root)
    existing = keeper.read()
    records_id, documents, sequences = store.numbering_state()
    if records_id is None:
        raise ConfigurationError("records: the database has no records id (run `mrtd site upgrade`)")
    if existing is not None:
        return keeper.check(store)
    return keeper.write(Mark(records_id, documents, dict(sequences)))
