"""``patches list | show | rematch``."""

from __future__ import annotations

import json

import click
from rich.table import Table

from ..services.patches import (
    EXTRA_PROPERTIES, PATCH_PROPERTIES, list_patches, patches_geojson, rematch_patches, show_patch, with_attributes,
)
from .app import AppContext, cli, console, echo_json


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
@click.pass_obj
def list_(app: AppContext, batch, village, status, source, as_of, known_at, fmt, output, no_attributes):
    """List current patches with their village.

    Example:

        geo-tracker patches list --village 500109107201 --format geojson -o shilong.geojson
    """
    with app.open_store() as store:
        frame = list_patches(store, batch=batch, village=village, status=status, source=source,
                             as_of=as_of.date() if as_of else None, known_at=_utc(known_at))
        if fmt != "table" and not no_attributes:
            frame = with_attributes(store, frame)
    if fmt == "table":
        table = Table("batch", "code", "status", "area 亩", "rectified 亩", "cultivated 亩", "village", "share", "note")
        for _, r in frame.iterrows():
            share = max(r["village_shares"].values()) if r["village_shares"] else 0.0
            note = ("outside: nearest " + f"{r['nearest_code']} {r['nearest_distance_m']:.0f} m") if r["outside"] \
                else ("straddles " + ", ".join(r["village_shares"]) if r["straddles"] else "")
            table.add_row(r["batch"], r["patch_code"], r["status"], f"{r['area_mu']:.2f}",
                          _num(r["rectified_mu"]), _num(r["cultivated_mu"]),
                          f"{r['village_name'] or ''} {r['village_code'] or ''}".strip(), f"{share:.3f}", note)
        console().print(table)
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
    out.print(f"[bold]{data['patch_code']}[/] in {data['batch']} ({data['source']}), issued {data['issued_on']}, "
              f"status {data['status']} since {data['status_on']}, version {data['version']}")
    out.print(f"  rectified {data['rectified_mu']:.4f} 亩 (耕地 {data['rectified_cultivated_mu']:.4f}); deadline "
              f"{data['deadline'] or '-'}{' OVERDUE' if data['overdue'] else ''}; cases {', '.join(data['case_numbers']) or '-'}"
              + (f"; relapse of {', '.join(data['relapse_of'])}" if data["relapse_of"] else ""))
    out.print(f"  area {data['area_mu']:.4f} 亩 (issued {_num(data['issued_area_mu'])}, cultivated "
              f"{_num(data['cultivated_mu'])})")
    if data["outside"]:
        out.print(f"  outside every village; nearest {data['nearest_code']} at {data['nearest_distance_m']:.0f} m")
    for v in data["villages"]:
        out.print(f"  village {v['village_code']} {v['village_name']}: share {v['share']:.4f} "
                  f"({v['overlap_mu']:.4f} 亩)")
    if data["flags"]:
        out.print(f"  flags: {', '.join(data['flags'])}")
    if data["attrs"]:
        out.print("  上级下发属性 (bureau attributes):")
        for key, value in data["attrs"].items():
            label = data["attribute_labels"][key]
            out.print(f"    {label}{f' ({key})' if label != key else ''}: {'' if value is None else value}",
                      markup=False, highlight=False)
    for h in data["history"]:
        out.print(f"  version {h['version']} from {h['file_name']} issued {h['issued_on']}"
                  f"{' (withdrawn)' if h['withdrawn'] else ''}{'' if h['is_current'] else ' (superseded)'}")


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
    click.echo(f"{counts['patches']} patches matched: {counts['matched']} in a village "
               f"({counts['straddles']} straddling), {counts['outside']} outside")
