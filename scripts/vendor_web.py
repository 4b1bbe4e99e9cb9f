"""Fetch what mrtd takes from the npm registry (`npm pack`, the registry's own client), check each tarball
against the SHA-512 integrity recorded in its lock file, and unpack the kept files into FOLDER/NAME/:

- mrtd/service/pages/vendor.json -> mrtd/service/pages/static/vendor/: the verifier page's browser libraries
  (optional: without npm the page works online only);
- mrtd/issuance/photo/models.json -> mrtd/issuance/photo/models/: the face detector's model (required: the
  photo check needs it).

Nothing is installed by hand: `make setup` runs this. Idempotent: a package whose folder already holds the
recorded version (FOLDER/NAME/.version) is skipped.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGES = ROOT / "mrtd" / "service" / "pages"
PHOTO = ROOT / "mrtd" / "issuance" / "photo"
# (lock file, the folder its packages go into, required)
LOCKS = [(PAGES / "vendor.json", PAGES / "static" / "vendor", False),
         (PHOTO / "models.json", PHOTO / "models", True)]


def integrity(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode("ascii")


def kept(path: str, keep: list[str]) -> bool:
    for k in keep:
        if k == "./":
            if "/" not in path and path.endswith(".js"):
                return True
        elif k.endswith("/"):
            if path.startswith(k) and path.endswith(".js"):
                return True
        elif path == k:
            return True
    return False


def present(package: dict[str, object], folder: Path) -> bool:
    stamp = folder / str(package["name"]) / ".version"
    return stamp.is_file() and stamp.read_text().strip() == f"{package['version']} {package['integrity']}"


def fetch(package: dict[str, object], npm: str, folder: Path) -> str:
    name, version, expected = str(package["name"]), str(package["version"]), str(package["integrity"])
    keep = [str(k) for k in package["keep"]]  # type: ignore[attr-defined]
    target = folder / name
    stamp = target / ".version"
    if present(package, folder):
        return f"{name}@{version}: present"
    with tempfile.TemporaryDirectory(prefix="mrtd-vendor-") as tmp:
        out = subprocess.run([npm, "pack", f"{name}@{version}", "--json", "--pack-destination", tmp],
                             capture_output=True, text=True, check=False)
        if out.returncode != 0:
            raise SystemExit(f"npm pack {name}@{version} failed: {out.stderr.strip()[-500:]}")
        filename = json.loads(out.stdout)[0]["filename"]
        data = (Path(tmp) / filename).read_bytes()
        got = integrity(data)
        if got != expected:
            raise SystemExit(f"{name}@{version}: integrity {got} is not the recorded {expected}; refusing it")
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        count = 0
        with tarfile.open(Path(tmp) / filename) as tar:
            for member in tar.getmembers():
                path = member.name.removeprefix("package/")
                if not member.isfile() or ".." in path.split("/") or not kept(path, keep):
                    continue
                source = tar.extractfile(member)
                assert source is not None
                dest = target / path
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(source.read())
                count += 1
    stamp.write_text(f"{version} {expected}\n")
    return f"{name}@{version}: {count} files, {expected[:23]}..."


def main() -> int:
    npm = shutil.which("npm")
    for lock_path, folder, required in LOCKS:
        packages = json.loads(lock_path.read_text("utf-8"))["packages"]
        if npm is None:
            missing = [str(p["name"]) for p in packages if not present(p, folder)]
            if missing and required:
                print(f"vendor_web: npm missing (scripts/install-system-packages.sh installs it as root) and "
                      f"{', '.join(missing)} not fetched: {lock_path.relative_to(ROOT)} lists what mrtd needs",
                      file=sys.stderr)
                return 1
            if missing:
                print("vendor_web: npm missing (scripts/install-system-packages.sh installs it as root); the "
                      "verifier page's offline mode and the browser tests need it", file=sys.stderr)
            continue
        for package in packages:
            print(fetch(package, npm, folder))
    return 0


if __name__ == "__main__":
    sys.exit(main())
