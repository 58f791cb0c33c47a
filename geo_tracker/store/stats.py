"""Statistics computed in the database: one GROUP BY over patches and their folded events.

The as-of state of a patch is derived in SQL from its events, the same way
:func:`geo_tracker.core.lifecycle.fold` does in Python: the status CASE and the
overdue statuses are generated from the lifecycle table there (histories are
validated when recorded, so that closed form is exact). Nothing is loaded row by row.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

import sqlalchemy as sa
from sqlalchemy import Connection

from ..core.lifecycle import AREA_EPSILON_MU, OPEN_STATUSES, sql_list, status_case_sql
from .accounts import village_scope_sql
from .base import Store
from .patches import ISSUED_YEAR

#: Group keys: name -> (SQL expression over the per-patch relation ``p``, label).
GROUP_KEYS = {
    "village": ("p.village_code", "p.village_name"),
    "batch": ("p.batch", None),
    "source": ("p.source", None),
    "status": ("p.status", None),
    "violation": ("p.violation", None),
    "month": ("p.month", None),
}


def _mark(event: str, outcome: str | None) -> str:
    """SQL over ``base``, true once the patch has had ``event`` with ``outcome`` (a row of the lifecycle table)."""
    if event == "verified":
        return f"verified = {sql_list([outcome])}"
    if event == "rectified":
        return f"rectified_raw >= area_mu - {AREA_EPSILON_MU}" if outcome == "full" else "rectified_raw > 0"
    if event in ("submitted", "review_approved") and outcome != "final":
        return "submitted_n > returned_n"          # submitted, and not returned since (a step back)
    return {"case_linked": "has_case = 1", "closed": "closed = 1", "review_approved": "closed = 1",
            "review_returned": "returned_n > 0"}[event]


#: The status of a patch in ``p``, generated from the lifecycle table.
STATUS_SQL = status_case_sql(_mark)


def _known(store: Store, known_at: datetime | None) -> tuple[str, str, dict]:
    if known_at is None:
        return "", "e.voided_by IS NULL", {}
    value = store.timestamp_param(known_at.astimezone(timezone.utc))
    return ("AND e.recorded_at <= :known_at",
            "(e.voided_by IS NULL OR v.recorded_at > :known_at)", {"known_at": value})


_NO_EVENTS = """
    WITH ev AS (
      SELECT CAST(NULL AS INTEGER) AS lineage_id, CAST(NULL AS TEXT) AS verified, 0 AS has_case, 0 AS closed,
        0 AS submitted_n, 0 AS returned_n,
        CAST(0 AS DOUBLE PRECISION) AS rectified_mu, CAST(0 AS DOUBLE PRECISION) AS rectified_cultivated_mu,
        CAST(0 AS DOUBLE PRECISION) AS demolished_mu FROM batches WHERE 1 = 0
    ),
    rvs AS (
      SELECT CAST(NULL AS INTEGER) AS lineage_id, 0 AS review_days, 0 AS reviews_n, 0 AS review_approved
      FROM batches WHERE 1 = 0
    ),"""


def _events_sql(store: Store, known: str, not_void: str, known_at: datetime | None, lineages: str) -> str:
    """The CTEs ``ev`` (per patch: verification, case, closure, rectified areas, submissions and
    returns) and ``rvs`` (the days its reviews took, and whether the last level approved)."""
    j_num = lambda key: store.json_number("e.payload", key)  # noqa: E731
    j_txt = lambda key: store.json_text("e.payload", key)  # noqa: E731
    rectified = "e.kind = 'rectified'"
    day = store.day_number
    start = "kind = 'submitted' OR (kind = 'review_approved' AND outcome = 'level')"
    return f"""
    WITH er AS (
      SELECT e.id, e.patch_id, e.kind, e.occurred_on,
        CASE WHEN e.kind = 'verified' THEN {j_txt('result')} END AS result,
        CASE WHEN {rectified} THEN {j_num('area_mu')} END AS area,
        CASE WHEN {rectified} THEN {j_num('cultivated_mu')} END AS cultivated,
        CASE WHEN {rectified} THEN {j_txt('measure')} END AS measure,
        CASE WHEN e.kind = 'review_approved' THEN {j_txt('outcome')} END AS outcome
      FROM events e {"LEFT JOIN events v ON v.id = e.voided_by" if known_at is not None else ""}
      WHERE e.occurred_on <= :as_of {known} AND {not_void} {lineages}
    ),
    ev AS (
      SELECT patch_id AS lineage_id, MAX(result) AS verified,
        MAX(CASE WHEN kind = 'case_linked' THEN 1 ELSE 0 END) AS has_case,
        MAX(CASE WHEN kind = 'closed' OR (kind = 'review_approved' AND outcome = 'final') THEN 1 ELSE 0 END)
          AS closed,
        SUM(CASE WHEN kind = 'submitted' THEN 1 ELSE 0 END) AS submitted_n,
        SUM(CASE WHEN kind = 'review_returned' THEN 1 ELSE 0 END) AS returned_n,
        SUM(coalesce(area, 0)) AS rectified_mu, SUM(coalesce(cultivated, 0)) AS rectified_cultivated_mu,
        SUM(CASE WHEN measure = 'demolition' THEN area ELSE 0 END) AS demolished_mu
      FROM er GROUP BY patch_id
    ),
    rv AS (
      SELECT patch_id, kind, outcome, {day('occurred_on')} - MAX(CASE WHEN {start} THEN {day('occurred_on')} END)
        OVER (PARTITION BY patch_id ORDER BY occurred_on, id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
        AS waited
      FROM er WHERE kind IN ('submitted', 'review_returned', 'review_approved')
    ),
    rvs AS (
      SELECT patch_id AS lineage_id, SUM(CASE WHEN kind <> 'submitted' THEN waited ELSE 0 END) AS review_days,
        SUM(CASE WHEN kind <> 'submitted' THEN 1 ELSE 0 END) AS reviews_n,
        MAX(CASE WHEN kind = 'review_approved' AND outcome = 'final' THEN 1 ELSE 0 END) AS review_approved
      FROM rv GROUP BY patch_id
    ),"""


def patch_state_sql(store: Store, *, known_at: datetime | None, filters: str, with_events: bool = True,
                    lineages: str | None = None, carry: tuple[str, ...] = ()) -> tuple[str, dict]:
    """A WITH clause ending in ``p``: one row per patch issued by ``:as_of`` with its state then.

    ``with_events=False`` skips folding the events (for figures that do not need the
    status), which is most of the cost. ``lineages``, a SELECT of lineage ids that ``filters``
    keeps within, folds only their events (a tile folds the patches it draws, not a province's);
    ``carry``: more columns of the patch row to keep (a tile's geometry).
    """
    known, not_void, params = _known(store, known_at)
    only, only_e = ((f"AND {store.in_subquery('patch_id', lineages)}",
                     f"AND {store.in_subquery('e.patch_id', lineages)}") if lineages else ("", ""))
    sql = (_events_sql(store, known, not_void, known_at, only_e) if with_events else _NO_EVENTS) + f"""
    wd AS (
      SELECT patch_id AS lineage_id, MIN(occurred_on) AS withdrawn_on FROM events
      WHERE kind = 'withdrawn' {only} GROUP BY patch_id
    ),
    base AS (
      SELECT {"".join(f"pt.{c}, " for c in carry)}pt.id AS patch_row_id, pt.lineage_id, pt.area_mu,
        coalesce(pt.cultivated_mu, 0) AS cultivated_mu,
        coalesce(pt.issued_area_mu, 0) AS issued_area_mu, b.name AS batch, b.source,
        m.village_code, m.village_name, coalesce(i.issued_on, b.issued_on) AS issued_on,
        coalesce(pt.deadline, b.deadline) AS deadline, ev.verified, coalesce(ev.has_case, 0) AS has_case,
        coalesce(ev.closed, 0) AS closed, coalesce(ev.rectified_mu, 0) AS rectified_raw,
        coalesce(ev.submitted_n, 0) AS submitted_n, coalesce(ev.returned_n, 0) AS returned_n,
        coalesce(rvs.review_days, 0) AS review_days, coalesce(rvs.reviews_n, 0) AS reviews_n,
        coalesce(rvs.review_approved, 0) AS review_approved,
        coalesce(ev.rectified_cultivated_mu, 0) AS rectified_cultivated_mu,
        coalesce(ev.demolished_mu, 0) AS demolished_mu, c.id AS case_id, c.violation
      FROM patches pt
      JOIN batches b ON b.id = pt.batch_id
      LEFT JOIN batch_imports i ON i.id = pt.import_id
      LEFT JOIN patch_matches m ON m.patch_id = pt.id
      LEFT JOIN ev ON ev.lineage_id = pt.lineage_id
      LEFT JOIN rvs ON rvs.lineage_id = pt.lineage_id
      LEFT JOIN wd ON wd.lineage_id = pt.lineage_id
      LEFT JOIN case_patches cp ON cp.patch_id = pt.lineage_id AND cp.linked_on <= :as_of
      LEFT JOIN cases c ON c.id = cp.case_id
      WHERE pt.is_current AND coalesce(i.issued_on, b.issued_on) <= :as_of
        AND (wd.withdrawn_on IS NULL OR wd.withdrawn_on > :as_of) {filters}
    ),
    p AS (
      SELECT base.*,
        CASE WHEN rectified_raw < area_mu THEN rectified_raw ELSE area_mu END AS rectified_mu,
        {STATUS_SQL} AS status,
        substr(CAST(issued_on AS TEXT), 1, 7) AS month
      FROM base
    )
    """
    return sql, params


#: The state properties a listing sorts by as of a date, over the folded state ``st`` (``status_on`` is
#: not folded in SQL: a listing sorted by it is sorted after folding).
STATE_SORT = {"status": "st.status", "rectified_mu": "st.rectified_mu",
              "rectified_cultivated_mu": "st.rectified_cultivated_mu",
              "overdue": "(st.deadline IS NOT NULL AND st.deadline < :as_of "
                         f"AND st.status IN ({sql_list(OPEN_STATUSES)}))"}


def _keys(by: list[str]) -> tuple[list[str], list[str]]:
    keys = []
    for name in by:
        code, label = GROUP_KEYS[name]
        keys.append(f"{code} AS key_{name}")
        if label:
            keys.append(f"{label} AS label_{name}")
    return keys, [k.split(" AS ")[0] for k in keys]


def grouped_figures(conn: Connection, store: Store, *, by: list[str], as_of: date, known_at: datetime | None,
                    filters: str, params: dict) -> list[dict]:
    """One row of patch sums per group (``by`` empty: one row for everything)."""
    base, extra = patch_state_sql(store, known_at=known_at, filters=filters)
    keys, group_cols = _keys(by)
    select_keys = (", ".join(keys) + ",") if keys else ""
    group_by = f"GROUP BY {', '.join(group_cols)}" if group_cols else ""
    illegal = "p.verified = 'illegal'"
    sql = base + f"""
    SELECT {select_keys}
      COUNT(*) AS patches, SUM(p.area_mu) AS area_mu, SUM(p.cultivated_mu) AS cultivated_mu,
      SUM(p.issued_area_mu) AS issued_area_mu,
      SUM(CASE WHEN p.verified IS NOT NULL THEN 1 ELSE 0 END) AS verified,
      SUM(CASE WHEN p.verified = 'legal' THEN 1 ELSE 0 END) AS legal,
      SUM(CASE WHEN p.verified = 'no_change' THEN 1 ELSE 0 END) AS no_change,
      SUM(CASE WHEN {illegal} THEN 1 ELSE 0 END) AS illegal,
      SUM(CASE WHEN {illegal} THEN p.area_mu ELSE 0 END) AS illegal_area_mu,
      SUM(CASE WHEN {illegal} THEN p.cultivated_mu ELSE 0 END) AS illegal_cultivated_mu,
      SUM(CASE WHEN p.has_case = 1 THEN 1 ELSE 0 END) AS case_filed,
      SUM(CASE WHEN {illegal} AND p.rectified_raw >= p.area_mu - {AREA_EPSILON_MU} THEN 1 ELSE 0 END) AS rectified,
      SUM(CASE WHEN p.closed = 1 THEN 1 ELSE 0 END) AS closed,
      SUM(p.rectified_mu) AS rectified_mu, SUM(p.rectified_cultivated_mu) AS rectified_cultivated_mu,
      SUM(p.demolished_mu) AS demolished_mu,
      SUM(CASE WHEN p.deadline < :as_of AND p.status IN ({sql_list(OPEN_STATUSES)}) THEN 1 ELSE 0 END) AS overdue,
      SUM(CASE WHEN p.submitted_n > 0 THEN 1 ELSE 0 END) AS review_submitted, SUM(p.submitted_n) AS review_rounds,
      SUM(CASE WHEN p.returned_n > 0 THEN 1 ELSE 0 END) AS review_returned, SUM(p.returned_n) AS review_returns,
      SUM(p.review_approved) AS review_approved, SUM(CASE WHEN p.status = 'submitted' THEN 1 ELSE 0 END)
        AS review_pending, SUM(p.review_days) AS review_days, SUM(p.reviews_n) AS reviews
    FROM p {group_by}
    """
    return [dict(r) for r in conn.execute(sa.text(sql), {**params, **extra, "as_of": as_of}).mappings()]


def grouped_cases(conn: Connection, store: Store, *, by: list[str], as_of: date, known_at: datetime | None,
                  filters: str, params: dict) -> dict[tuple, dict]:
    """Distinct cases, closed cases and decided fines per group, keyed by the group's values.

    Counted per distinct case (a case may cover several patches); the events are
    folded only when grouping by status needs them.
    """
    if not conn.execute(sa.text("SELECT EXISTS (SELECT 1 FROM case_patches)")).scalar_one():
        return {}
    base, extra = patch_state_sql(store, known_at=known_at, filters=filters, with_events="status" in by)
    _keys_sql, group_cols = _keys(by)
    distinct = ", ".join([*(f"{c} AS k{i}" for i, c in enumerate(group_cols)), "p.case_id AS case_id"])
    outer = ", ".join(f"d.k{i}" for i in range(len(group_cols)))
    sql = base + f"""
    SELECT {outer + ',' if outer else ''} COUNT(*) AS cases,
      SUM(CASE WHEN c.closed_on <= :as_of THEN 1 ELSE 0 END) AS cases_closed,
      SUM(CASE WHEN c.decided_on <= :as_of THEN coalesce(c.decided_fine_yuan, 0) ELSE 0 END) AS fines_yuan
    FROM (SELECT DISTINCT {distinct} FROM p WHERE p.case_id IS NOT NULL) AS d JOIN cases c ON c.id = d.case_id
    {('GROUP BY ' + outer) if outer else ''}
    """
    rows = conn.execute(sa.text(sql), {**params, **extra, "as_of": as_of}).mappings().all()
    return {tuple(r[f"k{i}"] for i in range(len(group_cols))):
            {"cases": int(r["cases"] or 0), "cases_closed": int(r["cases_closed"] or 0),
             "fines_yuan": float(r["fines_yuan"] or 0)} for r in rows}


def group_values(row: dict) -> tuple:
    return tuple(row[k] for k in row if k.startswith(("key_", "label_")))


def all_cases(conn: Connection, as_of: date) -> dict:
    """Cases of the whole office, with or without patches (patrol cases have none)."""
    row = conn.execute(sa.text(
        "SELECT COUNT(*) AS cases, SUM(CASE WHEN closed_on <= :d THEN 1 ELSE 0 END) AS cases_closed, "
        "SUM(CASE WHEN decided_on <= :d THEN coalesce(decided_fine_yuan, 0) ELSE 0 END) AS fines_yuan "
        "FROM cases WHERE opened_on <= :d"), {"d": as_of}).mappings().one()
    return {"cases": int(row["cases"] or 0), "cases_closed": int(row["cases_closed"] or 0),
            "fines_yuan": float(row["fines_yuan"] or 0)}


def figure_filters(*, year: int | None = None, source: str | None = None, batch: str | None = None,
                   village: str | None = None, villages=None, patch_ids=None) -> tuple[str, dict]:
    """The ``AND ...`` filters of :func:`grouped_figures` over pt, b, i, m, and their parameters;
    ``patch_ids``: only these patches (a list narrowed by search or status)."""
    filters, params = [], {}
    if patch_ids is not None:
        ids = sorted({int(i) for i in patch_ids})
        filters.append(f"AND pt.id IN ({', '.join(map(str, ids))})" if ids else "AND 1 = 0")
    if year:
        filters.append(f"AND {ISSUED_YEAR}")
        params["year"] = str(year)
    for column, value, name in (("b.source", source, "source"), ("b.name", batch, "batch"),
                                ("m.village_code", village, "village")):
        if value:
            filters.append(f"AND {column} = :{name}")
            params[name] = value
    scope, scope_params = village_scope_sql(villages)
    filters.append(scope)
    params.update(scope_params)
    return " ".join(filters), params


def withdrawn_count(conn: Connection, as_of: date, *, source: str | None = None, batch: str | None = None,
                    villages=None) -> int:
    """Patches withdrawn by ``as_of`` (of a source, a batch, within villages)."""
    scope, params = village_scope_sql(villages)
    return conn.execute(sa.text(
        "SELECT COUNT(DISTINCT e.patch_id) FROM events e JOIN batches b ON b.id = e.batch_id "
        "LEFT JOIN patches p ON p.lineage_id = e.patch_id AND p.is_current "
        "LEFT JOIN patch_matches m ON m.patch_id = p.id "
        "WHERE e.kind = 'withdrawn' AND e.occurred_on <= :as_of"
        + (" AND b.source = :source" if source else "") + (" AND b.name = :batch" if batch else "")
        + scope), {"as_of": as_of, "source": source, "batch": batch, **params}).scalar_one()
