"""An auditor's questions as the audit log grows, on PostgreSQL: `Office.audit` filtered by subject (what
happened to one document or application), by actor (what one person or station did) and by time (an hour),
newest first as the audit page asks, on a log that already holds N entries (goal: no slower at 2x10^6
entries than at 2x10^3; the ratio is printed). Then what those indexes cost the writers: a write transaction
appending one entry, timed with them, after dropping them, and with them made again.

The N entries are made by INSERT ... SELECT from generate_series: 20 per document over the past year, by
200 actors, and one entry in 100,000 by a rare one. Their hash chain is not a real one; nothing here verifies it. Needs PostgreSQL at
127.0.0.1:5432 (database `test`); works in a schema of its own, dropped at the end.

Run: .venv/bin/python benchmarks/bench_audit_search.py [--sizes 2000,2000000] [--reads 9]
"""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any

from pgsite import SECRETS, bulk, growth, pg_site, timed

from mrtd.issuance.office import Office
from mrtd.issuance.roles import Principal, Role

AUDITOR = Principal("audra", Role.AUDITOR)
PER_DOCUMENT = 20
ACTORS = 200
WRITES = 20
AUDITOR_INDEXES = ("ix_audit_log_subject_seq", "ix_audit_log_actor_seq", "ix_audit_log_at")  # migration 0006


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
        c.execute("UPDATE audit_head SET seq = %s", (start[0] + n,))  # the writers go on after them


def bench(size: int, reads: int) -> dict[str, tuple[float, float]]:
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
                def ask(c: dict[str, Any] = criteria) -> list[Any]:
                    return office.audit(AUDITOR, newest_first=True, **c)

                assert ask() or what.startswith("an hour"), what
                out[what] = timed(ask, reads)
        # what the auditor's indexes cost every write: a transaction appending one entry, with them and without
        store = site.open_records(clock=lambda: dt.datetime.now(dt.UTC))
        try:
            def append() -> None:
                for _ in range(WRITES):
                    with store.writing() as w:
                        w.audit(actor="a7", action="bench.append", subject="Zbench", detail={})

            # with, without, with again: the log grows as it is timed, and neither order should have it
            with_ = timed(append, reads)
            with bulk(schema) as c:  # the migration's own definitions, to make them again as they were
                made = [row[0] for row in c.execute("SELECT indexdef FROM pg_indexes WHERE schemaname = %s AND "
                                                    "indexname = ANY(%s)", (schema, list(AUDITOR_INDEXES)))]
                assert len(made) == len(AUDITOR_INDEXES), made
                for index in AUDITOR_INDEXES:
                    c.execute(f"DROP INDEX {index}")
            without = timed(append, reads)
            with bulk(schema, "audit_log") as c:
                for definition in made:
                    c.execute(definition)
            again = timed(append, reads)
            out[f"{WRITES} writes of one entry, with migration 0006's indexes (mean of before and after)"] = (
                (with_[0] + again[0]) / 2, max(with_[1], again[1]))
            out[f"{WRITES} writes of one entry, without them"] = without
        finally:
            store.close()
        return out


def main() -> int:
    return growth(bench, sizes="2000,2000000", reads=9, noun="entries")


if __name__ == "__main__":
    sys.exit(main())
