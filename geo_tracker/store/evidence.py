"""Evidence files (举证照片, documents) as rows: one per content (SHA-256), with where it is kept."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import Connection

from .schema import evidence


def record(conn: Connection, values: dict) -> None:
    """Record a stored file once, however often it is given."""
    if not conn.execute(sa.select(evidence.c.sha256).where(evidence.c.sha256 == values["sha256"])).first():
        conn.execute(sa.insert(evidence).values(**values))


def row(conn: Connection, sha256: str) -> dict | None:
    found = conn.execute(sa.select(evidence).where(evidence.c.sha256 == sha256)).mappings().first()
    return dict(found) if found else None


def stored_path(conn: Connection, sha256: str) -> str | None:
    return conn.execute(sa.select(evidence.c.stored_path).where(evidence.c.sha256 == sha256)).scalar()


def stored_files(conn: Connection) -> list[tuple[str, str]]:
    """(sha256, stored_path) of every evidence file, in sha256 order."""
    return [(sha, path) for sha, path in
            conn.execute(sa.select(evidence.c.sha256, evidence.c.stored_path).order_by(evidence.c.sha256))]


def relocate(conn: Connection, sha256: str, path: str) -> None:
    """Where a file is kept now (after a restore or a move onto another folder)."""
    conn.execute(sa.update(evidence).where(evidence.c.sha256 == sha256).values(stored_path=path))
