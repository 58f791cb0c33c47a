"""The backups taken of this database, as rows (for /readyz and the admin page)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import Connection

from .events import as_datetime
from .schema import backups


def record(conn: Connection, *, taken_at: datetime, file_name: str, size_bytes: int, sha256: str, trigger: str,
           actor: str | None) -> None:
    """Recorded where the schema has the table (a backup of a database before 0009 is taken all the same)."""
    if not sa.inspect(conn).has_table("backups"):
        return
    conn.execute(sa.insert(backups).values(taken_at=taken_at, file_name=file_name, size_bytes=size_bytes,
                                           sha256=sha256, trigger=trigger, actor=actor))


def recent(conn: Connection, limit: int = 20) -> list[dict]:
    """The newest backups first."""
    rows = conn.execute(sa.select(backups).order_by(backups.c.taken_at.desc(), backups.c.id.desc()).limit(limit))
    return [{**r, "taken_at": as_datetime(r["taken_at"])} for r in rows.mappings()]
