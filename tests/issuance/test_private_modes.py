"""Everything a site writes is owner-only, whatever the umask: a site made and used under `umask 000`.

Each command runs in its own process started with umask 000 (what a careless service unit or shell
would give), then every file and folder the commands made is checked: 0600 and 0700, nothing else.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import EXAMPLES, ROOT, secret_env

from mrtd.private import private_dir, replace_private, write_private


def mrtd(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`mrtd ARGS` in a process whose umask is 000."""
    return subprocess.run([sys.executable, "-m", "mrtd.cli", *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, **secret_env(), **(env or {})}, cwd=ROOT, check=False,
                          preexec_fn=lambda: os.umask(0))


def modes(root: Path) -> dict[str, str]:
    """Every path under `root` (root included) with its permission bits in octal."""
    found = {".": oct(stat.S_IMODE(root.stat().st_mode))}
    for path in root.rglob("*"):
        found[path.relative_to(root).as_posix()] = oct(stat.S_IMODE(path.lstat().st_mode))
    return found


def assert_private(root: Path) -> None:
    wrong = {p: m for p, m in modes(root).items()
             if m != (oct(0o700) if (root / p).is_dir() else oct(0o600))}
    assert not wrong, f"not owner-only under {root}: {wrong}"


@pytest.mark.slow
def test_a_site_made_and_used_under_umask_000_is_owner_only(tmp_path: Path) -> None:
    site, out = tmp_path / "site", tmp_path / "work" / "out"
    made = mrtd("site", "init", str(site), "--country", "UTO", "--certificate-country", "UT")
    assert made.returncode == 0, made.stderr
    issued = mrtd("issue", str(EXAMPLES / "anna-eriksson-td3.json"), "--site", str(site), "--out", str(out / "one"),
                  "--no-print-check")
    assert issued.returncode == 0, issued.stderr
    number = json.loads((out / "one" / "receipt.json").read_text("utf-8"))["number"]
    steps = [
        ("document", "reprint", number, "--site", str(site), "--out", str(tmp_path / "work" / "reprint")),
        ("pki", "crl", "--site", str(site), "--out", str(tmp_path / "work" / "crl.der")),
        ("users", "add", "carla", "--role", "clerk", "--site", str(site)),
        ("users", "token", "carla", "--site", str(site), "--out", str(tmp_path / "work" / "carla.token")),
        ("site", "backup", str(tmp_path / "work" / "backups" / "records.backup"), "--site", str(site)),
    ]
    for args in steps:
        done = mrtd(*args)
        assert done.returncode == 0, (args, done.stderr)
    listing = modes(site)
    assert {"mrtd.toml", "records.sqlite3", "pki", "pki/state.json", "pki/keys", "pki/certs", "pki/crls",
            "pki/numbering-mark.json"} <= set(listing)
    assert listing["records.sqlite3"] == oct(0o600)
    assert_private(site)  # the site folder, the records (and -wal/-shm while open), keys, certificates, state
    assert_private(tmp_path / "work")  # outputs: the document, the reprint, the CRL, the token, the backup


def test_the_helpers_set_the_mode_even_on_a_file_that_was_open_to_all(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        loose = tmp_path / "loose"
        loose.write_bytes(b"x")
        os.chmod(loose, 0o666)
        write_private(loose, b"y")
        replace_private(tmp_path / "a" / "b" / "state.json", "{}")
        private_dir(tmp_path / "c" / "d")
    finally:
        os.umask(old)
    assert loose.read_bytes() == b"y"
    assert_private(tmp_path / "a")
    assert_private(tmp_path / "c")
    assert stat.S_IMODE(loose.stat().st_mode) == 0o600
    with pytest.raises(FileExistsError):
        write_private(loose, b"z", exclusive=True)
    assert loose.read_bytes() == b"y"
