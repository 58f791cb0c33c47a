"""Current patches as rows: the filters every listing shares, the rows, their shares, relapses, history."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy import Connection

from . import cql2 as cql2_sql
from .accounts import village_scope_sql
from .base import Store

#: The joins every current-patch query uses: p (patches), b (batches), i (imports), m (main village).
_FROM = ("FROM patches p JOIN batches b ON b.id = p.batch_id LEFT JOIN batch_imports i ON i.id = p.import_id "
         "LEFT JOIN patch_matches m ON m.patch_id = p.id")


#: The year a patch was issued in, over i and b: the rule the report, the statistics and the exports share.
ISSUED_YEAR = "substr(CAST(coalesce(i.issued_on, b.issued_on) AS TEXT), 1, 4) = :year"
#: A village given by its 12-digit code or by its name (双凤村), among the villages a patch lies in.
_VILLAGE = ("p.id IN (SELECT v.patch_id FROM patch_villages v LEFT JOIN admin_units a ON a.id = v.village_unit_id "
            "WHERE v.village_code = :village OR a.name = :village)")
#: Free text (``?q=``): part of the patch code, of the main village's name, or of a linked case's number.
_SEARCH = ("(lower(p.patch_code) LIKE :q ESCAPE '!' OR lower(coalesce(m.village_name, '')) LIKE :q ESCAPE '!' "
           "OR p.lineage_id IN (SELECT cp.patch_id FROM case_patches cp JOIN cases c ON c.id = cp.case_id "
           "WHERE lower(c.case_no) LIKE :q ESCAPE '!'))")


def like_pattern(text: str) -> str:
    """``%text%`` for LIKE ... ESCAPE '!', lower-cased, with the wildcards in ``text`` taken literally."""
    escaped = text.strip().lower().replace("!", "!!").replace("%", "!%").replace("_", "!_")
    return f"%{escaped}%"


def current_filters(store: Store, *, batch=None, village=None, status=None, codes=None, source=None,
                    villages=None, bbox=None, ids=None, include_withdrawn: bool = False,
                    issued_by=None, year=None, q=None, cql2: cql2_sql.Filter | None = None) -> tuple[str, dict]:
    """WHERE clause over p, b, i, m for current patches (``status``: the stored current status;
    ``cql2``: a parsed CQL2 filter, refused on the current state when ``issued_by`` asks for a past date)."""
    where = ["p.is_current"] if include_withdrawn else ["p.is_current", "NOT p.withdrawn"]
    params: dict = {}
    for clause, name, value in (("b.name = :batch", "batch", batch), ("b.source = :source", "source", source),
                                ("p.status = :status", "status", status), (_VILLAGE, "village", village),
                                ("coalesce(i.issued_on, b.issued_on) <= :as_of", "as_of", issued_by),
                                (ISSUED_YEAR, "year", str(year) if year else None),
                                (_SEARCH, "q", like_pattern(q) if q and q.strip() else None)):
        if value:
            where.append(clause)
            params[name] = value
    if codes:
        where.append("p.patch_code IN (" + ", ".join(f":k{i}" for i in range(len(codes))) + ")")
        params.update({f"k{i}": c for i, c in enumerate(codes)})
    if ids is not None:
        where.append("p.id IN (" + (", ".join(str(int(i)) for i in ids) or "NULL") + ")")
    if bbox is not None:
        where.append(f"{store.bbox_condition('patches', alias='p')} AND {store.intersects_box('p.geom')}")
        params.update(zip(("xmin", "ymin", "xmax", "ymax"), (float(v) for v in bbox)))
    if cql2 is not None:
        fragment, cql2_params = cql2_sql.where(store, cql2, past=issued_by is not None)
        where.append(f"({fragment})")
        params.update(cql2_params)
    scope, scope_params = village_scope_sql(villages)
    params.update(scope_params)
    return " AND ".join(where) + scope, params


def count(conn: Connection, where: str, params: dict) -> int:
    return int(conn.execute(sa.text(f"SELECT count(*) {_FROM} WHERE {where}"), params).scalar_one())


#: The order of every listing without ``sortby``.
_LISTING_ORDER = "b.issued_on, b.name, p.patch_code, p.id"


def rows(conn: Connection, store: Store, where: str, params: dict, *, limit: int | None = None,
         offset: int = 0, sortby=None) -> list:
    """The patch rows with batch, import date, main village, stored current state and WKB, in listing order
    (or by ``sortby``, parsed by :func:`.cql2.parse_sortby`, then by id; an empty ``sortby``
    is id order alone, which the primary key serves without sorting the whole table)."""
    page = f" LIMIT {int(limit)} OFFSET {int(offset)}" if limit is not None else ""
    order, order_params = cql2_sql.order_by(store, sortby) if sortby is not None else (_LISTING_ORDER, {})
    return conn.execute(sa.text(
        "SELECT p.id, p.lineage_id, p.patch_code, b.name AS batch, b.source, "
        "coalesce(i.issued_on, b.issued_on) AS issued_on, p.area_mu, p.issued_area_mu, p.cultivated_mu, "
        "p.cultivated_source, p.forest_mu, m.village_code, m.village_name, "
        "coalesce(m.outside, false) AS outside, coalesce(m.straddles, false) AS straddles, "
        "m.nearest_code, m.nearest_distance_m, p.withdrawn, p.flags, p.version, p.row_version, "
        "coalesce(p.deadline, b.deadline) AS deadline, "
        f"p.status, {cql2_sql.STATUS_ON} AS status_on, p.rectified_mu, p.rectified_cultivated_mu, p.verified, p.case_numbers, "
        f"{store.geometry_as_wkb('p.geom')} AS wkb {_FROM} "
        f"WHERE {where} ORDER BY {order}{page}"), {**params, **order_params}).mappings().all()


def page_as_of(conn: Connection, store: Store, where: str, params: dict, *, as_of: date,
               known_at: datetime | None, sortby, status: str | None, limit: int | None, offset: int
               ) -> tuple[list[int], int]:
    """(the ids of one page of a listing as of a date, how many the listing holds), sorted, filtered by
    the status then and paged in SQL over the folded state, so a page costs one aggregate and not a fold
    of every patch in Python (``where``: of :func:`current_filters`)."""
    from .stats import STATE_SORT, patch_state_sql  # the folded state builds on this module's filters

    state, extra = patch_state_sql(store, known_at=known_at, filters="")
    order, order_params = cql2_sql.order_by(store, sortby, STATE_SORT) if sortby else (_LISTING_ORDER, {})
    kept = f"{where} AND st.status = :state_status" if status else where
    page = f" LIMIT {int(limit)} OFFSET {int(offset)}" if limit is not None else ""
    # ``p`` names the state CTE in ``JOIN p AS st`` and the listing's patches everywhere else
    joined = f"{_FROM} JOIN p AS st ON st.patch_row_id = p.id WHERE {kept}"
    bound = {**params, **extra, **order_params, "as_of": as_of, "state_status": status}
    rows = conn.execute(sa.text(f"{state} SELECT p.id, count(*) OVER () AS total {joined} ORDER BY {order}{page}"),
                        bound).all()
    if rows or not offset:
        return [int(r.id) for r in rows], int(rows[0].total) if rows else 0
    return [], int(conn.execute(sa.text(f"{state} SELECT count(*) {joined}"), bound).scalar_one())


def village_shares(conn: Connection, ids: list[int]) -> dict[int, dict[str, float]]:
    """Each patch row's share of area per village, largest first."""
    shares: dict[int, dict[str, float]] = {}
    for start in range(0, len(ids), 5000):
        marks = ", ".join(str(int(i)) for i in ids[start:start + 5000])
        for pid, code, share in conn.execute(sa.text(
                f"SELECT patch_id, village_code, share FROM patch_villages WHERE patch_id IN ({marks}) "
                "ORDER BY patch_id, share DESC")):
            shares.setdefault(pid, {})[code] = round(float(share), 6)
    return shares


