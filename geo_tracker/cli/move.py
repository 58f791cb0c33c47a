"""``move``: the whole ledger into another database (SpatiaLite -> PostGIS, or back)."""

from __future__ import annotations

import time
from pathlib import Path

import click

from ..services.move import MoveResult, move_ledger
from .app import AppContext, cli, console, echo_json, figure_word, language, say, status_word, table
from .words import WORDS

#: Tables from this many rows on get a line on stderr when they are done.
LARGE_TABLE_ROWS = 10_000


@cli.command()
@click.option("--to", "target", required=True, metavar="URL",
              help="The database to move into: postgresql://HOST/DB or sqlite:///FILE (created when missing).")
@click.option("--evidence-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where the target keeps evidence files (default: its own folder: $GEO_TRACKER_EVIDENCE_DIR, "
                   "else beside a SpatiaLite file, else ./geo_tracker_evidence).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of lines and a table.")
@click.pass_obj
def move(app: AppContext, target: str, evidence_dir: Path | None, as_json: bool):
    """Move the whole ledger into another database, ids and history kept; login sessions stay behind.

    One transaction on the target, checked against the source (counts and totals) before it
    commits. The target must be empty or already hold this same ledger (then nothing changes).

    Example:

        geo-tracker --db sqlite:///office.sqlite move --to postgresql://127.0.0.1/beibei
    """
    from ..store import open_store

    with open_store(app.db_url, check_schema=False) as source:
        result = move_ledger(source, target, evidence_dir=evidence_dir, progress=_progress())
    if as_json:
        echo_json(_as_json(result))
        return
    for warning in result.warnings:
        console(stderr=True).print(say("import.warning", text=warning))
    if result.already_there:
        click.echo(say("move.already", target=result.target, ledger=result.ledger_id, source=result.source))
    else:
        click.echo(say("move.done", ledger=result.ledger_id, source=result.source, target=result.target,
                       rows=sum(result.counts.values()), tables=len(result.counts), files=result.evidence_copied,
                       sessions=result.sessions_left, seconds=f"{result.seconds:.1f}"))
    print_comparison(result)


def _progress():
    """A line on stderr as each large table is done."""
    started = {}

    def update(name: str, done: int, total: int) -> None:
        started.setdefault(name, time.perf_counter())
        if done >= total >= LARGE_TABLE_ROWS:
            click.echo(say("move.table", table=_table_word(name), rows=done,
                           seconds=f"{time.perf_counter() - started[name]:.1f}"), err=True)

    return update


def _table_word(name: str) -> str:
    return say(f"table.{name}") if f"table.{name}" in WORDS else name


def _total_word(name: str) -> str:
    """A stats figure as ``stats`` heads it (图斑（个）, 违法面积（亩） …)."""
    if language() != "zh":
        return name
    from .stats import COLUMNS

    headers = dict(COLUMNS)
    if name in headers:
        return headers[name]
    return status_word(name) if name in ("legal", "no_change") else figure_word(name)


def print_comparison(result: MoveResult) -> None:
    """Rows per table, then the stats totals: source beside target."""
    source, target = result.source_summary, result.target_summary
    different = {d.what for d in result.differences}
    rows = table("what", "moved_from", "moved_to", "same", title=say("move.rows_compared"))
    for name, count in source["counts"].items():
        rows.add_row(_table_word(name), str(count), str(target["counts"].get(name)),
                     "✗" if f"count:{name}" in different else say("yes"))
    title = say("move.totals_compared", as_of=source["as_of"])
    totals = table("what", "moved_from", "moved_to", "same", title=title)
    for name, value in source["totals"].items():
        totals.add_row(_total_word(name), _number(value), _number(target["totals"].get(name)),
                       "✗" if f"total:{name}" in different else say("yes"))
    console().print(rows)
    console().print(totals)


def _number(value) -> str:
    return f"{value:.6f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)


def _as_json(result: MoveResult) -> dict:
    return {"source": result.source, "target": result.target, "ledger_id": result.ledger_id,
            "already_there": result.already_there, "counts": result.counts,
            "source_summary": result.source_summary, "target_summary": result.target_summary,
            "differences": [d.__dict__ for d in result.differences], "sessions_left": result.sessions_left,
            "evidence_copied": result.evidence_copied, "warnings": [str(w) for w in result.warnings],
            "seconds": round(result.seconds, 3)}
