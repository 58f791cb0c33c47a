"""Patrols (巡查) as rows: the patrol with its track and villages, its findings, coverage by day."""

from __future__ import annotations

from datetime import date

import shapely
import sqlalchemy as sa
from sqlalchemy import Connection

from .base import Store
from .schema import patrol_findings, patrol_villages, patrols


def insert_patrol(conn: Connection, store: Store, values: dict, track, villages: list[str]) -> int:
    """A patrol row, its track (a MULTILINESTRING, or none) and the villages it covered."""
    patrol_id = conn.execute(sa.insert(patrols).values(**values).returning(patrols.c.id)).scalar_one()
    if track is not None:
        conn.execute(sa.text(f"UPDATE patrols SET track = {store.geometry_from_wkb('w', 'MultiLinestring')} "
                             "WHERE id = :id"), {"w": shapely.to_wkb(track), "id": patrol_id})
    if villages:
        conn.execute(sa.insert(patrol_villages), [{"patrol_id": patrol_id, "village_code": c} for c in villages])
    return patrol_id


def patrol_row(conn: Connection, patrol_id: int) -> dict | None:
    row = conn.execute(sa.select(patrols).where(patrols.c.id == patrol_id)).mappings().first()
    return dict(row) if row else None


def finding_count(conn: Connection) -> int:
    return conn.execute(sa.select(sa.func.count()).select_from(patrol_findings)).scalar_one()


def insert_finding(conn: Connection, **values) -> None:
    conn.execute(sa.insert(patrol_findings).values(**values))


def main_village(conn: Connection, patch_id: int):
    """(village_code, village_name) of a patch's match, or None."""
    return conn.execute(sa.text("SELECT village_code, village_name FROM patch_matches WHERE patch_id = :p"),
                        {"p": patch_id}).first()


def patrol_rows(conn: Connection, as_of: date | None) -> tuple[list[dict], list[tuple], dict[int, int]]:
    """Patrols (by ``as_of``), every (patrol, village) covered, and findings per patrol."""
    query = sa.select(patrols).order_by(patrols.c.patrolled_on, patrols.c.id)
    if as_of is not None:
        query = query.where(patrols.c.patrolled_on <= as_of)
    rows = [dict(r) for r in conn.execute(query).mappings()]
    covered = [tuple(r) for r in conn.execute(sa.select(patrol_villages)).all()]
    findings = dict(conn.execute(sa.select(patrol_findings.c.patrol_id, sa.func.count())
                                 .group_by(patrol_findings.c.patrol_id)).all())
    return rows, covered, findings


def village_days(conn: Connection, start: date, end: date) -> list[tuple]:
    """(village code, patrol date) for every village covered by a patrol between the dates."""
    return [tuple(r) for r in conn.execute(sa.text(
        "SELECT v.village_code, p.patrolled_on FROM patrol_villages v JOIN patrols p ON p.id = v.patrol_id "
        "WHERE p.patrolled_on >= :a AND p.patrolled_on <= :b"), {"a": start, "b": end}).all()]


def patrolled_on(conn: Connection, patrol_id: int):
    return conn.execute(sa.select(patrols.c.patrolled_on).where(patrols.c.id == patrol_id)).scalar_one()


def tracks(conn: Connection, store: Store, by: date) -> list:
    """Patrols with a track recorded by ``by``: (id, patrolled_on, members, wkb)."""
    return conn.execute(sa.text(
        f"SELECT id, patrolled_on, members, {store.geometry_as_wkb('track')} AS wkb FROM patrols "
        "WHERE track IS NOT NULL AND patrolled_on <= :d ORDER BY patrolled_on"), {"d": by}).all()


def counts(conn: Connection, as_of: date, year: int | None) -> tuple[int, int]:
    """Patrols by ``as_of`` (in ``year``) and the problems they found."""
    where = "p.patrolled_on <= :d" + (" AND substr(CAST(p.patrolled_on AS TEXT), 1, 4) = :y" if year else "")
    row = conn.execute(sa.text(
        "SELECT COUNT(DISTINCT p.id), COUNT(f.id) FROM patrols p LEFT JOIN patrol_findings f ON f.patrol_id = p.id "
        f"WHERE {where}"), {"d": as_of, "y": str(year) if year else None}).one()
    return int(row[0]), int(row[1])


def monthly(conn: Connection, as_of: date, year: int | None) -> list[dict]:
    """Patrols, findings and the findings' area per month, by ``as_of`` (in ``year``)."""
    where = "p.patrolled_on <= :d" + (" AND substr(CAST(p.patrolled_on AS TEXT), 1, 4) = :y" if year else "")
    return [dict(r) for r in conn.execute(sa.text(
        "SELECT substr(CAST(p.patrolled_on AS TEXT), 1, 7) AS month, COUNT(DISTINCT p.id) AS patrols, "
        "COUNT(f.id) AS findings, coalesce(SUM(pt.area_mu), 0) AS findings_area_mu "
        "FROM patrols p LEFT JOIN patrol_findings f ON f.patrol_id = p.id "
        "LEFT JOIN patches pt ON pt.id = f.patch_id "
        f"WHERE {where} GROUP BY substr(CAST(p.patrolled_on AS TEXT), 1, 7) ORDER BY month"),
        {"d": as_of, "y": str(year) if year else None}).mappings()]
