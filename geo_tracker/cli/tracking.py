"""``patches verify | rectify | close | submit | review | void | history | deadline | overdue | relapses | export``:
a patch's life after its import (核查, 整改, 销号) and what it yields."""

from __future__ import annotations

import json

import click

from ..catalogue import msg
from ..core.lifecycle import MEASURE_LABELS, MEASURES, STATUS_LABELS
from ..core.review import LEVELS
from ..services import tracking
from .app import USER, AppContext, DATE, console, echo_json, event_word, joined, language, say, status_word, table
from .words import WORDS
from ..services.patches import list_patches
from .patches import patches

def _print_change(result: dict) -> None:
    console().print(say("change", patch=result["patch"], before=status_word(result["before"]),
                        status=status_word(result["status"]), status_label=STATUS_LABELS.get(result["status"], ""),
                        on=result["status_on"],
                        rectified=result["rectified_mu"], event=result["event_id"]))


@patches.command()
@click.argument("ref", required=False)
@click.option("--result", type=click.Choice(["legal", "no_change", "illegal"]), help="核查结果.")
@click.option("--on", "on", type=DATE, help="Date of the verification.")
@click.option("--note")
@click.option("--cadre", help="Who verified in the field.")
@click.option("--from", "from_file", type=click.Path(dir_okay=False), help="xlsx/csv of 图斑编号, 核查结果, 核查日期 ...")
@click.option("--batch", help="Batch of the codes in --from (when codes repeat across batches).")
@USER
@click.pass_obj
def verify(app: AppContext, ref, result, on, note, cadre, from_file, batch, user):
    """Record verification (核查): one patch, or a file of results from the villages (all or nothing).

    Example:

        geo-tracker patches verify 500109202302001 --result illegal --on 2023-07-15
        geo-tracker patches verify --from 石龙村核查结果.xlsx
    """
    with app.open_store() as store:
        if from_file:
            if ref or result or on:
                raise click.UsageError(msg("cli.verify_either").text(app.lang, "cli"))
            done = tracking.verify_from_file(store, from_file, batch=batch, user=user)
            console().print(say("verified_file", file=done["file"], verified=done["verified"],
                                results=joined(f"{status_word(k)} {v}" for k, v in done["results"].items())))
            return
        if not (ref and result and on):
            raise click.UsageError(msg("cli.verify_needs").text(app.lang, "cli"))
        _print_change(tracking.verify_patch(store, ref, result, on.date(), note=note, cadre=cadre, user=user))


@patches.command()
@click.argument("ref")
@click.option("--on", "on", type=DATE, required=True, help="Date of the rectification.")
@click.option("--measure", type=click.Choice(MEASURES), required=True, help="拆除, 复耕, 复绿, 补办手续 or other.")
@click.option("--area-mu", type=float, help="Area rectified, 亩.")
@click.option("--full", is_flag=True, help="Everything not yet rectified.")
@click.option("--geometry", type=click.Path(exists=False), help="File with the rectified part's polygon.")
@click.option("--cultivated-mu", type=float, help="Of which cultivated land (耕地), 亩.")
@click.option("--evidence", multiple=True, type=click.Path(), help="Photo or document (repeatable).")
@click.option("--note")
@USER
@click.pass_obj
def rectify(app: AppContext, ref, on, measure, area_mu, full, geometry, cultivated_mu, evidence, note, user):
    """Record rectification (整改) of part or all of a patch.

    Example:

        geo-tracker patches rectify 500109202302001 --on 2023-08-20 --measure demolition --area-mu 1.1 --evidence 现场.jpg
    """
    with app.open_store() as store:
        _print_change(tracking.rectify_patch(
            store, ref, on.date(), measure, area_mu=area_mu, full=full, geometry=geometry,
            cultivated_mu=cultivated_mu, evidence=list(evidence), note=note, user=user))


