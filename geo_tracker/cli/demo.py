"""``demo``."""

from __future__ import annotations

from pathlib import Path

import click

from ..services.demo import run_demo
from .app import AppContext, cli, console
from rich.table import Table

from .batches import print_batches, print_report
from .boundaries import print_boundary_report
from .database import print_info


@cli.command()
@click.pass_obj
def demo(app: AppContext):
    """Build a demo database, import the shipped sample batches, and show the result.

    Uses --db when given, else ./geo_tracker_demo.sqlite (recreated on every run).

    Example:

        geo-tracker demo
    """
    result = run_demo(app.db_url, output_dir=Path("geo_tracker_demo_output"), map_path=Path("maps") / "demo.html")
    for boundary in result.boundaries:
        print_boundary_report(boundary)
    console().print()
    for report in result.imports:
        print_report(report)
        console().print()
    print_batches(result.batches)
    console().print()
    per_village = result.patches.groupby("village_name", dropna=False).agg(
        patches=("patch_code", "size"), area_mu=("area_mu", "sum"))
    table = Table("village", "patches", "area 亩")
    for name, row in per_village.iterrows():
        table.add_row(str(name) if name == name else "(outside)", str(row["patches"]), f"{row['area_mu']:.2f}")
    console().print(table)
    console().print()
    print_info(result.info)
    console().print()
    for group in result.stats["groups"]:
        p = group["printed"]
        console().print(f"2023 {group['key']['source']}: {group['patches']} patches, {p['area_mu']} 亩 "
                        f"(耕地 {p['cultivated_mu']}), illegal {group['illegal']}, case-filed {group['case_filed']}, "
                        f"rectified {p['rectified_mu']} 亩 (耕地 {p['rectified_cultivated_mu']})")
    for path in result.report_files:
        console().print(f"written: {path}")
    console().print()
    names = ", ".join(f"{a['username']} ({a['role']})" for a in result.accounts)
    console().print(f"demo accounts: {names}; password for all: {result.password}")
    console().print("serve it: geo-tracker --db sqlite:///geo_tracker_demo.sqlite serve, open http://127.0.0.1:8000/ "
                    "and log in (QGIS: OGC API Features at /ogc with the same user name and password)")
