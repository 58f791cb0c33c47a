"""``demo``."""

from __future__ import annotations

import click

from ..services.demo import run_demo
from .app import AppContext, cli, console
from .batches import print_batches, print_report
from .database import print_info


@cli.command()
@click.pass_obj
def demo(app: AppContext):
    """Build a demo database, import the shipped sample batches, and show the result.

    Uses --db when given, else ./geo_tracker_demo.sqlite (recreated on every run).

    Example:

        geo-tracker demo
    """
    result = run_demo(app.db_url)
    for report in result.imports:
        print_report(report)
        console().print()
    print_batches(result.batches)
    console().print()
    print_info(result.info)
