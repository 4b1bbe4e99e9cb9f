"""The word index of people's names (`person_words`): a name search looks each query word up by prefix in
it, instead of scanning every person's names (benchmarks/bench_search.py). Filled here from the person
index the records already hold.

Revision ID: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from mrtd.issuance.casework import name_words
from mrtd.issuance.migrations import refuse_downgrade

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_BATCH = 5000


def upgrade() -> None:
    words = op.create_table(
        "person_words",
        sa.Column("word", sa.Text().with_variant(sa.Text(collation="C"), "postgresql"), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["application_id"], ["applications.id"]),
        sa.PrimaryKeyConstraint("word", "application_id"),
    )
    people = sa.table("person_index", sa.column("application_id", sa.Integer), sa.column("names_folded", sa.Text),
                      sa.column("names_mrz", sa.Text))
    bind = op.get_bind()
    after = 0
    while True:  # in batches of the primary key: a national registry's millions never sit in memory at once
        rows = bind.execute(sa.select(people).where(people.c.application_id > after)
                            .order_by(people.c.application_id).limit(_BATCH)).all()
        if not rows:
            break
        found = [{"word": word, "application_id": app_id} for app_id, folded, mrz in rows
                 for word in sorted(name_words(folded, mrz))]
        if found:
            op.bulk_insert(words, found)
        after = rows[-1][0]


def downgrade() -> None:
    refuse_downgrade()
