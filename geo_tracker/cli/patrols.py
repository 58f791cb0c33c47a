"""``patrols`` and ``complaints``."""

from __future__ import annotations

import click

from ..catalogue import msg
from ..errors import NotFoundError
from ..services import patrols as patrol_service
from .app import USER, DATE, AppContext, cli, console, echo_json, joined, lonlat, say, table


@cli.group()
def patrols():
    """Patrols (巡查): tracks, villages covered, findings that become patches."""


@patrols.command("add")
@click.option("--on", "on", type=DATE, required=True)
@click.option("--track", type=click.Path(), help="GPX / KML / GeoJSON track of the patrol.")
@click.option("--villages", multiple=True, help="Village codes covered (besides those the track crosses).")
@click.option("--members", help="Who patrolled.")
@click.option("--with", "departments", multiple=True, help="Departments patrolling jointly (repeatable).")
@click.option("--note")
@USER
@click.pass_obj
def add(app: AppContext, on, track, villages, members, departments, note, user):
    """Record a patrol.

    Example:

        geo-tracker patrols add --on 2024-03-05 --track 巡查轨迹.gpx --members 张三,李四 --with 派出所
    """
    with app.open_store() as store:
        r = patrol_service.add_patrol(store, on.date(), track=track, villages=list(villages), members=members,
                                      departments=list(departments), note=note, user=user)
    km = say("patrol.km", km=r["track_km"]) if r["track_km"] is not None else ""
    click.echo(say("patrol.added", id=r["patrol_id"], on=r["on"], km=km, villages=joined(r["villages"]) or "-"))


@patrols.command()
@click.argument("patrol_id", type=int)
@click.option("--geometry", type=click.Path(), help="File with the problem's polygon.")
@click.option("--point", help="LON,LAT of the problem (a circle of --radius-m).")
@click.option("--radius-m", type=float, default=10.0, show_default=True)
@click.option("--category", required=True, help="问题类别, e.g. 违法占地, 乱搭乱建.")
@click.option("--note")
@click.option("--evidence", multiple=True, type=click.Path(), help="Photo or document (repeatable).")
@click.option("--case", "case_no", help="Open this case on the finding at once (it is verified illegal).")
@click.option("--case-category", help="The case's category (自然资源, 林业, 城市规划, ...).")
@USER
@click.pass_obj
def find(app: AppContext, patrol_id, geometry, point, radius_m, category, note, evidence, case_no, case_category,
         user):
    """Record a problem found on a patrol: it becomes a patch of source `patrol`.

    Example:

        geo-tracker patrols find 12 --point 106.4321,29.8312 --category 违法占地 --case "X镇综执罚〔2024〕3号"
    """
    with app.open_store() as store:
        r = patrol_service.record_finding(store, patrol_id, category=category, geometry=geometry,
                                          point=lonlat(point), radius_m=radius_m, note=note,
                                          evidence=list(evidence), user=user)
        if case_no:
            patrol_service.file_case(store, r, case_no, category=case_category, user=user)
            click.echo(say("patrol.case", case=case_no, patch=r["patch"]))
    click.echo(say("patrol.finding", patch=r["patch"], area=r["area_mu"],
                   village=r["village_name"] or say("patrol.no_village")))


@patrols.command()
@click.argument("patrol_id", type=int)
@click.pass_obj
def show(app: AppContext, patrol_id):
    """One patrol with its villages and findings."""
    with app.open_store() as store:
        rows = [r for r in patrol_service.list_patrols(store) if r["id"] == patrol_id]
    if not rows:
        raise NotFoundError(msg("patrols.not_found", id=patrol_id))
    echo_json(rows[0])


@patrols.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def list_(app: AppContext, as_json):
    with app.open_store() as store:
        rows = patrol_service.list_patrols(store)
    if as_json:
        echo_json(rows)
        return
    listing = table("id", "date", "members", "with", "villages", "findings")
    for r in rows:
        listing.add_row(str(r["id"]), str(r["patrolled_on"]), r["members"] or "", joined(r["departments"]),
                        joined(r["villages"]), str(r["findings"]))
    console().print(listing)


@patrols.command()
@click.option("--from", "start", type=DATE, required=True)
@click.option("--to", "end", type=DATE, required=True)
@click.option("--min-per-month", type=int, default=2, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def coverage(app: AppContext, start, end, min_per_month, as_json):
    """Villages patrolled fewer times a month than required (边远村、空心村 rule)."""
    with app.open_store() as store:
        rows = patrol_service.coverage(store, start.date(), end.date(), min_per_month)
    if as_json:
        echo_json(rows)
        return
    for r in rows:
        click.echo(say("patrol.coverage", month=r["month"], village=r["village_name"], code=r["village_code"],
                       patrols=r["patrols"], required=r["required"]))
