#!/usr/bin/env bash
# Debian packages the tests and the demo use: the PC/SC stack with vpcd (chip tests), SoftHSM2
# (PKCS#11 tests), tesseract (print check), libfribidi (Pillow's raqm text shaping), poppler-utils
# (pdftotext, pdffonts, pdftoppm check the vector PDF), pango-view with Debian's OCR-B (typesets an MRZ
# with software we did not write, for the PassportEye comparison), chromium and its driver with fonts for
# Arabic (browser tests of the pages), npm (scripts/vendor_web.py fetches the verifier's browser libraries
# and the photo check's face detector model from the npm registry), postgresql-client (pg_dump, pg_restore
# and psql: `mrtd site backup|restore` of PostgreSQL records, and the migration test's frozen dump) and the
# headers pyscard builds against.
# Runs only as root; otherwise it says what is missing and leaves it.
set -euo pipefail
PKGS=(pcscd libpcsclite-dev pcsc-tools vsmartcard-vpcd softhsm2 tesseract-ocr tesseract-ocr-eng
      libfribidi0 libharfbuzz0b libraqm0 openssl swig poppler-utils pango1.0-tools fonts-ocr-b
      chromium chromium-driver fonts-dejavu-core postgresql-client)
# A bare Debian python3 lacks venv/ensurepip and the headers pyscard builds against; a Python that has
# them (pyenv, a distribution with them installed) needs nothing more.
PY=${PY:-python3}
"$PY" -c "import ensurepip" 2>/dev/null || PKGS+=(python3-venv)
[ -f "$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')/Python.h" ] || PKGS+=(python3-dev)
command -v gcc >/dev/null || PKGS+=(gcc)
command -v npm >/dev/null || PKGS+=(npm)  # Debian's npm, unless a Node.js that brings its own is there
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all present"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "system packages missing (install them as root): ${missing[*]}" >&2
  exit 0
fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# pcscd's post-install tries to start a service; without systemd that fails harmlessly.
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || \
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "system packages: installed"
