#!/usr/bin/env bash
# `make demo`: create a demo site in ./demo-site (SQLite records, keys in encrypted files, the simulated
# chip) and issue every example application end to end into ./demo-out, then the example batches with
# two workers; then the service: `mrtd serve` on 127.0.0.1, a clerk submits one application, an approver
# approves it, a station issues it through pcscd + vpcd with the simulated chip. Run from the repository
# root after `make setup` (as root for pcscd; under `flock /tmp/mrtd-pcsc.lock` on a shared machine).
# Every key has its own secret; they are set here for the demo only, through the environment (never on a
# command line): the CSCA's, the Document Signer's and the seal signer's.
set -euo pipefail
cd "$(dirname "$0")/.."
EXAMPLES=examples/applications
SITE=demo-site
OUT=demo-out
export MRTD_CSCA_PASSPHRASE="demo-only-csca-passphrase-not-for-production"
export MRTD_DS_PASSPHRASE="demo-only-ds-passphrase-not-for-production"
export MRTD_SEAL_PASSPHRASE="demo-only-seal-passphrase-not-for-production"
export MRTD_AUDIT_PASSPHRASE="demo-only-audit-passphrase-not-for-production"

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
echo "== The service: mrtd serve on 127.0.0.1, a clerk submits, an approver approves, a station issues"
PORT=${MRTD_DEMO_PORT:-8713}
URL="http://127.0.0.1:$PORT"
TOKENS="$SITE/tokens"
mkdir -p "$TOKENS"
for pair in clerk:clerk approver:approver station-1:station; do
  mrtd users add "${pair%%:*}" --role "${pair##*:}" --site "$SITE" >/dev/null
  mrtd users token "${pair%%:*}" --site "$SITE" --out "$TOKENS/${pair%%:*}.token"
done
started_pcscd=0
if ! scripts/pcscd.sh status >/dev/null 2>&1; then scripts/pcscd.sh start; started_pcscd=1; fi
cleanup() {
  [ -n "${STATION_PID:-}" ] && kill "$STATION_PID" 2>/dev/null || true
  [ -n "${FEEDER_PID:-}" ] && kill "$FEEDER_PID" 2>/dev/null || true
  [ -n "${SERVER_PID:-}" ] && kill "$SERVER_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  if [ "$started_pcscd" = 1 ]; then scripts/pcscd.sh stop >/dev/null; fi
}
trap cleanup EXIT
.venv/bin/mrtd serve --site "$SITE" --bind "127.0.0.1:$PORT" --no-print-check &
SERVER_PID=$!
# the simulated chip on vpcd slot 0, as a booklet feeder (a blank card after each personalised one)
.venv/bin/python -m mrtd.chip.sim.vpcd --port 35963 --feeder >/dev/null &
FEEDER_PID=$!
.venv/bin/python - "$URL" "$TOKENS" "$EXAMPLES/olena-shevchenko-cyrillic.json" <<'PY'
import base64, json, sys, time
from pathlib import Path
import httpx
url, tokens, app = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
for _ in range(150):
    try:
        if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
            break
    except httpx.HTTPError:
        time.sleep(0.2)
data = json.loads(app.read_text("utf-8"))
images = {}
for kind in ("portrait", "signature"):
    file = app.parent / data[kind]
    images[file.name] = base64.b64encode(file.read_bytes()).decode()
    data[kind] = file.name
data["document"].pop("number", None)
def bearer(who): return {"Authorization": "Bearer " + (tokens / f"{who}.token").read_text().strip()}
made = httpx.post(f"{url}/v1/applications", json={"application": data, "images": images}, headers=bearer("clerk"), timeout=60)
made.raise_for_status()
app_id = made.json()["id"]
print(f"clerk submitted application {app_id}: {made.json()['state']}")
done = httpx.post(f"{url}/v1/applications/{app_id}/approve", json={}, headers=bearer("approver"), timeout=60)
done.raise_for_status()
print(f"approver approved application {app_id}: {done.json()['state']} (queued for a station)")
PY
mrtd station run --service "$URL" --name station-1 --token-file "$TOKENS/station-1.token" \
  --reader "Virtual PCD 00 00" --out "$OUT/service" --max-jobs 1 --poll 0.5 || failed+=("station")
echo "  the station's outputs: ./$OUT/service/<number>/ (page.png, page.pdf, seal.png, chip/, receipt.json)"
ls "$OUT/service" | sed 's/^/    /'
echo "  API docs while it runs: $URL/docs, OpenAPI: $URL/openapi.json, metrics: $URL/metrics"
cleanup
trap - EXIT

echo
echo "== Audit chain"
mrtd audit verify --site "$SITE" || failed+=("audit verify")

echo
echo "== The PKI: status, a consulate whose CSCA stays here, master and deviation lists, the ICAO PKD"
bash scripts/demo-pki.sh "$SITE" "$OUT" || failed+=("pki")

echo
echo "Outputs:"
echo "  documents:  ./$OUT/<application>/   (page.png|page-front/back.png, page.pdf, chip/, seal.png, receipt.json)"
echo "  batches:    ./$OUT/batch-csv/<number>/, ./$OUT/batch-jsonl/<number>/"
echo "  service:    ./$OUT/service/<number>/ (issued by the station through pcscd + vpcd)"
echo "  site:       ./$SITE/ (mrtd.toml, records.sqlite3, pki/, tokens/)"
echo "  PKI:        ./$OUT/pki/ (CRL, the consulate's requests and certificates, ml.der, dl.der, pkd.ldif),"
echo "              ./$OUT/consulate-site/ and ./$OUT/consulate-doc/ (a site without a CSCA key, its document)"
if [ ${#failed[@]} -gt 0 ]; then
  echo "Not issued: ${failed[*]}" >&2
  exit 1
fi
