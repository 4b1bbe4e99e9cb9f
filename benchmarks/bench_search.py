"""Finding people by name as the records grow, on PostgreSQL: `Casework.search` by name alone (the office's
search page and `GET /v1/search`) on a site whose records hold N people, for a rare name, two words of it,
and two common prefixes that nobody has together (goal: a rare name no slower at 10^6 people than at 10^3,
the ratio printed; a prefix costs what it matches: at 10^6 `fam123` starts 5,550 people's words and
`given45` 22,200, against 1 and 11 at 10^3). Before the word index, every name search read every person's
names: 153-160 ms at 10^6 for each of the three.

The N people are made by INSERT ... SELECT from generate_series, with the words the site's word index keeps
(`person_words`): 20,000 surnames and 5,000 given names spread over them, and one ERIKSSON ANNA MARIA.
Needs PostgreSQL at 127.0.0.1:5432 (database `test`); works in a schema of its own, dropped at the end.

Run: .venv/bin/python benchmarks/bench_search.py [--sizes 1000,1000000] [--reads 9]
"""

from __future__ import annotations

import sys
from typing import Any

from pgsite import bulk, growth, pg_site, timed

from mrtd.issuance.casework import Casework

QUERIES = ("eriksson", "anna eriksson", "fam123 given45")


def fill(schema: str, n: int) -> None:
    with bulk(schema, "applications", "application_cases", "person_index", "person_words") as c:
        c.execute("INSERT INTO applications (key, payload, received_at) "
                  "SELECT 'bulk-' || g, '{}', now() FROM generate_series(1, %s) g", (n,))
        c.execute("INSERT INTO application_cases (application_id, state, format, submitted_by, submitted_at, "
                  "findings) SELECT id, 'issued', 'TD3', 'clerk', now(), '[]' FROM applications")
        c.execute("INSERT INTO person_index (application_id, names_folded, names_mrz, birth_date, nationality) "
                  "SELECT id, 'fam' || (id % 20000) || ' | given' || (id % 5000), 'FAM' || (id % 20000) || "
                  "' GIVEN' || (id % 5000), '1980-01-01', 'UTO' FROM applications")
        for word in ("'fam' || (id %% 20000)", "'given' || (id %% 5000)", "'FAM' || (id %% 20000)",
                     "'GIVEN' || (id %% 5000)"):
            c.execute(f"INSERT INTO person_words (word, application_id) SELECT {word}, id FROM applications "
                      "WHERE id <> %s", (n // 2,))
        c.execute("UPDATE person_index SET names_folded = 'eriksson | anna maria', names_mrz = 'ERIKSSON | "
                  "ANNA MARIA' WHERE application_id = %s", (n // 2,))
        for word in ("eriksson", "anna", "maria", "ERIKSSON", "ANNA", "MARIA"):
            c.execute("INSERT INTO person_words (word, application_id) VALUES (%s, %s)", (word, n // 2))


def bench(size: int, reads: int) -> dict[str, tuple[float, float]]:
    with pg_site("search") as (schema, site):
        fill(schema, size)
        with site.open_records() as store:
            work = Casework(store)
            out = {}
            for query in QUERIES:
                def search(q: str = query) -> list[Any]:
                    return work.search(name=q, birth_date=None, number=None, nationality=None, names=site.names)

                found = search()
                assert len(found) == (0 if query.startswith("fam") else 1), (query, found)
                out[f"name search {query!r}"] = timed(search, reads)
            return out


def main() -> int:
    return growth(bench, sizes="1000,1000000", reads=9, noun="people")


if __name__ == "__main__":
    sys.exit(main())