def relapse_codes(conn: Connection, lineages: list[int]) -> dict[int, list[str]]:
    """For each patch lineage, the codes of the earlier patches it relapsed onto."""
    found: dict[int, list[str]] = {}
    for start in range(0, len(lineages), 5000):
        marks = ", ".join(str(int(i)) for i in lineages[start:start + 5000])
        for pid, code in conn.execute(sa.text(
                "SELECT r.patch_id, e.patch_code FROM patch_relapses r JOIN patches e ON e.id = r.earlier_patch_id "
                f"WHERE r.patch_id IN ({marks}) ORDER BY e.patch_code")):
            found.setdefault(pid, []).append(code)
    return found


def batch_exists(conn: Connection, name: str) -> bool:
    return bool(conn.execute(sa.text("SELECT count(*) FROM batches WHERE name = :b"), {"b": name}).scalar_one())


def geometries(conn: Connection, store: Store, where: str, params: dict) -> list:
    """(id, issued_on, wkb) of the patches matching ``where``, by id (for re-matching)."""
    return conn.execute(sa.text(
        f"SELECT p.id, coalesce(i.issued_on, b.issued_on) AS issued_on, {store.geometry_as_wkb('p.geom')} AS wkb "
        f"{_FROM} WHERE {where} ORDER BY p.id"), params).all()


def update_landuse(conn: Connection, ids, forest, cultivated) -> None:
    """Forest area, and cultivated area where it was not issued, as computed from the 三调 layer."""
    conn.execute(sa.text(
        "UPDATE patches SET forest_mu = :forest, "
        "cultivated_mu = CASE WHEN cultivated_source = 'issued' THEN cultivated_mu ELSE :cultivated END, "
        "cultivated_source = CASE WHEN cultivated_source = 'issued' THEN 'issued' ELSE 'computed' END "
        "WHERE id = :id"),
        [{"id": int(i), "forest": float(f), "cultivated": float(c)} for i, f, c in zip(ids, forest, cultivated)])


def versions(conn: Connection, patch_id: int, code: str) -> list[dict]:
    """Every version of a patch (its batch, its code) with the file and date that issued it."""
    return [dict(r) for r in conn.execute(sa.text(
        "SELECT p.version, p.is_current, p.withdrawn, p.created_at, p.superseded_at, i.file_name, "
        "i.issued_on FROM patches p LEFT JOIN batch_imports i ON i.id = p.import_id "
        "WHERE p.batch_id = (SELECT batch_id FROM patches WHERE id = :id) AND p.patch_code = :code "
        "ORDER BY p.version"), {"id": patch_id, "code": code}).mappings()]


def shares_with_names(conn: Connection, patch_id: int) -> list[dict]:
    return [dict(r) for r in conn.execute(sa.text(
        "SELECT v.village_code, a.name AS village_name, v.share, v.overlap_mu FROM patch_villages v "
        "JOIN admin_units a ON a.id = v.village_unit_id WHERE v.patch_id = :id ORDER BY v.share DESC"),
        {"id": patch_id}).mappings()]


def attrs_and_version(conn: Connection, patch_id: int) -> tuple:
    return tuple(conn.execute(sa.text("SELECT attrs, row_version FROM patches WHERE id = :id"),
                              {"id": patch_id}).one())
