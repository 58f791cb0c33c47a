"""``stats`` and ``report``."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import click
from rich.table import Table

from ..reports.render import FORMATS
from ..services.report import write_report
from ..services.stats import BY, SUBJECTS, compute_stats, subject_stats
from .app import AppContext, DATE, cli, console, figure_word, joined, say

COLUMNS = [  # figure, Chinese header
    ("patches", "图斑（个）"), ("area_mu", "面积（亩）"), ("cultivated_mu", "耕地（亩）"),
    ("issued_area_mu", "下发面积（亩）"), ("verified", "已核查"), ("illegal", "违法"),
    ("illegal_area_mu", "违法面积（亩）"), ("case_filed", "已立案"), ("rectified", "整改到位"),
    ("closed", "已销号"), ("rectified_mu", "整改面积（亩）"), ("rectified_cultivated_mu", "整改耕地（亩）"),
    ("rectification_rate_area", "整改率（面积）"), ("rectification_rate_count", "整改率（个数）"),
    ("case_filing_rate", "立案率"), ("case_closing_rate", "结案率"), ("overdue", "逾期"),
    ("cases", "案件（宗）"), ("fines_yuan", "罚款（元）"), ("fines_wan", "罚款（万元）"),
    ("demolished_m2", "拆除面积（平方米）"), ("demolished_mu", "拆除面积（亩）"),
]


@cli.command()
@click.option("--as-of", type=DATE, help="Figures as of this date (default: today, or the end of --year).")
@click.option("--known-at", type=click.DateTime(), help="Only what was recorded by this moment.")
@click.option("--year", type=int, help="Only patches issued in this year.")
@click.option("--source", help="natural-resources, forestry, ...")
@click.option("--batch")
@click.option("--village", help="12-digit village code.")
@click.option("--by", "by", multiple=True, type=click.Choice(BY), help="Group by (repeatable).")
@click.option("--approved-cultivated-mu", type=float,
              help="The year's newly approved construction land on cultivated land (亩), for the 15号令 ratio.")
@click.option("--subject", type=click.Choice(SUBJECTS), default="patches", show_default=True,
              help="What to count: patches, patrols (by month), complaints (by channel), cases (by category).")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv", "xlsx"]), default="table", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to this file (xlsx needs it).")
@click.pass_obj
def stats(app: AppContext, as_of, known_at, year, source, batch, village, by, approved_cultivated_mu, subject, fmt,
          output):
    """Area statistics as of a date, by village, batch, source, status, violation or month.

    Example:

        geo-tracker stats --year 2023 --by source --by village --format xlsx -o 2023统计.xlsx
    """
    if subject != "patches":
        with app.open_store() as store:
            data = subject_stats(store, subject, as_of=as_of.date() if as_of else None, year=year)
        if fmt == "json":
            _emit(json.dumps(data, ensure_ascii=False, indent=2, default=str), output)
            return
        columns = [k for k in (data["groups"][0] if data["groups"] else {}) if k != "key"]
        table = Table(*(figure_word(k) for k in (*data["by"], *columns)))
        for g in data["groups"]:
            table.add_row(*(str(v) for v in g["key"].values()), *(str(g[c]) for c in columns))
        console().print(say("subject.head", subject=say(f"subject.{subject}"), as_of=data["as_of"]))
        console().print(table)
        console().print(say("subject.total", figures=_figures(data["total"])), markup=False)
        return
    with app.open_store() as store:
        data = compute_stats(store, as_of=as_of.date() if as_of else None, year=year, source=source, batch=batch,
                             village=village, by=list(by), known_at=known_at.astimezone() if known_at else None,
                             approved_cultivated_mu=approved_cultivated_mu)
    rows = [({**g["key"]}, g) for g in data["groups"]] + [({"合计": "合计"}, data["total"])]
    if fmt == "json":
        _emit(json.dumps(data, ensure_ascii=False, indent=2, default=str), output)
    elif fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        key_names = list(rows[0][0]) if data["groups"] else []
        writer.writerow(key_names + [label for _, label in COLUMNS])
        for key, figures in rows:
            writer.writerow([key.get(k, "合计") for k in key_names] + [figures["printed"].get(c, "") for c, _ in COLUMNS])
        _emit(buffer.getvalue(), output, encoding="utf-8-sig")
    elif fmt == "xlsx":
        if not output:
            raise click.UsageError("--format xlsx needs -o FILE.xlsx")
        _write_xlsx(rows, data, Path(output))
        click.echo(say("written", path=output))
    else:
        table = Table(*(["分组"] + [label for _, label in COLUMNS[:14]]))
        for key, figures in rows:
            label = " / ".join(str(v) for k, v in key.items() if not k.endswith("_name") or True)
            table.add_row(label, *(figures["printed"].get(c, "") for c, _ in COLUMNS[:14]))
        console().print(f"截至 {data['as_of']}" + (f"（撤回图斑 {data['withdrawn']} 个未计入）" if data["withdrawn"] else ""))
        console().print(table)
        total = data["total"]
        if "illegal_cultivated_share" in total:
            flag = "，达到15号令问责标准（≥15%）" if total["accountability_triggered"] else ""
            console().print(f"违法占用耕地比例 {total['printed']['illegal_cultivated_share']}{flag}")


def _figures(total: dict) -> str:
    """A total as a line: 巡查（次） 12、发现问题（宗） 3 …; nested figures (by outcome) in brackets."""
    return joined(f"{figure_word(k)} " + (f"（{joined(f'{i} {n}' for i, n in v.items())}）" if isinstance(v, dict) else str(v))
                  for k, v in total.items())


def _emit(text: str, output: str | None, encoding: str = "utf-8") -> None:
    if output:
        Path(output).write_text(text, encoding=encoding)
    else:
        click.echo(text)


def _write_xlsx(rows, data: dict, path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = f"截至{data['as_of']}"
    key_names = list(rows[0][0]) if data["groups"] else ["合计"]
    ws.append(key_names + [label for _, label in COLUMNS])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for key, figures in rows:
        values = []
        for column, _ in COLUMNS:
            value = figures["printed"].get(column)
            values.append(float(value.rstrip("%")) / 100 if isinstance(value, str) and value.endswith("%")
                          else (float(value) if value not in (None, "-") else None))
        ws.append([key.get(k, "合计") for k in key_names] + values)
    for i, (column, _) in enumerate(COLUMNS, start=len(key_names) + 1):
        fmt = "0.00%" if "rate" in column else ("0" if column in ("patches", "verified", "illegal", "case_filed",
                                                                   "rectified", "closed", "overdue", "cases") else "0.00")
        for row in ws.iter_rows(min_row=2, min_col=i, max_col=i):
            row[0].number_format = fmt
    ws.freeze_panes = "A2"
    wb.save(path)


@cli.command()
@click.option("--year", type=int, help="The report's year (as of its end, or today; default: the latest year with data).")
@click.option("--as-of", type=DATE, help="Report as of this date.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None, help="Default: from -o's suffix.")
@click.option("--template", type=click.Path(dir_okay=False), help="Your copy of a Jinja2 template (md/html).")
@click.option("--no-charts", is_flag=True, help="Leave the charts out.")
@click.option("--issuer", help="发文单位 at the end (default: setting report_issuer, else the township's 人民政府).")
@click.option("--date", "signed_on", type=DATE, help="成文日期 at the end (default: today).")
@click.option("--include-empty", is_flag=True, help="Print sections whose register is empty (巡查0次 …).")
@click.option("--imagery", is_flag=True, help="Word only: an annex with each patch on its before and after images.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), required=True)
@click.pass_obj
def report(app: AppContext, year, as_of, fmt, template, no_charts, issuer, signed_on, include_empty, imagery, output):
    """Write the report: narrative per source, per-village table, charts (md, html or docx).

    The Word file is laid out as a 公文 (GB/T 9704), signed by --issuer on --date.

    Example:

        geo-tracker report --year 2023 --issuer 澄江镇人民政府 --date 2024-01-18 -o 2023年图斑整改报告.docx
    """
    from ..config import load_settings
    from ..reports.render import DocumentStyle

    path = Path(output)
    fmt = fmt or path.suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise click.UsageError(f"cannot tell the format of {path.name}: use --format {'|'.join(FORMATS)}")
    settings = load_settings()
    style = DocumentStyle(title_font=settings.report_title_font, body_font=settings.report_body_font,
                          heading_font=settings.report_heading_font)
    with app.open_store() as store:
        context = write_report(store, path, fmt, year=year, as_of=as_of.date() if as_of else None,
                               template=template, charts=not no_charts,
                               issuer=issuer if issuer is not None else settings.report_issuer,
                               signed_on=signed_on.date() if signed_on else None, include_empty=include_empty,
                               style=style, imagery=imagery)
    click.echo(say("written", path=path))
    for section in context["sections"]:
        click.echo(f"{section['heading']}\n{section['text']}")
