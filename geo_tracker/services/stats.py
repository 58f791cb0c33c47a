"""Area statistics as of a date, by any grouping, with figures that add up when printed."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime

from ..catalogue import msg
from ..core.rounding import fmt, format_rate, round_table
from ..core.stats import ADDITIVE, NOT_SUMMED, SUMS, WHOLES, derive
from ..errors import InvalidValueError
from ..store import Store
from ..store import complaints as complaints_repo
from ..store import patrols as patrols_repo
from ..store import stats as repo

BY = tuple(repo.GROUP_KEYS)
#: Each rate and the figures it divides.
RATE_PARTS = {
    "rectification_rate_area": ("rectified_mu", "illegal_area_mu"),
    "rectification_rate_count": ("rectified", "illegal"),
    "case_filing_rate": ("case_filed", "illegal"),
    "case_closing_rate": ("cases_closed", "cases"),
    "review_approval_rate": ("review_approved", "review_submitted"),
}


YEARS = range(1949, 2200)


def default_as_of(year: int | None, as_of: date | None) -> date:
    if year is not None and year not in YEARS:
        raise InvalidValueError(msg("stats.bad_year", value=year, first=YEARS.start, last=YEARS.stop - 1),
                                field="year")
    if as_of is not None:
        if as_of.year >= YEARS.stop:
            raise InvalidValueError(msg("stats.late_as_of", value=as_of, last=YEARS.stop - 1), field="as_of")
        return as_of
    today = date.today()
    return min(date(year, 12, 31), today) if year else today


def compute_stats(store: Store, *, as_of: date | None = None, year: int | None = None, source: str | None = None,
                  batch: str | None = None, village: str | None = None, by: list[str] = (),
                  known_at: datetime | None = None, approved_cultivated_mu: float | None = None,
                  villages: Collection[str] | None = None, patch_ids: Collection[int] | None = None) -> dict:
    """Figures per group and in total, as of a date (default: today, or the end of ``year``);
    ``patch_ids`` narrows them to the patches of a searched list.

    JSON shape: ``{"as_of", "known_at", "filters", "by", "groups": [{"key", <figures>,
    "printed"}], "total": {<figures>, "printed"}, "withdrawn"}``.
    """
    by = list(by)
    for name in by:
        if name not in BY:
            raise InvalidValueError(msg("stats.bad_by", name=name, choices=", ".join(BY)), field="by")
    if approved_cultivated_mu is not None and approved_cultivated_mu <= 0:
        raise InvalidValueError(msg("stats.bad_approved"), field="approved_cultivated_mu")
    day = default_as_of(year, as_of)
    where, params = repo.figure_filters(year=year, source=source, batch=batch, village=village, villages=villages,
                                        patch_ids=patch_ids)
    query = dict(as_of=day, known_at=known_at, filters=where, params=params)
    with store.engine.connect() as conn:
        groups = repo.grouped_figures(conn, store, by=by, **query)
        group_cases = repo.grouped_cases(conn, store, by=by, **query)
        for row in groups:
            row.update(group_cases.get(repo.group_values(row), {"cases": 0, "cases_closed": 0, "fines_yuan": 0.0}))
        # Patch sums add up across groups; distinct cases do not (a case may span groups).
        total_sums = {k: sum((g.get(k) or 0) for g in groups) for k in SUMS} if by else dict(groups[0])
        total_sums.update(repo.grouped_cases(conn, store, by=[], **{**query, "known_at": None})
                          .get((), {"cases": 0, "cases_closed": 0, "fines_yuan": 0.0}))
        if not (source or batch or village or year or villages is not None or patch_ids is not None):
            total_sums.update(repo.all_cases(conn, day))
        withdrawn = repo.withdrawn_count(conn, day, source=source, batch=batch, villages=villages)
    total = derive(total_sums, approved_cultivated_mu)
    result_groups = []
    for row in groups:
        key = {}
        for name in by:
            key[name] = row[f"key_{name}"]
            if f"label_{name}" in row:
                key[f"{name}_name"] = row[f"label_{name}"]
        result_groups.append({"key": key, **derive(row, approved_cultivated_mu)})
    result_groups.sort(key=lambda g: tuple(str(v) for v in g["key"].values()))
    _printed(result_groups, total)
    return {"as_of": day, "known_at": known_at, "filters": {"year": year, "source": source, "batch": batch,
                                                             "village": village},
            "by": by, "groups": result_groups, "total": total, "withdrawn": int(withdrawn)}


def _printed(groups: list[dict], total: dict) -> None:
    """Printed values: additive figures rounded so the groups add up to the total, none above its whole."""
    total["printed"] = {name: fmt(round(total[name], 2)) for name in ADDITIVE}
    totals = {name: (sum(g[name] for g in groups) if name in NOT_SUMMED else total[name]) for name in ADDITIVE}
    for g, values in zip(groups, round_table(groups, totals, ADDITIVE, WHOLES)):
        g["printed"] = {name: fmt(value) for name, value in values.items()}
    for item in [total, *groups]:
        for name, (part, whole) in RATE_PARTS.items():
            item["printed"][name] = format_rate(item[part], item[whole])
        mean = item.get("review_mean_days")
        item["printed"]["review_mean_days"] = "-" if mean is None else f"{mean:.1f}"
        if "illegal_cultivated_share" in item:
            item["printed"]["illegal_cultivated_share"] = f"{item['illegal_cultivated_share'] * 100:.2f}%"
        for name in SUMS:
            if name not in item["printed"]:
                item["printed"][name] = str(item[name]) if isinstance(item[name], int) else fmt(item[name])


SUBJECTS = ("patches", "patrols", "complaints", "cases")


def subject_stats(store: Store, subject: str, *, as_of: date | None = None, year: int | None = None) -> dict:
    """Figures of patrols (by month), complaints (by channel) or cases (by category), same JSON shape."""
    from .cases import case_figures
    from .complaints import complaint_figures

    if subject not in SUBJECTS[1:]:
        raise InvalidValueError(msg("stats.bad_subject", subject=subject, choices=", ".join(SUBJECTS)), field="subject")
    day = default_as_of(year, as_of)
    if subject == "patrols":
        with store.engine.connect() as conn:
            rows = patrols_repo.monthly(conn, day, year)
        groups = [{"key": {"month": r["month"]}, "patrols": int(r["patrols"]), "findings": int(r["findings"]),
                   "findings_area_mu": float(r["findings_area_mu"])} for r in rows]
        total = {k: sum(g[k] for g in groups) for k in ("patrols", "findings", "findings_area_mu")}
        by = ["month"]
    elif subject == "complaints":
        total = complaint_figures(store, day, year)
        with store.engine.connect() as conn:
            rows = complaints_repo.by_channel(conn, day, year)
        groups = [{"key": {"channel": r["channel"]}, "received": int(r["received"]),
                   "responded": int(r["responded"] or 0), "closed": int(r["closed"] or 0),
                   "response_rate": format_rate(int(r["responded"] or 0), int(r["received"])),
                   "completion_rate": format_rate(int(r["closed"] or 0), int(r["received"]))} for r in rows]
        by = ["channel"]
    else:
        figures = case_figures(store, day, year)
        groups = [{"key": {"category": r["category"]}, "cases": int(r["cases"]), "closed": int(r["closed"] or 0),
                   "fines_yuan": float(r["fines_yuan"] or 0)} for r in figures["by_category"]]
        total = {**figures["total"], "by_outcome": {r["outcome"]: int(r["cases"]) for r in figures["by_outcome"]}}
        by = ["category"]
    return {"as_of": day, "subject": subject, "filters": {"year": year}, "by": by, "groups": groups, "total": total}