@patches.command()
@click.argument("ref")
@click.option("--on", "on", type=DATE, required=True)
@click.option("--note")
@click.option("--approval-ref", help="The county's approval of the 销号 (批准文号).")
@USER
@click.pass_obj
def close(app: AppContext, ref, on, note, approval_ref, user):
    """Close a patch (销号): legal, no change, or fully rectified (where no review policy applies).

    Example:

        geo-tracker patches close 500109202302001 --on 2023-12-20 --approval-ref 渝北自然资销〔2023〕12号
    """
    with app.open_store() as store:
        _print_change(tracking.close_patch(store, ref, on.date(), note=note, approval_ref=approval_ref, user=user))


@patches.command()
@click.argument("ref")
@click.option("--on", "on", type=DATE, required=True, help="Date of the application (申请销号).")
@click.option("--note")
@click.option("--evidence", type=click.Path(exists=True, dir_okay=False), multiple=True, help="Photos, documents.")
@USER
@click.pass_obj
def submit(app: AppContext, ref, on, note, evidence, user):
    """Submit a patch for the county's review before 销号 (legal, no change or rectified).

    Example:

        geo-tracker patches submit 500109202302001 --on 2023-12-10 --evidence 拆除后.jpg
    """
    from ..services import accounts, review

    with app.open_store() as store:
        accounts.check_account_may(store, user, "track")
        _print_change(review.submit_patch(store, ref, on.date(), note=note, evidence=list(evidence), user=user))


@patches.command()
@click.argument("ref")
@click.option("--approve", "decision", flag_value="approve", help="Approve (the last level's approval closes it).")
@click.option("--return", "decision", flag_value="return", help="Return it to the township, with a reason.")
@click.option("--reason", help="Why it is returned, or a remark.")
@click.option("--reason-code", "reason_codes", multiple=True, help="From the list `geo-tracker vocab list` shows "
                                                                     "(照片不清晰, 未完全拆除, 缺少审批文件 …).")
@click.option("--on", "on", type=DATE, required=True)
@USER
@click.pass_obj
def review(app: AppContext, ref, decision, reason, reason_codes, on, user):
    """Answer a submitted patch at its pending level: --approve or --return --reason TEXT.

    Example:

        geo-tracker patches review 500109202302001 --return --reason-code 未完全拆除 --reason 东侧棚房未拆 --on 2023-12-15
    """
    from ..services import accounts
    from ..services import review as reviews

    if decision is None:
        raise click.UsageError(say("review.decision_needed"))
    with app.open_store() as store:
        accounts.check_account_may(store, user, "review")
        _print_change(reviews.review_patch(store, ref, decision, on.date(), reason=reason,
                                           reason_codes=list(reason_codes), user=user,
                                           levels=accounts.account_review_levels(store, user)))


@patches.command()
@click.argument("event_id", type=int)
@click.option("--reason", required=True, help="Why the event is void.")
@USER
@click.pass_obj
def void(app: AppContext, event_id, reason, user):
    """Void a mistaken event (it stays in the history, marked void).

    Example:

        geo-tracker patches void 42 --reason "wrong patch"
    """
    with app.open_store() as store:
        result = tracking.void_event(store, event_id, reason, user=user)
    after = say("voided_after", patch=result["patch"], status=status_word(result["status"])) if "patch" in result else ""
    click.echo(say("voided", voided=result["voided"], kind=result["kind"], by=result["void_event_id"], after=after))


@patches.command()
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def history(app: AppContext, ref, as_json):
    """Every event of a patch: who, when, what, before/after; void ones marked."""
    with app.open_store() as store:
        rows = tracking.patch_history(store, ref)
    if as_json:
        echo_json(rows)
        return
    listing = table("id", "date", "event", "by", "recorded", "details")
    for r in rows:
        details = {k: v for k, v in r["payload"].items() if v not in (None, [], {}) and k not in ("before", "after")}
        kind = event_word(r["kind"]) + (say("history.void", by=r["voided_by"]) if r["voided_by"] else "")
        listing.add_row(str(r["id"]), str(r["occurred_on"]), kind, r["actor"] or "",
                        f"{r['recorded_at']:%Y-%m-%d %H:%M}", _details(details))
    console().print(listing)


