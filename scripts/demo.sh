#!/usr/bin/env bash
# `make demo`: create a demo site in ./demo-site (SQLite records, keys in encrypted files, the simulated
# chip) and issue every example application end to end into ./demo-out, then the example batches with
# two workers. Run from the repository root after `make setup`.
# The key passphrase is set here for the demo only, through the environment (never on a command line).
set -euo pipefail
cd "$(dirname "$0")/.."
EXAMPLES=examples/applications
SITE=demo-site
OUT=demo-out
export MRTD_KEY_PASSPHRASE="demo-only-passphrase-not-for-production"
export MRTD_ACTOR="demo"

mrtd() { .venv/bin/mrtd "$@"; }

rm -rf "$SITE" "$OUT"
echo "== Creating the demo site in ./$SITE (country UTO, SQLite, file keys)"
mrtd site init "$SITE" --country UTO --certificate-country UT --page-template TD2=examples/templates/td2-card.toml

failed=()
for application in "$EXAMPLES"/*.json; do
  name=$(basename "$application" .json)
  echo
  echo "== $name"
  if ! mrtd issue "$application" --site "$SITE" --out "$OUT/$name"; then
    failed+=("$name")
  fi
done

for batch in "$EXAMPLES"/batches/*.csv "$EXAMPLES"/batches/*.jsonl; do
  kind="${batch##*.}"
  echo
  echo "== batch $(basename "$batch") with 2 workers"
  if ! mrtd batch issue "$batch" --site "$SITE" --out "$OUT/batch-$kind" --workers 2; then
    failed+=("batch $(basename "$batch")")
  fi
done

echo
echo "== Audit chain"
mrtd audit verify --site "$SITE" || failed+=("audit verify")

echo
echo "Outputs:"
echo "  documents:  ./$OUT/<application>/   (page.png|page-front/back.png, page.pdf, chip/, seal.png, receipt.json)"
echo "  batches:    ./$OUT/batch-csv/<number>/, ./$OUT/batch-jsonl/<number>/"
echo "  site:       ./$SITE/ (mrtd.toml, records.sqlite3, pki/)"
if [ ${#failed[@]} -gt 0 ]; then
  echo "Not issued: ${failed[*]}" >&2
  exit 1
fi
