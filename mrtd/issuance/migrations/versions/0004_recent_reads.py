"""Indexes for what the production page reads on every view, so that it costs what is recent and not all
history (benchmarks/bench_production.py): document events by time (the last day's and week's documents),
and jobs by station and lease time (a station's last job and its jobs of the last day).

Revision ID: 0004
"""

from __future__ import annotations

from alembic import op

from mrtd.issuance.migrations import refuse_downgrade

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_events_at", "events", ["at"])
    op.create_index("ix_jobs_station_leased_at", "jobs", ["station", "leased_at"])


def downgrade() -> None:
    refuse_downgrade()
