"""Indexes for an auditor's questions, so that the audit page answers them from the entries they match and
not by reading the whole log (benchmarks/bench_audit_search.py): by subject (one document or application),
by actor, each newest first, and by time.

Revision ID: 0006
"""

from __future__ import annotations

from alembic import op

from mrtd.issuance.migrations import refuse_downgrade

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_audit_log_subject_seq", "audit_log", ["subject", "seq"])
    op.create_index("ix_audit_log_actor_seq", "audit_log", ["actor", "seq"])
    op.create_index("ix_audit_log_at", "audit_log", ["at"])


def downgrade() -> None:
    refuse_downgrade()