def _details(details: dict) -> str:
    """An event's details: JSON in English (as scripts read it), labelled in Chinese (核查结果：违法)."""
    if language() != "zh":
        return json.dumps(details, ensure_ascii=False, default=str)
    return "；".join(filter(None, (_detail(k, v) for k, v in details.items() if k != "measure_label")))


#: How a review_approved event's outcome reads.
REVIEW_OUTCOMES = ("final", "level")


def _detail(key: str, value) -> str:
    label = say(f"detail.{key}") if f"detail.{key}" in WORDS else key
    if isinstance(value, bool):
        return label if value else ""
    if key in ("result", "target_kind", "from_status"):
        value = STATUS_LABELS.get(value, event_word(value) if key == "target_kind" else value)
    elif key in ("level", "next_level"):
        value = LEVELS.get(value, value)
    elif key == "levels":
        value = joined(LEVELS.get(v, v) for v in value)
    elif key == "outcome" and value in REVIEW_OUTCOMES:
        value = say(f"review.outcome.{value}")
    elif key == "measure":
        value = MEASURE_LABELS.get(value, value)
    elif isinstance(value, float):
        value = f"{value:.4f}"
    elif isinstance(value, list):
        value = joined(v.get("file_name", v) if isinstance(v, dict) else v for v in value)
    elif isinstance(value, dict):
        value = joined(f"{_diff_word(k)} {v}" for k, v in value.items())
    return f"{label}：{value}"


def _diff_word(kind: str) -> str:
    return say(f"diff.{kind}") if f"diff.{kind}" in WORDS else kind


@patches.command()
@click.argument("ref")
@click.option("--on", "on", type=DATE, required=True, help="The patch's own deadline.")
@USER
@click.pass_obj
def deadline(app: AppContext, ref, on, user):
    """Set one patch's rectification deadline (the batch's applies otherwise)."""
    with app.open_store() as store:
        result = tracking.set_deadline(store, ref, on.date(), user=user)
    click.echo(say("deadline_set", **result))


@patches.command()
@click.option("--as-of", type=DATE)
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def overdue(app: AppContext, as_of, as_json):
    """Patches past their deadline and not yet rectified, closed or found legal."""
    with app.open_store() as store:
        frame = list_patches(store, as_of=as_of.date() if as_of else None)
    frame = frame[frame["overdue"]]
    _print_frame(frame, as_json, ["batch", "patch_code", "village_name", "status", "deadline", "area_mu", "rectified_mu"])


@patches.command()
@click.option("--batch")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def relapses(app: AppContext, batch, as_json):
    """Patches on sites already rectified or closed (死灰复燃), with the earlier patches."""
    with app.open_store() as store:
        frame = list_patches(store, batch=batch)
    frame = frame[[bool(r) for r in frame["relapse_of"]]]
    _print_frame(frame, as_json, ["batch", "patch_code", "village_name", "area_mu", "relapse_of"])


def _print_frame(frame, as_json: bool, columns: list[str]) -> None:
    rows = json.loads(frame[columns].to_json(orient="records", force_ascii=False, date_format="iso"))
    if as_json:
        echo_json(rows)
        return
    listing = table(*columns)
    for r in rows:
        listing.add_row(*(joined(v) if isinstance(v, list) else str(status_word(v) if k == "status" else
                                                                     ("" if v is None else v)) for k, v in r.items()))
    console().print(listing)


@patches.command()
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="FILE.gpkg, .shp (GBK, .cpg, .prj), .geojson or .xlsx")
@click.option("--as-of", type=DATE)
@click.option("--batch")
@click.option("--source")
@click.pass_obj
def export(app: AppContext, output, as_of, batch, source):
    """Export patches with the bureau's own attributes plus status and rectification.

    Example:

        geo-tracker patches export -o 2023年第2批整改情况.shp --batch 2023年第2批
    """
    from ..services.exports import export_patches

    with app.open_store() as store:
        result = export_patches(store, output, as_of=as_of.date() if as_of else None, batch=batch, source=source)
    click.echo(say("exported", **result))
