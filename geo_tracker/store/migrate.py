"""Alembic, driven from code: the migrations ship inside the package.

Checking a database's revision (every command does) reads the version table and the
migration files' names; Alembic itself, a second of imports, loads only to migrate.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Connection, inspect, text

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
#: A migration file: ``NNNN_what.py`` holds revision ``NNNN`` (a test holds Alembic to this).
REVISION_FILE = re.compile(r"^(\d{4})_\w+\.py$")


def _config(connection: Connection | None = None):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = connection
    return cfg


@lru_cache(maxsize=1)
def known_revisions() -> frozenset[str]:
    return frozenset(m.group(1) for p in (MIGRATIONS_DIR / "versions").iterdir()
                     if (m := REVISION_FILE.match(p.name)))


def head_revision() -> str:
    """The newest revision: the revisions are numbered in order, one chain."""
    return max(known_revisions())


def alembic_revisions() -> tuple[str, frozenset[str]]:
    """(head, every revision) as Alembic reads the scripts, to check the file names against."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(_config())
    return scripts.get_current_head(), frozenset(rev.revision for rev in scripts.walk_revisions())


def version_table_schema(conn: Connection) -> str | None:
    """Keep alembic_version in the schema the tables go to (the first on search_path).

    Otherwise a database whose ``public`` schema already holds geo_tracker would
    make an empty schema later on the search_path look initialised.
    """
    if conn.dialect.name != "postgresql":
        return None
    return conn.execute(text("SELECT current_schema()")).scalar_one()


def current_revision(conn: Connection) -> str | None:
    """The revision in ``alembic_version`` (None: not initialised)."""
    schema = version_table_schema(conn)
    if not inspect(conn).has_table("alembic_version", schema=schema):
        return None
    table = f'"{schema}".alembic_version' if schema else "alembic_version"
    return conn.execute(text(f"SELECT version_num FROM {table}")).scalar()


def upgrade(conn: Connection, revision: str = "head") -> None:
    """Run every pending migration on ``conn`` (inside the caller's transaction)."""
    from alembic import command

    command.upgrade(_config(conn), revision)
