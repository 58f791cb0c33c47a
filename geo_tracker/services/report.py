"""The annual (or as-of) report: figures, sentences, per-village table and charts, as a 公文."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from pathlib import Path

from ..catalogue import msg
from ..core.lifecycle import month_ends
from ..errors import InvalidValueError
from ..reports import charts, phrases
from ..reports.render import DocumentStyle, inline_images, render_text, write_docx
from ..store import Store
from ..store import cases as cases_repo
from ..store import patrols as patrols_repo
from . import review
from .cases import list_cases
from .complaints import complaint_figures
from .imagery import report_pairs
from .stats import compute_stats, default_as_of


def _patrol_counts(store: Store, as_of: date, year: int | None) -> tuple[int, int]:
    with store.engine.connect() as conn:
        return patrols_repo.counts(conn, as_of, year)


def latest_year(store: Store, villages=None, today: date | None = None) -> int | None:
    """The latest year (up to this one) in which patches were issued: where a dashboard opens."""
    today = today or date.today()
    months = compute_stats(store, as_of=today, by=["month"], villages=villages)["groups"]
    years = [int(str(g["key"]["month"])[:4]) for g in months
             if g["patches"] and g["key"]["month"] and int(str(g["key"]["month"])[:4]) <= today.year]
    return max(years) if years else None


def case_register(store: Store, day: date, year: int | None, villages=None) -> dict:
    """Cases opened in the year by ``day``: counts, 办结, decided but not 办结, fines, by category.

    办结 (``cases_closed``) is a case whose decision was executed (执行完毕) or that was closed
    (结案) on or before ``day``; a case with a decision only is counted as decided
    (``cases_decided``: 已作出处罚决定尚未办结), not as 办结.
    """
    rows = [r for r in list_cases(store, as_of=day, villages=villages)
            if year is None or r["opened_on"].year == year]
    decided = [r for r in rows if r["decided_on"]]
    categories = Counter(r["category"] for r in rows if r["category"])
    outcomes = Counter(r["outcome"] for r in decided if r["outcome"])
    return {
        "cases": len(rows),
        "cases_closed": sum(1 for r in rows if r["status"] in ("executed", "closed")),
        "cases_decided": sum(1 for r in rows if r["status"] == "decided"),
        "fines_yuan": sum(float(r["decided_fine_yuan"] or 0) for r in decided),
        "by_category": [{"category": k, "cases": n} for k, n in categories.most_common()],
        "by_outcome": [{"outcome": k, "cases": n} for k, n in outcomes.most_common()],
    }


def default_issuer(store: Store) -> str | None:
    """发文单位 when none is given: the township's people's government, when one township is loaded."""
    from .boundaries import list_boundaries

    townships = list_boundaries(store, level="township")
    return f"{townships[0]['name']}人民政府" if len(townships) == 1 and townships[0].get("name") else None


def _sentences(store: Store, day: date, year: int | None, by_source: dict, villages) -> dict:
    """Every paragraph's text; a register with nothing in it gives an empty text."""
    sources = {g["key"]["source"]: g for g in by_source["groups"]}
    whole = villages is None
    with store.engine.connect() as conn:
        words = {s: (cases_repo.most_frequent(conn, s, "violation", day), cases_repo.most_frequent(conn, s, "act", day))
                 if whole else ([], []) for s in ("natural-resources", "forestry")}
    empty = compute_stats(store, as_of=date(1900, 1, 1), by=[])["total"]
    nr, fo = sources.get("natural-resources", empty), sources.get("forestry", empty)
    register = case_register(store, day, year, villages)
    complaints = complaint_figures(store, day, year) if whole else None
    patrols = _patrol_counts(store, day, year) if whole else (0, 0)
    return {
        "natural_resources": phrases.natural_resources_sentence(nr, *words["natural-resources"]),
        "natural_resources_review": _review_sentence(store, "natural-resources", nr, day, year, villages),
        "forestry": phrases.forestry_sentence(fo, *words["forestry"]),
        "forestry_review": _review_sentence(store, "forestry", fo, day, year, villages),
        "cases": phrases.cases_sentence(register),
        "case_categories": phrases.case_category_sentence(register) if whole else "",
        "patrols": phrases.patrol_sentence(*patrols) if whole else "",
        "complaints": phrases.complaint_sentence(complaints) if whole else "",
        "_empty": {"natural_resources": not nr["patches"], "forestry": not fo["patches"],
                   "cases": not register["cases"], "patrols": not patrols[0],
                   "complaints": not (complaints or {}).get("received")},
    }


def _review_sentence(store: Store, source: str, figures: dict, day: date, year: int | None, villages) -> str:
    reasons = review.main_reasons(store, source, day, villages=villages, year=year)
    return phrases.review_sentence(figures, review.level_label(store, source), reasons)


