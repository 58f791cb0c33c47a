"""``cases open | link | decide | close | list | show`` and ``vocab``."""

from __future__ import annotations

import click

from ..services import cases as service
from .app import USER, AppContext, DATE, cli, console, echo_json, joined, say, status_word, table



@cli.group()
def cases():
    """Enforcement cases (立案查处)."""


@cases.command("open")
@click.argument("case_no")
@click.option("--on", "on", type=DATE, required=True, help="Date the case was filed (立案).")
@click.option("--patch", "patch_refs", multiple=True, help="Patch CODE or BATCH/CODE (repeatable).")
@click.option("--violation", help="违法类型, from the office's list (geo-tracker vocab list).")
@click.option("--act", help="违法行为, from the office's list.")
@click.option("--fine", "fine_yuan", type=float, help="Fine proposed, 元.")
@click.option("--category", help="Case category (自然资源, 林业, 城市规划, ...).")
@click.option("--note")
@USER
@click.pass_obj
def open_(app: AppContext, case_no, on, patch_refs, violation, act, fine_yuan, category, note, user):
    """Open a case, optionally on illegal patches.

    Example:

        geo-tracker cases open "X镇综执罚〔2023〕12号" --on 2023-07-20 --patch 500109202302001 --violation 非法占用土地 --act 建房
    """
    with app.open_store() as store:
        result = service.open_case(store, case_no, on.date(), patches_refs=list(patch_refs), violation=violation,
                                   act=act, fine_yuan=fine_yuan, note=note, category=category, user=user)
    click.echo(say("case.opened", case=result["case_no"], on=result["opened_on"],
                   patches=joined(f"{r['patch']} ({status_word(r['status'])})" for r in result["linked"])
                   or say("case.no_patches")))


@cases.command()
@click.argument("case_no")
@click.argument("patch_refs", nargs=-1, required=True)
@click.option("--on", "on", type=DATE, required=True)
@USER
@click.pass_obj
def link(app: AppContext, case_no, patch_refs, on, user):
    """Link more patches to a case."""
    with app.open_store() as store:
        linked = service.link_case(store, case_no, list(patch_refs), on.date(), user=user)
    click.echo(joined(say("case.linked", patch=r["patch"], status=status_word(r["status"])) for r in linked))


@cases.command()
@click.argument("case_no")
@click.option("--on", "on", type=DATE, required=True, help="Date of the penalty decision.")
@click.option("--fine", "fine_yuan", type=float, help="Fine decided, 元.")
@click.option("--outcome", help="行政处罚 (default), 行政警告, 不予处罚, 移送.")
@click.option("--note")
@USER
@click.pass_obj
def decide(app: AppContext, case_no, on, fine_yuan, outcome, note, user):
    """Record the penalty decision (处罚决定)."""
    with app.open_store() as store:
        result = service.decide_case(store, case_no, on.date(), fine_yuan=fine_yuan, note=note, outcome=outcome,
                                     user=user)
    click.echo(say("case.decided", case=result["case_no"], on=result["decided_on"], fine=result["fine_yuan"]))


@cases.command("execute")
@click.argument("case_no")
@click.option("--on", "on", type=DATE, required=True,
              help="Date the decision was executed (fine paid, demolition done).")
@click.option("--note")
@USER
@click.pass_obj
def execute(app: AppContext, case_no, on, note, user):
    """Record that the decision was executed (执行完毕); the case then counts as 办结."""
    with app.open_store() as store:
        result = service.execute_case(store, case_no, on.date(), note=note, user=user)
    click.echo(say("case.executed", case=result["case_no"], on=result["executed_on"]))


@cases.command("close")
@click.argument("case_no")
@click.option("--on", "on", type=DATE, required=True)
@click.option("--note")
@USER
@click.pass_obj
def close_(app: AppContext, case_no, on, note, user):
    """Close a case (结案)."""
    with app.open_store() as store:
        result = service.close_case(store, case_no, on.date(), note=note, user=user)
    click.echo(say("case.closed", case=result["case_no"], on=result["closed_on"]))


@cases.command("list")
@click.option("--as-of", type=DATE)
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def list_(app: AppContext, as_of, as_json):
    """List cases with their patches, as of a date."""
    with app.open_store() as store:
        rows = service.list_cases(store, as_of.date() if as_of else None)
    if as_json:
        echo_json(rows)
        return
    listing = table("case", "opened", "status", "violation", "act", "fine", "patches")
    for r in rows:
        fine = r["decided_fine_yuan"] if r["decided_fine_yuan"] is not None else r["fine_yuan"]
        listing.add_row(r["case_no"], str(r["opened_on"]), say(f"case_status.{r['status']}"), r["violation"] or "",
                        r["act"] or "", "" if fine is None else f"{fine:,.2f}", joined(r["patches"]))
    console().print(listing)


@cases.command()
@click.argument("case_no")
@click.pass_obj
def show(app: AppContext, case_no):
    """Show one case."""
    with app.open_store() as store:
        echo_json(service.show_case(store, case_no))


@cli.group()
def vocab():
    """The office's lists of violation types (违法类型) and acts (违法行为)."""


@vocab.command("list")
@click.pass_obj
def vocab_list(app: AppContext):
    with app.open_store() as store:
        for kind, values in service.list_vocabulary(store).items():
            click.echo(say("case.vocabulary", kind=say(f"vocabulary.{kind}"), values=joined(values)))


@vocab.command("add")
@click.argument("kind", type=click.Choice(service.VOCABULARY_KINDS))
@click.argument("value")
@click.pass_obj
def vocab_add(app: AppContext, kind, value):
    """Add a violation type or an act, e.g. `geo-tracker vocab add act 私挖乱采`."""
    with app.open_store() as store:
        service.add_vocabulary(store, kind, value)
    click.echo(say("case.vocabulary_added", kind=say(f"vocabulary.{kind}"), value=value))
