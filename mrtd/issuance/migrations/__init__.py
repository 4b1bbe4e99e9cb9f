"""The records schema's migrations (Alembic): `versions/` holds one revision per change, 0001 being the
schema as mrtd made it before Alembic. A new site's database is made by running them all; `mrtd site
upgrade` runs the ones an older database lacks; every other command refuses a database that is not at
the head revision.

A new revision is a file `versions/NNNN_what.py` with `revision = "NNNN"`, `down_revision` the previous
one, and an `upgrade()` that keeps every row (records are never migrated down: a backup is restored).
"""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from mrtd.errors import StateError

HERE = Path(__file__).resolve().parent
LEGACY = {"1": "0001"}  # records_meta.schema_version of a database made before Alembic -> its revision


def _config(conn: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.attributes["connection"] = conn
    return config


@functools.cache
def head() -> str:
    """The revision this mrtd's code expects."""
    found = ScriptDirectory.from_config(_config()).get_current_head()
    assert found is not None
    return found


def current(conn: Connection) -> str | None:
    """The database's revision: Alembic's stamp, or the revision a pre-Alembic schema version stands for;
    None for a database without the records' tables."""
    revision = MigrationContext.configure(conn).get_current_revision()
    if revision is not None:
        return revision
    if not inspect(conn).has_table("records_meta"):
        return None
    version = conn.execute(text("SELECT value FROM records_meta WHERE key = 'schema_version'")).scalar()
    return LEGACY.get(str(version), f"schema version {version}")


def upgrade(conn: Connection) -> tuple[str | None, str]:
    """Bring the database to the head revision (stamping a pre-Alembic one first); (from, to)."""
    before = current(conn)
    config = _config(conn)
    if before is not None and MigrationContext.configure(conn).get_current_revision() is None:
        command.stamp(config, before)
    command.upgrade(config, "head")
    return before, head()


def refuse_downgrade() -> None:
    """Every revision's `downgrade`: records are never migrated down, since that would drop rows."""
    raise StateError("records: the records are never migrated down; restore a backup instead (mrtd site restore)")


__all__ = ["current", "head", "refuse_downgrade", "upgrade"]
