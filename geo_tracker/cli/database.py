"""``init`` and ``info``."""

from __future__ import annotations

import click
from rich.table import Table

from ..services.database import database_info, init_database
from .app import AppContext, cli, console, echo_json, say
from .words import WORDS


@cli.command()
@click.pass_obj
def init(app: AppContext):
    """Create the database, or upgrade it to this version's schema (safe to repeat).

    Example:

        geo-tracker --db postgresql://127.0.0.1/county init
    """
    result = init_database(app.db_url)
    if result.changed:
        click.echo(say("db.upgraded", url=result.url, backend=result.backend,
                       before=result.from_revision or say("db.empty"), after=result.to_revision))
    else:
        click.echo(say("db.current", url=result.url, backend=result.backend, revision=result.to_revision))


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_obj
def info(app: AppContext, as_json: bool):
    """Show the database, its backend, library versions and row counts.

    Example:

        geo-tracker info --json
    """
    with app.open_store() as store:
        data = database_info(store)
    if as_json:
        echo_json(data)
    else:
        print_info(data)


def print_info(data: dict) -> None:
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    for key in ("geo_tracker", "database", "backend", "schema_revision"):
        table.add_row(say(f"info.{key}"), str(data[key]))
    for name, version in data["versions"].items():
        table.add_row(name, str(version))
    for name, count in data["counts"].items():
        table.add_row(say("info.rows", table=say(f"table.{name}") if f"table.{name}" in WORDS else name), str(count))
    console().print(table)
