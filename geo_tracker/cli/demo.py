"""``demo``."""

from __future__ import annotations

from pathlib import Path

import click

from ..services.demo import DEMO_PAIR_PATCH, run_demo
from .app import AppContext, cli, console, joined, role_word, say, source_word, table

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
    listing = table("village", "patches", "area")
    for name, row in per_village.iterrows():
        listing.add_row(str(name) if name == name else say("demo.outside"), str(row["patches"]), f"{row['area_mu']:.2f}")
    console().print(listing)
    console().print()
    print_info(result.info)
    console().print()
    for group in result.stats["groups"]:
        p = group["printed"]
        console().print(say("demo.figures", source=source_word(group["key"]["source"]), patches=group["patches"],
                            area=p["area_mu"], cultivated=p["cultivated_mu"], illegal=group["illegal"],
                            filed=group["case_filed"], rectified=p["rectified_mu"],
                            rectified_cultivated=p["rectified_cultivated_mu"]))
    for path in result.report_files:
        console().print(say("demo.written", path=path))
    if result.imagery:
        console().print(say("demo.imagery", layers=joined(f"{i['date']} {i['name']}（{i['label']}）" for i in result.imagery),
                            patch=DEMO_PAIR_PATCH))
    console().print()
    names = joined(f"{a['username']} ({role_word(a['role'])})" for a in result.accounts)
    console().print(say("demo.accounts", names=names, password=result.password))
    console().print(say("demo.serve"))