SECTIONS = (  # heading, the sentences it prints
    ("自然资源图斑整改情况", ("natural_resources", "natural_resources_review")),
    ("森林督查图斑整改情况", ("forestry", "forestry_review")),
    ("立案查处情况", ("cases", "case_categories")),
    ("日常巡查情况", ("patrols",)),
    ("投诉举报办理情况", ("complaints",)),
)


def _sections(sentences: dict, include_empty: bool) -> list[dict]:
    """The numbered sections; one whose register is empty is left out unless asked for."""
    empty = sentences.pop("_empty")
    kept = []
    for title, keys in SECTIONS:
        if empty[keys[0]] and not include_empty:
            sentences.update(dict.fromkeys(keys, ""))
        else:
            kept.append((title, keys))
    return [{"heading": phrases.heading(i, title), "text": "".join(sentences[k] for k in keys)}
            for i, (title, keys) in enumerate(kept)]


def report_context(store: Store, *, year: int | None = None, as_of: date | None = None,
                   known_at: datetime | None = None, chart_dir: Path | None = None, villages=None,
                   issuer: str | None = None, signed_on: date | None = None, include_empty: bool = False) -> dict:
    """Everything a report template needs; charts are written into ``chart_dir`` when given.

    Without a year or date the report is of the latest year with data (where the
    dashboard opens), as of today: that year's patches with all the work done on them
    since, so a rectification recorded today shows at once. ``villages`` (a user's scope) limits the figures to those
    villages; the county-wide registers (case categories, patrols, complaints) are
    then left out.
    """
    if year is None and as_of is None:
        year, as_of = latest_year(store, villages), date.today()
    day = default_as_of(year, as_of)
    by_source = compute_stats(store, as_of=day, year=year, by=["source"], known_at=known_at, villages=villages)
    by_village = compute_stats(store, as_of=day, year=year, by=["village"], known_at=known_at, villages=villages)
    rows = [{**g, "name": g["key"].get("village_name") or "（村界外）"} for g in by_village["groups"]]
    sentences = _sentences(store, day, year, by_source, villages)
    sections = _sections(sentences, include_empty)
    issuer = issuer if issuer is not None else default_issuer(store)
    signed_on = signed_on or date.today()
    as_of_cn = phrases.cn_date(day)
    context = {
        "title": f"{issuer or ''}关于{year or day.year}年图斑整改情况的报告",
        "title_lines": [line for line in (issuer, f"关于{year or day.year}年图斑整改情况的报告") if line],
        "as_of": day.isoformat(), "as_of_cn": as_of_cn, "year": year,
        "opening": phrases.opening_sentence(year, as_of_cn),
        "sources": {g["key"]["source"]: g for g in by_source["groups"]},
        "sentences": sentences, "sections": sections,
        "table_heading": phrases.heading(len(sections), "分村统计"),
        "table_note": phrases.table_note(),
        "villages": rows, "total": by_village["total"],
        "issuer": issuer or "", "signed_on": signed_on.isoformat(), "signed_on_cn": phrases.cn_date(signed_on),
        "charts": None,
    }
    if chart_dir is not None:
        _charts(store, context, chart_dir, year, day, known_at, villages)
    return context


def _charts(store: Store, context: dict, chart_dir: Path, year: int | None, day: date, known_at, villages) -> None:
    """The month-end line (cumulative rectified against illegal area) and the village bars."""
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
            [(r["name"], r["area_mu"], r["rectified_mu"]) for r in context["villages"]],
            chart_dir / "villages.png", "分村图斑与整改面积")),
    }


def write_report(store: Store, path: str | Path, fmt: str, *, year: int | None = None, as_of: date | None = None,
                 template: str | Path | None = None, charts: bool = True, villages=None, issuer: str | None = None,
                 signed_on: date | None = None, include_empty: bool = False,
                 style: DocumentStyle | None = None, imagery: bool = False) -> dict:
    """Write the report as md (charts beside it), html (charts inlined) or docx; returns its context.
    With ``imagery`` a Word report ends with an annex: each patch on its before and after images."""
    path = Path(path)
    if imagery and fmt != "docx":
        raise InvalidValueError(msg("report.imagery_docx_only", fmt=fmt), field="imagery")
    chart_dir = path.with_name(path.stem + "_charts") if charts else None
    context = report_context(store, year=year, as_of=as_of, chart_dir=chart_dir, villages=villages,
                             issuer=issuer, signed_on=signed_on, include_empty=include_empty)
    if imagery:
        context["imagery_pairs"], context["imagery_left_out"] = report_pairs(store, year=context.get("year"),
                                                                             villages=villages)
    if fmt == "docx":
        write_docx(context, path, style)
        return context
    if fmt == "html":
        context = inline_images(context)
    elif context["charts"]:
        context = {**context, "charts": {k: str(Path(v).relative_to(path.parent.resolve())
                                                if Path(v).is_absolute() else Path(v).relative_to(path.parent))
                                         for k, v in context["charts"].items()}}
    path.write_text(render_text(context, fmt, template), encoding="utf-8")
    return context
