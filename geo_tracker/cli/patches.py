"""``patches list | show | rematch | dossier``."""

from __future__ import annotations

import json

import click

from ..services.patches import (
    EXTRA_PROPERTIES, PATCH_PROPERTIES, list_patches, patches_geojson, rematch_patches, show_patch, with_attributes,
)
from .app import AppContext, cli, console, echo_json, joined, say, source_word, status_word, table


def _review_line(review: dict) -> str:
    """Where the patch stands in the county's review: pending at a level, returned with reasons, approved."""
    if review["pending_level"]:
        return say("patch.review_pending", level=review["pending_level_label"], round=review["round"],
                   since=review["submitted_on"])
    if review["returned"]:
        reasons = "；".join([*review["reason_codes"], *([review["reason"]] if review["reason"] else [])])
        return say("patch.review_returned", round=review["round"], on=review["last_review_on"], reasons=reasons)
    return say("patch.review_approved", round=review["round"], on=review["last_review_on"])


@cli.group()
def patches():
    """Patches (图斑): list, show, match to villages."""


@patches.command("list")
@click.option("--batch", help="Only this batch.")
@click.option("--village", help="Only patches touching this village (12-digit code).")
@click.option("--status", help="Only patches with this status (as of --as-of).")
@click.option("--source", help="Only batches from this source.")
@click.option("--as-of", type=click.DateTime(formats=["%Y-%m-%d"]), help="State as of this date.")
@click.option("--known-at", type=click.DateTime(), help="Only what was recorded by this moment.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "geojson", "csv"]), default="table",
              show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="Write to this file.")
@click.option("--no-attributes", is_flag=True, help="Leave the bureau's own attributes (attrs) out of json/geojson/csv.")
@click.option("--returned", is_flag=True, help="Only patches whose last review returned them (退回), not yet resubmitted.")
@click.pass_obj
def list_(app: AppContext, batch, village, status, source, as_of, known_at, fmt, output, no_attributes, returned):
    """List current patches with their village.

    Example:

        geo-tracker patches list --village 500109107201 --format geojson -o shilong.geojson
    """
    with app.open_store() as store:
        frame = list_patches(store, batch=batch, village=village, status=status, source=source,
                             as_of=as_of.date() if as_of else None, known_at=_utc(known_at))
        if returned:
            from ..services.review import review_frame

            states = review_frame(store, [int(x) for x in frame["lineage_id"]], as_of.date() if as_of else None)
            frame = frame[[states.get(int(x)) is not None and states[int(x)].returned for x in frame["lineage_id"]]]
        if fmt != "table" and not no_attributes:
            frame = with_attributes(store, frame)
    if fmt == "table":
        listing = table("batch", "code", "status", "area", "rectified", "cultivated", "village", "share", "note")
        for _, r in frame.iterrows():
            listing.add_row(r["batch"], r["patch_code"], status_word(r["status"]), f"{r['area_mu']:.2f}",
                            _num(r["rectified_mu"]), _num(r["cultivated_mu"]),
                            f"{r['village_name'] or ''} {r['village_code'] or ''}".strip(),
                            f"{max(r['village_shares'].values()) if r['village_shares'] else 0.0:.3f}", _place_note(r))
        console().print(listing)
        return
    if fmt == "geojson":
        text = json.dumps(patches_geojson(frame), ensure_ascii=False)
    elif fmt == "json":
        text = json.dumps(json.loads(frame.drop(columns=["geometry"]).to_json(
            orient="records", force_ascii=False, date_format="iso", default_handler=str)), ensure_ascii=False, indent=2)
    else:
        flat = frame.drop(columns=["geometry"]).copy()
        flat["village_shares"] = [json.dumps(v, ensure_ascii=False) for v in flat["village_shares"]]
        for column in ("flags", "case_numbers", "relapse_of"):
            flat[column] = [";".join(v) for v in flat[column]]
        columns = ["id", *PATCH_PROPERTIES, *EXTRA_PROPERTIES]
        if "attrs" in flat:
            flat["attrs"] = [json.dumps(a, ensure_ascii=False) for a in flat["attrs"]]
            columns.append("attrs")
        text = flat[columns].to_csv(index=False)
    if output:
        with open(output, "w", encoding="utf-8-sig" if fmt == "csv" else "utf-8") as fh:
            fh.write(text)
    else:
        click.echo(text)


