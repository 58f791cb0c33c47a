"""The ledger's own row (台账编号) and whether a database holds anything beyond what ``init`` seeds."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import Connection


def ledger_id(conn: Connection) -> str | None:
    """The id ``init`` gave this database (None before migration 0009)."""
    if not sa.inspect(conn).has_table("ledger"):
        return None
    return conn.execute(sa.text("SELECT ledger_id FROM ledger")).scalar()


def existing(conn: Connection, tables: list[str]) -> list[str]:
    """Those of ``tables`` the database has (an older schema lacks the newer ones)."""
    names = set(sa.inspect(conn).get_table_names())
    return [t for t in tables if t in names]


def any_rows(conn: Connection, tables: list[str]) -> bool:
    return any(conn.execute(sa.text(f"SELECT 1 FROM {t} LIMIT 1")).first() is not None for t in tables)
