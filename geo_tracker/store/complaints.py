"""Complaints (投诉举报) as rows: received, responded, closed, and their counts as of a date."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy import Connection

from .schema import cases, complaints


def unit_exists(conn: Connection, code: str) -> bool:
    return conn.execute(sa.text("SELECT 1 FROM admin_units WHERE code = :c"), {"c": code}).first() is not None


def insert_complaint(conn: Connection, **values) -> int:
    return conn.execute(sa.insert(complaints).values(**values).returning(complaints.c.id)).scalar_one()


def complaint_row(conn: Connection, cid: int) -> dict | None:
    row = conn.execute(sa.select(complaints).where(complaints.c.id == cid)).mappings().first()
    return dict(row) if row else None


def update_complaint(conn: Connection, cid: int, **values) -> None:
    conn.execute(sa.update(complaints).where(complaints.c.id == cid).values(**values))


def case_id(conn: Connection, case_no: str) -> int | None:
    return conn.execute(sa.select(cases.c.id).where(cases.c.case_no == case_no)).scalar()


def figures(conn: Connection, as_of: date, year: int | None) -> dict[str, int]:
    """Received, responded (and in time), closed and overdue by ``as_of``, received in ``year`` if given."""
    where = "received_on <= :d" + (" AND substr(CAST(received_on AS TEXT), 1, 4) = :y" if year else "")
    row = conn.execute(sa.text(
        "SELECT COUNT(*) AS received, "
        "SUM(CASE WHEN responded_on <= :d THEN 1 ELSE 0 END) AS responded, "
        "SUM(CASE WHEN responded_on <= :d AND responded_on <= respond_by THEN 1 ELSE 0 END) AS responded_in_time, "
        "SUM(CASE WHEN closed_on <= :d THEN 1 ELSE 0 END) AS closed, "
        "SUM(CASE WHEN (closed_on IS NULL OR closed_on > :d) AND complete_by < :d THEN 1 ELSE 0 END) AS overdue "
        f"FROM complaints WHERE {where}"), {"d": as_of, "y": str(year) if year else None}).mappings().one()
    return {k: int(row[k] or 0) for k in row.keys()}


def all_complaints(conn: Connection) -> list[dict]:
    query = sa.select(complaints).order_by(complaints.c.received_on, complaints.c.id)
    return [dict(r) for r in conn.execute(query).mappings()]


def by_channel(conn: Connection, as_of: date, year: int | None) -> list[dict]:
    """Received, responded and closed per channel, by ``as_of`` (received in ``year``)."""
    where = "received_on <= :d" + (" AND substr(CAST(received_on AS TEXT), 1, 4) = :y" if year else "")
    return [dict(r) for r in conn.execute(sa.text(
        "SELECT channel, COUNT(*) AS received, SUM(CASE WHEN responded_on <= :d THEN 1 ELSE 0 END) AS responded, "
        "SUM(CASE WHEN closed_on <= :d THEN 1 ELSE 0 END) AS closed "
        f"FROM complaints WHERE {where} GROUP BY channel ORDER BY channel"),
        {"d": as_of, "y": str(year) if year else None}).mappings()]
