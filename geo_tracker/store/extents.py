"""What a collection of patches spans and how many it holds, cheaply: extents, capped and planned counts.

The OGC API describes every collection with the box and the issue dates of its data and
answers ``numberMatched`` on the first page of a province; these are the queries behind it.
They take the WHERE clause of :func:`.patches.current_filters` (aliases p, b, i, m).
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from sqlalchemy import Connection

from .base import Store

#: The joins of every current-patch query, as :mod:`.patches` writes them (p, b, i, m), so the
#: WHERE clauses of :func:`.patches.current_filters` apply unchanged.
_FROM = ("FROM patches p JOIN batches b ON b.id = p.batch_id LEFT JOIN batch_imports i ON i.id = p.import_id "
         "LEFT JOIN patch_matches m ON m.patch_id = p.id")
#: The issue date of a patch: its import's, else its batch's (the rule every listing shares).
ISSUED_ON = "coalesce(i.issued_on, b.issued_on)"


def data_version(conn: Connection) -> tuple:
    """A value that changes whenever a write can move an extent: new patches or versions, imports
    (re-issues), batches, boundaries (re-matching follows them), withdrawals. Status changes do not.

    Each part is the largest id of a table, read from its primary key: a few index lookups."""
    return tuple(conn.execute(sa.text(
        "SELECT (SELECT max(id) FROM patches), (SELECT max(id) FROM batch_imports), (SELECT max(id) FROM batches), "
        "(SELECT max(id) FROM admin_units), (SELECT max(id) FROM events WHERE kind = 'withdrawn')")).one())


def batch_extents(conn: Connection, store: Store, where: str, params: dict) -> list[dict]:
    """Per batch holding matching patches: its id, the box (west, south, east, north) and the first
    and last issue date of those patches, in one pass over them."""
    rows = conn.execute(sa.text(
        f"SELECT b.id AS batch_id, {store.extent_columns('p.geom')}, min({ISSUED_ON}) AS first_issued, "
        f"max({ISSUED_ON}) AS last_issued, count(*) AS patches {_FROM} WHERE {where} GROUP BY b.id ORDER BY b.id"),
        params).all()
    return [{"batch_id": r[0], "bbox": tuple(float(v) for v in r[1:5]) if r[1] is not None else None,
             "first_issued": r[5], "last_issued": r[6], "patches": int(r[7])} for r in rows]


def unit_extent(conn: Connection, store: Store, level: str, valid_on) -> dict | None:
    """Box and first day of validity of the units of ``level`` valid on ``valid_on``; None without any."""
    row = conn.execute(sa.text(
        f"SELECT {store.extent_columns('geom')}, min(valid_from), count(*) FROM admin_units WHERE level = :level "
        "AND valid_from <= :day AND (valid_to IS NULL OR valid_to > :day)"), {"level": level, "day": valid_on}).one()
    if not row[5]:
        return None
    return {"bbox": tuple(float(v) for v in row[:4]), "first_valid": row[4], "units": int(row[5])}


#: Patches counted exactly up to this many (OGC numberMatched, the web list); above it PostGIS answers with
#: the planner's estimate: counting a province's million patches costs more than the page itself.
COUNTED_UP_TO = 100_000


def count_matching(conn: Connection, store: Store, where: str, params: dict, exact_up_to: int) -> tuple[int, bool]:
    """(how many current patches match, whether that is an estimate).

    SpatiaLite counts. PostGIS asks the planner first: above ``exact_up_to`` its row estimate
    answers, so a page of a province does not wait for a count; below it a count bounded at
    ``exact_up_to`` + 1 rows answers exactly (and if the planner was wrong and the bound is
    reached, the bound is the estimate).
    """
    if not store.estimates_rows:
        return int(conn.execute(sa.text(f"SELECT count(*) {_FROM} WHERE {where}"), params).scalar_one()), False
    plan = conn.execute(sa.text(f"EXPLAIN (FORMAT JSON) SELECT 1 {_FROM} WHERE {where}"), params).scalar_one()
    planned = int((json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]["Plan Rows"])
    if planned > exact_up_to:
        return planned, True
    counted = int(conn.execute(sa.text(
        f"SELECT count(*) FROM (SELECT 1 AS one {_FROM} WHERE {where} LIMIT {int(exact_up_to) + 1}) AS capped"),
        params).scalar_one())
    return counted, counted > exact_up_to
