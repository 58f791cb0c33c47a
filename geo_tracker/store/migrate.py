"""Alembic, driven from code: the migrations ship inside the package."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def _config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = connection
    return cfg


@lru_cache(maxsize=1)
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(_config())


def head_revision() -> str:
    return _scripts().get_current_head()


def known_revisions() -> set[str]:
    return {rev.revision for rev in _scripts().walk_revisions()}


def version_table_schema(conn: Connection) -> str | None:
    """Keep alembic_version in the schema the tables go to (the first on search_path).

    Otherwise a database whose ``public`` schema already holds geo_tracker would
    make an empty schema later on the search_path look initialised.
    """
    if conn.dialect.name != "postgresql":
        return None
    return conn.execute(text("SELECT current_schema()")).scalar_one()


def current_revision(conn: Connection) -> str | None:
    opts = {"version_table_schema": version_table_schema(conn)}
    return MigrationContext.configure(conn, opts=opts).get_current_revision()


def upgrade(conn: Connection, revision: str = "head") -> None:
    """Run every pending migration on ``conn`` (inside the caller's transaction)."""
    command.upgrade(_config(conn), revision)
