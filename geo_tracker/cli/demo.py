"""``demo``."""

from __future__ import annotations

import click

from ..services.demo import run_demo
from .app import AppContext, cli
from .database import print_info


@cli.command()
@click.pass_obj
def demo(app: AppContext):
    """Build a demo database from the shipped samples and print its info.

    Uses --db when given, else ./geo_tracker_demo.sqlite (recreated on every run).
    """
    print_info(run_demo(app.db_url))
