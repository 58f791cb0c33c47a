"""Evidence files (举证照片, documents) as rows: one per content (SHA-256), with where it is kept."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import Connection

from .schema import evidence


def record(conn: Connection, values: dict) -> None:
    """Record a stored file once, however often it is given."""
    if not conn.execute(sa.select(evidence.c.sha256).where(evidence.c.sha256 == values["sha256"])).first():
        conn.execute(sa.insert(evidence).values(**values))


def stored_path(conn: Connection, sha256: str) -> str | None:
    return conn.execute(sa.select(evidence.c.stored_path).where(evidence.c.sha256 == sha256)).scalar()
