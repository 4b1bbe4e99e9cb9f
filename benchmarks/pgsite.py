"""A site for the benchmarks that time the records at scale: its records in a PostgreSQL schema of their
own (127.0.0.1:5432, database `test`), dropped at the end, so that rows can be bulk-loaded beside it."""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
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
