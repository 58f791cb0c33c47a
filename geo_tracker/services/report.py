"""The annual (or as-of) report: figures, sentences, per-village table and charts."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path


from ..core.lifecycle import month_ends
from ..reports import charts, phrases
from ..reports.render import inline_images, render_text, write_docx
from ..store import Store
from ..store import cases as cases_repo
from ..store import patrols as patrols_repo
from .cases import case_figures
from .complaints import complaint_figures
from .stats import compute_stats, default_as_of


def _patrol_counts(store: Store, as_of: date, year: int | None) -> tuple[int, int]:
    with store.engine.connect() as conn:
        return patrols_repo.counts(conn, as_of, year)


def report_context(store: Store, *, year: int | None = None, as_of: date | None = None,
                   known_at: datetime | None = None, chart_dir: Path | None = None, villages=None) -> dict:
    """Everything a report template needs; charts are written into ``chart_dir`` when given.

    ``villages`` (a user's scope) limits the patch figures to those villages; the
    county-wide registers (case categories, patrols, complaints) are then left out.
    """
    day = default_as_of(year, as_of)
    by_source = compute_stats(store, as_of=day, year=year, by=["source"], known_at=known_at,
                              villages=villages)
    sources = {g["key"]["source"]: g for g in by_source["groups"]}
    empty = compute_stats(store, as_of=date(1900, 1, 1), by=[])["total"]
    with store.engine.connect() as conn:
        words = {s: (cases_repo.most_frequent(conn, s, "violation", day), cases_repo.most_frequent(conn, s, "act", day))
                 if villages is None else ([], [])
                 for s in ("natural-resources", "forestry")}
    whole = villages is None
    nr = sources.get("natural-resources", empty)
    fo = sources.get("forestry", empty)
    by_village = compute_stats(store, as_of=day, year=year, by=["village"], known_at=known_at,
                               villages=villages)
    rows = []
    for g in by_village["groups"]:
        name = g["key"].get("village_name") or "（村界外）"
        rows.append({**g, "name": name})
    context = {
        "title": f"{year or day.year}年图斑整改情况报告",
        "as_of": day.isoformat(),
        "as_of_cn": f"{day.year}年{day.month}月{day.day}日",
        "year": year,
        "sources": sources,
        "sentences": {
            "natural_resources": phrases.natural_resources_sentence(nr, *words["natural-resources"]),
            "forestry": phrases.forestry_sentence(fo, *words["forestry"]),
            "cases": phrases.cases_sentence(by_source["total"]),
            "case_categories": phrases.case_category_sentence(case_figures(store, day, year)) if whole else "",
            "patrols": phrases.patrol_sentence(*_patrol_counts(store, day, year)) if whole else "",
            "complaints": phrases.complaint_sentence(complaint_figures(store, day, year)) if whole else "",
        },
        "villages": rows,
        "total": by_village["total"],
        "charts": None,
    }
    if chart_dir is not None:
        chart_dir.mkdir(parents=True, exist_ok=True)
        start_year = year or day.year
        points = []
        first = date(start_year, 1, 1)
        for end in month_ends(first, min(date(start_year, 12, 31), day)) if day >= first else []:
            t = compute_stats(store, as_of=end, year=year, known_at=known_at, villages=villages)["total"]
            points.append((f"{end.month}月", t["rectified_mu"], t["illegal_area_mu"]))
        context["monthly"] = points
        context["charts"] = {
            "cumulative": str(charts.cumulative_rectified_chart(
                points, chart_dir / "rectified_by_month.png", f"{start_year}年累计整改面积")),
            "villages": str(charts.village_chart(
                [(r["name"], r["area_mu"], r["rectified_mu"]) for r in rows], chart_dir / "villages.png",
                "分村图斑与整改面积")),
        }
    return context


def write_report(store: Store, path: str | Path, fmt: str, *, year: int | None = None, as_of: date | None = None,
                 template: str | Path | None = None, charts: bool = True, villages=None) -> dict:
    """Write the report as md (charts beside it), html (charts inlined) or docx; returns its context."""
    path = Path(path)
    chart_dir = path.with_name(path.stem + "_charts") if charts else None
    context = report_context(store, year=year, as_of=as_of, chart_dir=chart_dir, villages=villages)
    if fmt == "docx":
        write_docx(context, path)
        return context
    if fmt == "html":
        context = inline_images(context)
    elif context["charts"]:
        context = {**context, "charts": {k: str(Path(v).relative_to(path.parent.resolve())
                                                if Path(v).is_absolute() else Path(v).relative_to(path.parent))
                                         for k, v in context["charts"].items()}}
    path.write_text(render_text(context, fmt, template), encoding="utf-8")
    return context
