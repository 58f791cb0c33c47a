"""Cases (案件) as rows: the case, its patch links, the office's vocabulary, figures by category."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy import Connection

from .accounts import village_scope_sql
from .schema import batches, case_patches, cases, patches, vocabulary


def vocabulary_values(conn: Connection, kind: str) -> list[str]:
    return list(conn.execute(sa.select(vocabulary.c.value).where(vocabulary.c.kind == kind)
                             .order_by(vocabulary.c.value)).scalars())


def insert_vocabulary(conn: Connection, kind: str, value: str) -> None:
    conn.execute(sa.insert(vocabulary).values(kind=kind, value=value))


def case_row(conn: Connection, case_no: str) -> dict | None:
    row = conn.execute(sa.select(cases).where(cases.c.case_no == case_no)).mappings().first()
    return dict(row) if row else None


def insert_case(conn: Connection, **values) -> int:
    return conn.execute(sa.insert(cases).values(**values).returning(cases.c.id)).scalar_one()


def bump_case(conn: Connection, case: dict, **values) -> bool:
    """Change a case if nobody did since it was read (its row version); False when someone did."""
    result = conn.execute(sa.update(cases).where(cases.c.id == case["id"], cases.c.row_version == case["row_version"])
                          .values(row_version=cases.c.row_version + 1, **values))
    return result.rowcount == 1


def is_linked(conn: Connection, case_id: int, lineage_id: int) -> bool:
    return conn.execute(sa.select(case_patches.c.case_id).where(
        case_patches.c.case_id == case_id, case_patches.c.patch_id == lineage_id)).first() is not None


def case_of_patch(conn: Connection, lineage_id: int) -> str | None:
    return conn.execute(sa.select(cases.c.case_no).join(case_patches, case_patches.c.case_id == cases.c.id)
                        .where(case_patches.c.patch_id == lineage_id)).scalar()


def insert_link(conn: Connection, case_id: int, lineage_id: int, on: date) -> None:
    conn.execute(sa.insert(case_patches).values(case_id=case_id, patch_id=lineage_id, linked_on=on))


def links_in_scope(conn: Connection, villages) -> set[tuple[int, int]]:
    """(case id, patch lineage) of the links to current patches in ``villages``."""
    scope, params = village_scope_sql(villages)
    return {(case_id, lineage) for case_id, lineage in conn.execute(sa.text(
        "SELECT cp.case_id, cp.patch_id FROM case_patches cp JOIN patches p ON p.lineage_id = cp.patch_id "
        f"AND p.is_current LEFT JOIN patch_matches m ON m.patch_id = p.id WHERE 1 = 1 {scope}"), params)}


def case_rows(conn: Connection, as_of: date | None, ids: set[int] | None = None) -> list[dict]:
    """Cases opened by ``as_of`` (all when None), only ``ids`` when given, in opening order."""
    query = sa.select(cases).order_by(cases.c.opened_on, cases.c.case_no)
    if as_of is not None:
        query = query.where(cases.c.opened_on <= as_of)
    if ids is not None:
        query = query.where(cases.c.id.in_(ids or [-1]))
    return [dict(r) for r in conn.execute(query).mappings()]


def links(conn: Connection) -> list[tuple[int, date, str, int, str]]:
    """Every link: (case id, linked on, patch code, patch lineage, batch name), by patch code."""
    return [tuple(r) for r in conn.execute(
        sa.select(case_patches.c.case_id, case_patches.c.linked_on, patches.c.patch_code, case_patches.c.patch_id,
                  batches.c.name)
        .join(patches, patches.c.id == case_patches.c.patch_id).join(batches, batches.c.id == patches.c.batch_id)
        .order_by(patches.c.patch_code))]


def figures(conn: Connection, as_of: date, year: int | None) -> tuple[list[dict], list[dict]]:
    """Cases opened by ``as_of`` (in ``year``) by category with closures and fines, and by outcome."""
    where = "opened_on <= :d" + (" AND substr(CAST(opened_on AS TEXT), 1, 4) = :y" if year else "")
    params = {"d": as_of, "y": str(year) if year else None}
    by_category = [dict(r) for r in conn.execute(sa.text(
        "SELECT coalesce(category, '其他') AS category, COUNT(*) AS cases, "
        "SUM(CASE WHEN closed_on <= :d THEN 1 ELSE 0 END) AS closed, "
        "SUM(CASE WHEN decided_on <= :d THEN coalesce(decided_fine_yuan, 0) ELSE 0 END) AS fines_yuan "
        f"FROM cases WHERE {where} GROUP BY coalesce(category, '其他') ORDER BY cases DESC, category"),
        params).mappings()]
    by_outcome = [dict(r) for r in conn.execute(sa.text(
        "SELECT outcome, COUNT(*) AS cases FROM cases "
        f"WHERE {where} AND decided_on <= :d AND outcome IS NOT NULL GROUP BY outcome ORDER BY cases DESC, outcome"),
        params).mappings()]
    return by_category, by_outcome


def most_frequent(conn: Connection, source: str, column: str, as_of: date) -> list[str]:
    """Violation types (``violation``) or acts (``act``) of the cases on a source's patches, most frequent first."""
    if column not in ("violation", "act"):
        raise ValueError(column)
    rows = conn.execute(sa.text(
        f"SELECT c.{column}, COUNT(*) AS n FROM cases c JOIN case_patches cp ON cp.case_id = c.id "
        "JOIN patches p ON p.id = cp.patch_id JOIN batches b ON b.id = p.batch_id "
        f"WHERE b.source = :source AND c.{column} IS NOT NULL AND c.opened_on <= :d "
        f"GROUP BY c.{column} ORDER BY n DESC, c.{column}"), {"source": source, "d": as_of}).all()
    return [r[0] for r in rows]
