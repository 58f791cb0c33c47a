"""``complaints add | respond | close | list``: 举报 received and answered."""

from __future__ import annotations

import click

from ..services import complaints as complaint_service
from .app import USER, DATE, AppContext, cli, echo_json, lonlat, say


@cli.group()
def complaints():
    """Complaints (投诉举报)."""


@complaints.command("add")
@click.option("--received", type=DATE, required=True)
@click.option("--channel", type=click.Choice(complaint_service.CHANNELS), required=True)
@click.option("--location", help="LON,LAT")
@click.option("--village", help="Village code")
@click.option("--category", required=True)
@click.option("--content", required=True)
@click.option("--respond-days", type=int, default=complaint_service.RESPOND_DAYS, show_default=True)
@click.option("--complete-days", type=int, default=complaint_service.COMPLETE_DAYS, show_default=True)
@USER
@click.pass_obj
def complaint_add(app: AppContext, received, channel, location, village, category, content, respond_days,
                  complete_days, user):
    with app.open_store() as store:
        r = complaint_service.add_complaint(store, received.date(), channel, category, content,
                                            location=lonlat(location), village=village, respond_days=respond_days,
                                            complete_days=complete_days, user=user)
    click.echo(say("complaint.added", id=r["id"], on=r["received_on"], by=r["respond_by"]))


@complaints.command("respond")
@click.argument("cid", type=int)
@click.option("--on", "on", type=DATE, required=True)
@USER
@click.pass_obj
def complaint_respond(app: AppContext, cid, on, user):
    with app.open_store() as store:
        r = complaint_service.respond(store, cid, on.date(), user=user)
    click.echo(say("complaint.responded", id=cid, on=r["responded_on"], late="" if r["in_time"] else say("complaint.late")))


@complaints.command("close")
@click.argument("cid", type=int)
@click.option("--on", "on", type=DATE, required=True)
@click.option("--result", required=True)
@click.option("--patch", help="Patch it led to (CODE or BATCH/CODE).")
@click.option("--case", "case_no", help="Case it led to.")
@USER
@click.pass_obj
def complaint_close(app: AppContext, cid, on, result, patch, case_no, user):
    with app.open_store() as store:
        complaint_service.close(store, cid, on.date(), result, patch=patch, case_no=case_no, user=user)
    click.echo(say("complaint.closed", id=cid))


@complaints.command("list")
@click.pass_obj
def complaint_list(app: AppContext):
    with app.open_store() as store:
        echo_json(complaint_service.list_complaints(store))
