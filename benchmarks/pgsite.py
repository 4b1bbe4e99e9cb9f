"""A site for the benchmarks that time the records at scale: its records in a PostgreSQL schema of their
own (127.0.0.1:5432, database `test`), dropped at the end, so that rows can be bulk-loaded beside it."""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mrtd.issuance.site import SiteConfig, init_site  # noqa: E402

PG = "host=127.0.0.1 port=5432 dbname=test user=postgres"  # the benchmarks' PostgreSQL, as libpq names it
SECRETS = {"csca": b"bench csca passphrase", "ds": b"bench ds passphrase", "seal-signer": b"bench seal passphrase"}


@contextmanager
def pg_site(name: str) -> Iterator[tuple[str, SiteConfig]]:
    """(schema, site): a new site whose records are the schema's."""
    schema = f"mrtd_bench_{name}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG, autocommit=True) as c:
        c.execute(f'CREATE SCHEMA "{schema}"')
    try:
        url = f"postgresql://postgres@127.0.0.1:5432/test?options={quote(f'-csearch_path={schema}')}"
        site = init_site(Path(tempfile.mkdtemp(prefix=f"mrtd-bench-{name}-")) / "site", "UTO", secrets=SECRETS,
                         clock=lambda: dt.datetime.now(dt.UTC), certificate_country="UT", database_url=url,
                         kdf_log2n=12)
        yield schema, site
    finally:
        with psycopg.connect(PG, autocommit=True) as c:
            c.execute(f'DROP SCHEMA "{schema}" CASCADE')


@contextmanager
def bulk(schema: str, *analyse: str) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    """An autocommit connection in the site's schema, for INSERT ... SELECT of many rows; the tables named in
    `analyse` are vacuumed and analysed afterwards, so that the planner knows their new size."""
    with psycopg.connect(PG, autocommit=True) as c:
        c.execute(f'SET search_path TO "{schema}"')
        yield c
        for table in analyse:
            c.execute(f"VACUUM ANALYZE {table}")


def timed(read: Callable[[], Any], reads: int) -> tuple[float, float]:
    """(median ms, p90 ms) of `read` run `reads` times."""
    times = []
    for _ in range(reads):
        t = time.perf_counter()
        read()
        times.append(time.perf_counter() - t)
    times.sort()
    return statistics.median(times) * 1e3, times[int(0.9 * (len(times) - 1))] * 1e3


def growth(bench: Callable[[int, int], dict[str, tuple[float, float]]], *, sizes: str, reads: int, noun: str,
           goal: str = "about 1") -> int:
    """The benchmark's command line: `bench(size, reads)` -> {question: (median ms, p90 ms)} at each of the
    comma-separated `sizes` (overridden by --sizes and --reads), each figure printed, then each question's
    ratio of the largest size to the smallest."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default=sizes, help=f"{noun} already in the records, comma-separated")
    ap.add_argument("--reads", type=int, default=reads)
    args = ap.parse_args()
    counts = [int(s) for s in args.sizes.split(",")]
    results = {}
    for size in counts:
        results[size] = bench(size, args.reads)
        for what, (median, p90) in results[size].items():
            print(f"{size:>9,} {noun}: {what} in {median:.1f} ms (median of {args.reads}, p90 {p90:.1f} ms)")
    for what in results[counts[0]]:
        ratio = results[counts[-1]][what][0] / results[counts[0]][what][0]
        print(f"{what}: ratio {counts[-1]:,} / {counts[0]:,} {noun} {ratio:.2f} (goal: {goal})")
    return 0
