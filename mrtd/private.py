"""Owner-only files and folders, whatever the umask.

Everything a site writes holds personal data or key material (records, keys, certificates and their
state, pages, chip data, backups), so every file mrtd creates is 0600 and every folder it creates 0700.
The mode is set explicitly after creation (`fchmod`/`chmod`): the umask can only take bits away, and a
file that already existed keeps its old mode through `open`. Folders that existed before (an `--out`
parent such as /tmp) are left as they are: only what mrtd makes is tightened.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dir(path: Path) -> Path:
    """`mkdir -p path`, each folder it creates owner-only (0700)."""
    path = Path(path)
    missing: list[Path] = []
    probe = path
    while not probe.exists():
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=DIR_MODE)
        except FileExistsError:
            if not folder.is_dir():
                raise
            continue  # made by a concurrent process; it tightens its own
        os.chmod(folder, DIR_MODE)
    if not path.is_dir():
        raise NotADirectoryError(str(path))
    return path


def write_private(path: Path, data: bytes | str, *, exclusive: bool = False, sync: bool = False) -> Path:
    """Write `data` to `path` (0600, its folder made private if missing). `exclusive`: refuse to
    overwrite (FileExistsError). `sync`: fsync before returning (state that must survive a power cut)."""
    path = Path(path)
    private_dir(path.parent)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    fd = os.open(path, flags, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
        view = memoryview(raw)
        while view:
            view = view[os.write(fd, view):]
        if sync:
            os.fsync(fd)
    finally:
        os.close(fd)
    return path


def replace_private(path: Path, data: bytes | str) -> Path:
    """Write `data` to a temporary sibling, fsync, and rename it over `path`: readers see the old or the
    new content, never half of it, and a power cut leaves one of the two."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write_private(tmp, data, sync=True)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def append_private(path: Path, data: bytes | str) -> None:
    """Append `data` to `path` (created 0600) and fsync: for append-only logs."""
    private_dir(Path(path).parent)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
        os.write(fd, data.encode("utf-8") if isinstance(data, str) else data)
        os.fsync(fd)
    finally:
        os.close(fd)


def tighten(path: Path) -> None:
    """Make an existing file or folder owner-only (a database file made by a driver, an older site's
    files); a missing path is left missing."""
    with contextlib.suppress(FileNotFoundError):
        os.chmod(path, DIR_MODE if Path(path).is_dir() else FILE_MODE)
