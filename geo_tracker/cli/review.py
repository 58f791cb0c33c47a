"""``review policy | queue | returned``: the county's review before 销号 (审核)."""

from __future__ import annotations

import click

from ..core.review import LEVELS
from ..core.sources import SOURCES
from ..services import review as reviews
from .app import USER, AppContext, cli, console, echo_json, say, status_word, table


@cli.group()
def review():
    """The county's review before 销号: policies per source, the queue, returned patches."""


@review.command()
@click.option("--source", type=click.Choice(SOURCES), help="Set the policy of this source (else list them all).")
@click.option("--levels", help="county, county,city or none (the township closes by itself).")
@click.option("--review-days", type=click.IntRange(min=1), help="Calendar days a level has to answer (default 10).")
@click.option("--json", "as_json", is_flag=True)
@USER
@click.pass_obj
def policy(app: AppContext, source, levels, review_days, as_json, user):
    """Which levels review each source's patches before 销号.

    Examples:

        geo-tracker review policy --source natural-resources --levels county

        geo-tracker review policy --source forestry --levels county,city --review-days 15

        geo-tracker review policy
    """
    with app.open_store() as store:
        if source:
            if levels is None:
                raise click.UsageError(say("review.levels_needed", option="--levels", choices="county, county,city, none"))
            reviews.set_policy(store, source, levels, review_days=review_days, user=user)
        found = reviews.policies(store)
    if as_json:
        echo_json([{"source": p.source, "levels": list(p.levels), "review_days": p.review_days} for p in found])
        return
    rows = [[p.source, "、".join(LEVELS[lv] for lv in p.levels) or say("review.none"),
             str(p.review_days) if p.levels else "-"] for p in found]
    _print(["source", "review_levels", "review_days"], rows)


@review.command()
@click.option("--level", type=click.Choice(list(LEVELS)), help="Only what waits for this level.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def queue(app: AppContext, level, as_json):
    """Patches waiting for review, oldest first, with the days waited and the due day.

    Example:

        geo-tracker review queue --level county
    """
    with app.open_store() as store:
        rows = reviews.queue(store, level=level)
    if as_json:
        echo_json(rows)
        return
    _print(["patch", "village", "review_level", "review_round", "review_submitted", "review_waiting", "review_due"],
           [[r["ref"], r["village_name"] or "-", LEVELS.get(r["level"], r["level"]), str(r["round"]),
             str(r["submitted_on"]), str(r["days_waiting"]),
             f"{r['due_on']}{say('review.overdue') if r['overdue'] else ''}"] for r in rows])


@review.command()
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def returned(app: AppContext, as_json):
    """Patches the review returned, with the reasons, not yet submitted again.

    Example:

        geo-tracker review returned
    """
    with app.open_store() as store:
        rows = reviews.returned(store)
    if as_json:
        echo_json(rows)
        return
    _print(["patch", "village", "status", "review_round", "review_returned_on", "review_reason"],
           [[r["ref"], r["village_name"] or "-", status_word(r["status"]), str(r["round"]), str(r["returned_on"]),
             "；".join([*r["reason_codes"], *([r["reason"]] if r["reason"] else [])])] for r in rows])


def _print(columns: list[str], rows: list[list[str]]) -> None:
    shown = table(*columns)
    for row in rows:
        shown.add_row(*row)
    console().print(shown)
