"""The numbering mark: the records get an id of their own (the site's mark names the database it belongs
to) and a table of numbers lost with the part of the records a restore did not bring back.

schema_version becomes 2, so that an mrtd from before Alembic (which checked for 1) refuses the database.

Revision ID: 0002
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import op

from mrtd.issuance.migrations import refuse_downgrade

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lost_numbers",
        sa.Column("number", sa.String(length=9), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("number"),
    )
    meta = sa.table("records_meta", sa.column("key", sa.String), sa.column("value", sa.String))
    bind = op.get_bind()
    if bind.execute(sa.select(meta.c.value).where(meta.c.key == "records_id")).scalar() is None:
        op.bulk_insert(meta, [{"key": "records_id", "value": uuid.uuid4().hex}])
    op.execute(meta.update().where(meta.c.key == "schema_version").values(value="2"))


def downgrade() -> None:
    refuse_downgrade()
