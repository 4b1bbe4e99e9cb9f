#!/usr/bin/env bash
# The PKI part of `make demo` (scripts/demo.sh runs it; it also runs alone on any site):
#   scripts/demo-pki.sh SITE OUT
# A consulate whose CSCA lives at SITE (requests certified there, openssl checks the chain with the CRL),
# `pki status` before and after the first CRL, master and deviation lists, and an ICAO PKD LDIF imported by
# another country. Every key has its own secret, set here for the demo only (never on a command line).
set -euo pipefail
cd "$(dirname "$0")/.."
SITE=$1
OUT=$2
export MRTD_CSCA_PASSPHRASE="${MRTD_CSCA_PASSPHRASE:-demo-only-csca-passphrase-not-for-production}"
export MRTD_DS_PASSPHRASE="${MRTD_DS_PASSPHRASE:-demo-only-ds-passphrase-not-for-production}"
export MRTD_SEAL_PASSPHRASE="${MRTD_SEAL_PASSPHRASE:-demo-only-seal-passphrase-not-for-production}"
export MRTD_AUDIT_PASSPHRASE="${MRTD_AUDIT_PASSPHRASE:-demo-only-audit-passphrase-not-for-production}"
export MRTD_ML_PASSPHRASE="demo-only-ml-passphrase-not-for-production"
export MRTD_DL_PASSPHRASE="demo-only-dl-passphrase-not-for-production"
mrtd() { .venv/bin/mrtd "$@"; }

PKI="$OUT/pki"
CONSULATE="$OUT/consulate-site"
rm -rf "$PKI" "$CONSULATE"
mkdir -p "$PKI"
csca=$(ls "$SITE"/pki/certs/csca-*.pem | head -1)

echo "== pki status of $SITE (exit 1: something to do)"
mrtd pki status --site "$SITE" || true
mrtd pki crl --out "$PKI/crl.pem" --site "$SITE"
mrtd pki status --site "$SITE"

echo
echo "== A consulate holding only its signing keys; its CSCA stays at $SITE"
mrtd site init "$CONSULATE" --country UTO --csca external --csca-cert "$csca"
mrtd pki csr ds --out "$PKI/consulate-ds.csr" --site "$CONSULATE"
mrtd pki csr seal-signer --common-name CS --out "$PKI/consulate-seal.csr" --site "$CONSULATE"
mrtd pki sign-csr "$PKI/consulate-ds.csr" --role ds --out "$PKI/consulate-ds.pem" --site "$SITE"
mrtd pki sign-csr "$PKI/consulate-seal.csr" --role seal-signer --out "$PKI/consulate-seal.pem" --site "$SITE"
mrtd pki import-cert "$PKI/consulate-ds.pem" --site "$CONSULATE"
mrtd pki import-cert "$PKI/consulate-seal.pem" --site "$CONSULATE"
mrtd issue examples/applications/siobhan-oneill-emergency.json --site "$CONSULATE" --out "$OUT/consulate-doc" \
  --no-print-check
if command -v openssl >/dev/null; then
  openssl verify -CAfile "$csca" -crl_check -CRLfile "$PKI/crl.pem" "$PKI/consulate-ds.pem" "$PKI/consulate-seal.pem"
fi

echo
echo "== Master list, deviation list and the ICAO PKD's LDIF"
mrtd pki issue masterlist-signer --site "$SITE"
mrtd pki issue deviationlist-signer --site "$SITE"
mrtd pki masterlist build --out "$PKI/ml.der" --site "$SITE"
cat > "$PKI/deviations.json" <<'JSON'
[{"documents": {"document_type": "PE", "issued": ["2026-01-01", "2026-03-31"]},
  "descriptions": [{"type": "mrz-wrong-check-digit", "parameter": "documentCode",
                    "text": "composite check digit over the wrong fields"}]}]
JSON
mrtd pki deviationlist build "$PKI/deviations.json" --out "$PKI/dl.der" --site "$SITE"
mrtd pki deviationlist verify "$PKI/dl.der" --site "$SITE"
mrtd pki pkd export --out "$PKI/pkd.ldif" --site "$SITE"
echo "-- another country's PKI imports it, trusting our CSCA (obtained out of band)"
mrtd pki init --country D --site "$PKI/other-country"
mrtd pki pkd import "$PKI/pkd.ldif" --trust "$csca" --site "$PKI/other-country"
echo "  PKI outputs: $PKI/ (CRL, requests and certificates, ml.der, dl.der, pkd.ldif)"
