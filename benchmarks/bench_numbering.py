"""Drawing a document number as the records grow, on PostgreSQL: the write transaction that draws it
(application checked, sequence row locked, the site's numbering mark reserved and raised, the document and
its audit entry) timed on a site whose records already hold N documents (goal: no slower at 10^6 documents
than at 10^3; the ratio is printed). Beside it, what counting the documents table costs at that size:
what every allocation paid, inside the write lock, before the records kept their count.

The N documents (and their applications) are made by one INSERT ... SELECT from generate_series under a
prefix of their own ("Z"), so they never meet the site's sequence. Needs PostgreSQL at 127.0.0.1:5432
(database `test`); works in a schema of its own, dropped at the end.

Run: .venv/bin/python benchmarks/bench_numbering.py [--sizes 1000,1000000] [--draws 40]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from pgsite import bulk, pg_site

from mrtd.issuance.inventory import draw_number


def fill(schema: str, n: int) -> float:
    """N applications with a document each, straight into the tables; the seconds counting them takes."""
    with bulk(schema, "applications", "documents") as c:
        c.execute("INSERT INTO applications (key, payload, received_at) "
                  "SELECT 'bulk-' || g, '{}', now() FROM generate_series(1, %s) g", (n,))
        c.execute("INSERT INTO documents (number, application_id, sequence_key, sequence, state, created_at, "
                  "state_changed_at) SELECT 'Z' || lpad(a.id::text, 8, '0'), a.id, 'bulk', a.id, 'issued', "
                  "now(), now() FROM applications a WHERE a.key LIKE 'bulk-%%'")
        c.execute("UPDATE records_meta SET value = (SELECT count(*) FROM documents)::text WHERE key = 'documents'")
    with bulk(schema) as c:
        best = float("inf")
        for _ in range(5):
            t = time.perf_counter()
            c.execute("SELECT count(*) FROM documents").fetchone()
            best = min(best, time.perf_counter() - t)
        return best


def bench(size: int, draws: int) -> tuple[float, float, float]:
    """(median ms, p90 ms) of one number drawn, and ms counting the table, on records holding `size`."""
    with pg_site("numbering") as (schema, site):
        with site.open_records() as store:  # the count kept from the first document on
            app = store.receive_application("first", {"key": "first"})
            draw_number(store, source=site.number_source, policy=site.numbering, application_id=app.id,
                        application_key="first", requested=None, actor="bench")
        counting = fill(schema, size - 1)
        times = []
        with site.open_records() as store:
            for i in range(draws):
                key = f"draw-{i}"
                app = store.receive_application(key, {"key": key})
                t = time.perf_counter()
                draw_number(store, source=site.number_source, policy=site.numbering, application_id=app.id,
                            application_key=key, requested=None, actor="bench")
                times.append(time.perf_counter() - t)
        times.sort()
        return statistics.median(times) * 1e3, times[int(0.9 * (len(times) - 1))] * 1e3, counting * 1e3


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,1000000", help="documents already in the records, comma-separated")
    ap.add_argument("--draws", type=int, default=40)
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    results = {}
    for size in sizes:
        median, p90, counting = bench(size, args.draws)
        results[size] = median
        print(f"{size:>9,} documents: a number drawn in {median:.1f} ms (median of {args.draws}, p90 {p90:.1f} ms); "
              f"counting the documents table would add {counting:.1f} ms inside the write lock")
    print(f"ratio {sizes[-1]:,} / {sizes[0]:,} documents: {results[sizes[-1]] / results[sizes[0]]:.2f} "
          "(goal: about 1, the draw does not grow with the records)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