def _place_note(r) -> str:
    """Outside every village (and the nearest), or the villages a patch straddles."""
    if r["outside"]:
        return say("patch.outside_note", code=r["nearest_code"], distance=r["nearest_distance_m"])
    return say("patch.straddles_note", codes=joined(r["village_shares"])) if r["straddles"] else ""


def _utc(moment):
    """--known-at is given in local time; events are recorded in UTC."""
    return moment.astimezone() if moment else None


def _num(value) -> str:
    return "" if value is None or value != value else f"{value:.2f}"


@patches.command()
@click.argument("ref")
@click.option("--as-of", type=click.DateTime(formats=["%Y-%m-%d"]), help="State as of this date.")
@click.option("--known-at", type=click.DateTime(), help="Only what was recorded by this moment.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def show(app: AppContext, ref, as_of, known_at, as_json):
    """Show one patch, named CODE or BATCH/CODE.

    Example:

        geo-tracker patches show 2023年第2批/500109202302001
    """
    with app.open_store() as store:
        data = show_patch(store, ref, as_of.date() if as_of else None, _utc(known_at))
    if as_json:
        echo_json(data)
        return
    out = console()
    out.print(say("patch.head", code=data["patch_code"], batch=data["batch"], source=source_word(data["source"]),
                  issued=data["issued_on"], status=status_word(data["status"]), since=data["status_on"],
                  version=data["version"]))
    out.print(say("patch.rectified", rectified=data["rectified_mu"], cultivated=data["rectified_cultivated_mu"],
                  deadline=data["deadline"] or "-", overdue=say("patch.overdue") if data["overdue"] else "",
                  cases=joined(data["case_numbers"]) or "-",
                  relapse=say("patch.relapse", codes=joined(data["relapse_of"])) if data["relapse_of"] else ""))
    if data.get("review"):
        out.print(_review_line(data["review"]))
    out.print(say("patch.area", area=data["area_mu"], issued=_num(data["issued_area_mu"]),
                  cultivated=_num(data["cultivated_mu"])))
    if data["outside"]:
        out.print(say("patch.outside", code=data["nearest_code"], distance=data["nearest_distance_m"]))
    for v in data["villages"]:
        out.print(say("patch.village", code=v["village_code"], name=v["village_name"], share=v["share"],
                      overlap=v["overlap_mu"]))
    if data["flags"]:
        out.print(say("patch.flags", flags=joined(data["flags"])))
    if data["attrs"]:
        out.print(say("patch.attributes"))
        for key, value in data["attrs"].items():
            label = data["attribute_labels"][key]
            out.print(f"    {label}{f' ({key})' if label != key else ''}: {'' if value is None else value}",
                      markup=False, highlight=False)
    for h in data["history"]:
        state = (say("patch.version_withdrawn") if h["withdrawn"] else "") + \
            ("" if h["is_current"] else say("patch.version_superseded"))
        out.print(say("patch.version", version=h["version"], file=h["file_name"], issued=h["issued_on"], state=state))


@patches.command()
@click.option("--batch", help="Only this batch (default: every current patch).")
@click.pass_obj
def rematch(app: AppContext, batch):
    """Match patches to villages again, e.g. after importing new boundaries.

    Example:

        geo-tracker patches rematch --batch 2023年第2批
    """
    with app.open_store() as store:
        counts = rematch_patches(store, batch)
    click.echo(say("patch.rematched", **counts))


@patches.command()
@click.argument("ref")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, writable=True),
              help="The Word file to write (.docx).")
@click.pass_obj
def dossier(app: AppContext, ref, output):
    """Write a patch's dossier (举证材料) for the county's review before 销号: its facts, a map,
    the bureau's attributes, verification, rectification, cases, photos and review history.

    Example:

        geo-tracker patches dossier 2023年第2批/500109202302001 -o 500109202302001举证材料.docx
    """
    # matplotlib and python-docx load only for this command, not for every `patches` one
    from ..services.dossier import write_dossier

    with app.open_store() as store:
        done = write_dossier(store, ref, output)
    click.echo(say("dossier.written", path=output, sections=len(done["sections"]), photos=done["photos"]))
