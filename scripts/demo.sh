#!/usr/bin/env bash
# The demo: the most complete job that exists so far. Validate every example application (single files
# and the batches), then print each one's MRZ. Run from the repository root after `make setup`.
set -euo pipefail
cd "$(dirname "$0")/.."
MRTD=.venv/bin/mrtd
EXAMPLES=examples/applications

echo "== Validating the example applications"
"$MRTD" application validate "$EXAMPLES"/*.json "$EXAMPLES"/batches/*.csv "$EXAMPLES"/batches/*.jsonl

for application in "$EXAMPLES"/*.json; do
  echo
  echo "== $(basename "$application" .json)"
  "$MRTD" mrz build "$application"
done
