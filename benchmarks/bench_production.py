"""What the office's production page and /metrics read, as the records grow, on PostgreSQL: the production
report (stations, the queue, the last 24 hours and 7 days of documents) and the queue's depth per state,
timed on a site whose records already hold N documents made over the past two years, each with its job and
six events (goal: no slower at 10^6 documents than at 10^3; the ratio is printed). Both are read on every
page view and every Prometheus scrape, so they must be bounded by what is recent, not by history.

The N documents, jobs and events are made by INSERT ... SELECT from generate_series and leased by ten
stations: the same recent work at every size (RECENT documents over the last seven days) and the rest
history, dated evenly over the two years before. Needs PostgreSQL at 127.0.0.1:5432 (database `test`);
works in a schema of its own, dropped at the end.

Run: .venv/bin/python benchmarks/bench_production.py [--sizes 1000,1000000] [--reads 15]
"""

from __future__ import annotations

import datetime as dt
import sys
import time

from pgsite import bulk, growth, pg_site, timed

from mrtd.issuance.production import production_report
from mrtd.issuance.queue import Queue
from mrtd.issuance.roles import Role
from mrtd.issuance.users import add_user

STATIONS = 10
RECENT = 1000  # documents of the last seven days, at every size
# a document's life, as the records keep it: (from, to), one event each
LIFE = (("", "numbered"), ("numbered", "validated"), ("validated", "approved"), ("approved", "personalised"),
        ("personalised", "quality-checked"), ("quality-checked", "issued"))


def fill(schema: str, n: int) -> None:
    """N applications, each with an issued document, its done job and its six events: the last RECENT over
    the last seven days, the ones before over the two years before that."""
    with bulk(schema, "applications", "documents", "jobs", "events") as c:
        old = max(n - RECENT, 1)
        when = ("CASE WHEN g <= %(old)s AND %(n)s > %(recent)s THEN now() - interval '8 days' - interval '730 days' "
                "* (1 - g::float8 / %(old)s) ELSE now() - interval '7 days' * (1 - (g - %(n)s + %(recent)s)::float8 "
                "/ %(recent)s) END")
        c.execute("INSERT INTO applications (key, payload, received_at) "
                  f"SELECT 'bulk-' || g, '{{}}', {when} FROM generate_series(1, %(n)s) g",
                  {"n": n, "old": old, "recent": min(n, RECENT)})
        c.execute("INSERT INTO documents (number, application_id, sequence_key, sequence, state, created_at, "
                  "state_changed_at) SELECT 'Z' || lpad(a.id::text, 8, '0'), a.id, 'bulk', a.id, 'issued', "
                  "a.received_at, a.received_at FROM applications a WHERE a.key LIKE 'bulk-%%'")
        c.execute("UPDATE records_meta SET value = (SELECT count(*) FROM documents)::text WHERE key = 'documents'")
        c.execute("INSERT INTO jobs (application_id, state, format, attempt, created_at, station, leased_at, number) "
                  f"SELECT a.id, 'done', 'TD3', 1, a.received_at, 'st' || (a.id % {STATIONS}), a.received_at, "
                  "d.number FROM applications a JOIN documents d ON d.application_id = a.id "
                  "WHERE a.key LIKE 'bulk-%%'")
        for i, (before, after) in enumerate(LIFE):
            c.execute("INSERT INTO events (document_id, at, from_state, to_state, actor, detail, audit_seq) "
                      "SELECT d.id, d.created_at + %s * interval '1 second', NULLIF(%s, ''), %s, 'bench', '{}', 0 "
                      "FROM documents d WHERE d.sequence_key = 'bulk'", (i, before, after))


def bench(size: int, reads: int) -> dict[str, tuple[float, float]]:
    with pg_site("production") as (schema, site):
        with site.open_records() as store:
            for i in range(STATIONS):
                add_user(store, f"st{i}", Role.STATION, actor="bench")
        fill(schema, size)
        with site.open_records() as store:
            queue = Queue(store)
            now = dt.datetime.now(dt.UTC)
            first = time.perf_counter()
            report = production_report(queue, now)  # a process's first read counts the finished jobs once
            first = time.perf_counter() - first
            assert sum(s.done_today for s in report.stations) > 0 or size < 1000
            assert sum(report.queue.values()) == size
            return {"production report": timed(lambda: production_report(queue, dt.datetime.now(dt.UTC)), reads),
                    "queue depth (/metrics)": timed(queue.depth, reads),
                    "a process's first report": (first * 1e3, first * 1e3)}


def main() -> int:
    return growth(bench, sizes="1000,1000000", reads=15, noun="documents", goal="about 1, bounded by what is recent")


if __name__ == "__main__":
    sys.exit(main())
