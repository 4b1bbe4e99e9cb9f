"""Alembic's environment for the records: always run by `mrtd.issuance.migrations` on a connection it
hands over (never from an alembic.ini), inside that connection's transaction."""

from __future__ import annotations

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=None, render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
