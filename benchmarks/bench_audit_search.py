"""An auditor's questions as the audit log grows, on PostgreSQL: `Office.audit` filtered by subject (what
happened to one document or application), by actor (what one person or station did) and by time (an hour),
newest first as the audit page asks, on a log that already holds N entries (goal: no slower at 2x10^6
entries than at 2x10^3; the ratio is printed).

The N entries are made by INSERT ... SELECT from generate_series: 20 per document over the past year, by
200 actors, and one entry in 100,000 by a rare one. Their hash chain is not a real one; nothing here verifies it. Needs PostgreSQL at
127.0.0.1:5432 (database `test`); works in a schema of its own, dropped at the end.

Run: .venv/bin/python benchmarks/bench_audit_search.py [--sizes 2000,2000000] [--reads 9]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time

from pgsite import SECRETS, bulk, pg_site

from mrtd.issuance.office import Office
from mrtd.issuance.roles import Principal, Role

AUDITOR = Principal("audra", Role.AUDITOR)
PER_DOCUMENT = 20
ACTORS = 200


def fill(schema: str, n: int) -> None:
    """N entries after the site's own: entry g about document Z(g / 20), by actor a(g mod 200), over a year."""
    with bulk(schema, "audit_log") as c:
        start = c.execute("SELECT coalesce(max(seq), 0) FROM audit_log").fetchone()
        assert start is not None
        c.execute("INSERT INTO audit_log (seq, at, actor, action, subject, detail, prev_hash, hash) "
                  "SELECT %(s)s + g, to_char((now() - interval '365 days' * (1 - g::float8 / %(n)s)) AT TIME ZONE "
                  "'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"'), CASE WHEN g %% 100000 = 1 THEN 'rare' ELSE 'a' || "
                  "(g %% %(actors)s) END, 'document.moved', "
                  "'Z' || lpad((g / %(per)s)::text, 8, '0'), '{}', repeat('0', 64), repeat('0', 64) "
                  "FROM generate_series(1, %(n)s) g", {"s": start[0], "n": n, "actors": ACTORS, "per": PER_DOCUMENT})


def bench(size: int, reads: int) -> dict[str, float]:
    with pg_site("audit_search") as (schema, site):
        fill(schema, size)
        hour = dt.datetime.now(dt.UTC) - dt.timedelta(days=100)
        questions = {
            "one document's entries": {"subject": f"Z{size // PER_DOCUMENT // 2:08d}"},
            "one actor's last 100": {"actor": "a7"},
            "a rare actor's entries": {"actor": "rare"},
            "an hour 100 days ago": {"since": hour, "until": hour + dt.timedelta(hours=1)},
        }
        with Office(site, clock=lambda: dt.datetime.now(dt.UTC), secrets=SECRETS) as office:
            out = {}
            for what, criteria in questions.items():
                times = []
                for _ in range(reads):
                    t = time.perf_counter()
                    found = office.audit(AUDITOR, newest_first=True, **criteria)  # type: ignore[arg-type]
                    times.append(time.perf_counter() - t)
                assert found or what.startswith("an hour"), what
                out[what] = statistics.median(times) * 1e3
            return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="2000,2000000", help="audit entries already in the log, comma-separated")
    ap.add_argument("--reads", type=int, default=9)
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    results = {size: bench(size, args.reads) for size in sizes}
    for size in sizes:
        for what, ms in results[size].items():
            print(f"{size:>9,} entries: {what} in {ms:.1f} ms (median of {args.reads})")
    for what in results[sizes[0]]:
        ratio = results[sizes[-1]][what] / results[sizes[0]][what]
        print(f"{what}: ratio {sizes[-1]:,} / {sizes[0]:,} entries {ratio:.2f} (goal: about 1)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
