"""``batches import | list | show | dossier``."""

from __future__ import annotations

import sys

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ..services.accounts import account_scope
from ..services.batches import SOURCES, ImportOptions, ImportReport, import_batch, list_batches, show_batch
from ..units import TO_MU
from .app import (USER, AppContext, DATE, cli, console, echo_json, joined, reader_options, say, say_value,
                  source_word, status_word, table)
from .words import WORDS



@cli.group()
def batches():
    """Batches of patches (批次) as the bureaus issue them."""


@batches.command("import")
@click.argument("path", type=click.Path(path_type=str))
@click.option("--source", required=True, type=click.Choice(SOURCES), help="Who issued the batch.")
@click.option("--batch", "batch_name", required=True, help="Batch name, e.g. 2023年第2批 or 2023-Q3.")
@click.option("--issued-on", required=True, type=DATE, help="Issue date (下发日期), YYYY-MM-DD.")
@click.option("--deadline", type=DATE, help="Rectification deadline (整改期限), YYYY-MM-DD.")
@reader_options
@click.option("--central-meridian", type=int, help="Office's central meridian for eastings without zone number.")
@click.option("--profile", help="Field profile: weipian, forestry, zuobiao, kml, generic (default: detected).")
@click.option("--id-field", help="Field holding the patch code.")
@click.option("--area-field", help="Field holding the issued area.")
@click.option("--area-unit", type=click.Choice(list(TO_MU)), help="Unit of --area-field (default: by magnitude).")
@click.option("--cultivated-field", help="Field holding the cultivated (耕地) area; '' for none.")
@click.option("--skip-invalid", is_flag=True,
              help="Import the valid features; skip (and list) invalid ones and every feature whose code repeats.")
@click.option("--all-layers", is_flag=True,
              help="Import every dataset of the zip/folder (every polygon layer of a GeoPackage) as one batch.")
@click.option("--accept-duplicates", is_flag=True,
              help="Import even if other batches already hold this delivery or some of its patches.")
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the import report as JSON.")
@USER
@click.pass_obj
def import_(app: AppContext, path, source, batch_name, issued_on, deadline, layer, encoding, crs,
            central_meridian, profile, id_field, area_field, area_unit, cultivated_field, skip_invalid,
            all_layers, accept_duplicates, dry_run, as_json, user):
    """Import a delivery: Shapefile (.shp, folder or .zip), GeoPackage, File Geodatabase,
    GeoJSON, KML/KMZ or 坐标txt.

    Example:

        geo-tracker batches import 2023卫片.zip --source natural-resources --batch 2023年第2批 --issued-on 2023-06-30
    """
    options = ImportOptions(
        source=source, batch=batch_name, issued_on=issued_on.date(),
        deadline=deadline.date() if deadline else None, layer=layer, encoding=encoding, crs=crs,
        central_meridian=central_meridian, profile=profile, id_field=id_field, area_field=area_field,
        area_unit=area_unit, cultivated_field=cultivated_field, skip_invalid=skip_invalid, dry_run=dry_run,
        all_layers=all_layers, accept_duplicates=accept_duplicates, user=user,
    )
    with app.open_store() as store:
        scope = account_scope(store, user)
        options.villages = None if scope is None else scope.villages
        if sys.stderr.isatty():
            with Progress(TextColumn(say("import.progress")), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                          console=console(stderr=True), transient=True) as bar:
                task = bar.add_task("import", total=None)
                report = import_batch(store, path, options,
                                      progress=lambda done, total: bar.update(task, completed=done, total=total))
        else:
            report = import_batch(store, path, options)
    if as_json:
        echo_json(report.to_dict())
    else:
        print_report(report)


def print_report(r: ImportReport) -> None:
    out = console()
    if r.already_imported:
        out.print(say("import.identical", file=r.file, batch=r.batch, source=source_word(r.source)))
        return
    out.print(say("import.would" if r.dry_run else "import.done", dataset=r.dataset, batch=r.batch,
                  source=source_word(r.source)))
    issued = "—" if r.issued_area_mu is None else f"{r.issued_area_mu:.2f} 亩"
    rows = [
        ("import.read", r.features_read), ("import.accepted", r.accepted), ("import.rejected", len(r.rejected)),
        ("import.repaired", r.flags.get("repaired", 0)),
        ("import.area", f"{r.area_mu:.2f} 亩"), ("import.issued_area", issued),
        ("import.cultivated", f"{r.cultivated_mu:.2f} 亩"),
        ("import.crs", f"{r.crs}: {say_value(r.crs_reason)}"),
        ("import.encoding", f"{r.encoding}: {say_value(r.encoding_reason)}"),
        *(((say("import.field", name=_decision_word(k)), say_value(v)) for k, v in r.fields.items())),
        ("import.changes", joined(f"{say('diff.' + k)} {v}" for k, v in r.diff.items())),
        *((("import.villages", say("import.villages_value", **r.villages)),) if r.villages else ()),
    ]
    grid = Table(show_header=False, box=None, pad_edge=False)
    grid.add_column(style="bold")
    grid.add_column()
    for key, value in rows:
        grid.add_row(say(key) if key.startswith("import.") else key, str(value))
    out.print(grid)
    for f in r.files:
        out.print(say("import.file", **f))
    for kind, codes in r.diff_codes.items():
        if codes:
            out.print(f"{say('diff.' + kind)}: {joined(codes[:30])}{' …' if len(codes) > 30 else ''}")
    _print_duplicates(out, r)
    for w in r.warnings:
        out.print(say("import.warning", text=w))
    for p in r.rejected:
        out.print(say("import.rejected_feature", feature=p["feature"], code=p["patch_code"], problem=p["problem"]))
    for p in r.problems[:50]:
        out.print(say("import.flag", feature=p["feature"], code=p["patch_code"], problem=p["problem"]))
    if len(r.problems) > 50:
        out.print(say("import.more_flags", n=len(r.problems) - 50))


def _decision_word(field: str) -> str:
    """What a field decision is about: 图斑编号字段 in Chinese, ``patch_code`` in English."""
    return say(f"decision.{field}") if f"decision.{field}" in WORDS else field


def _print_duplicates(out, r: ImportReport) -> None:
    if r.duplicate_of:
        d = r.duplicate_of
        out.print(say("import.duplicate_delivery", day=(d["imported_at"] or "")[:10],
                      by=say("import.by", user=d["imported_by"]) if d["imported_by"] else "",
                      batch=d["batch"], source=source_word(d["source"]), file=d["file"]))
    for d in r.duplicates:
        how = say("import.same_shape") if d["same_shape"] else say("import.overlap", share=d["overlap"])
        out.print(say("import.duplicate", feature=d["feature"], code=d["patch_code"], other=d["duplicate_code"],
                      batch=d["batch"], how=how))
    if r.needs_accept_duplicates and r.dry_run:
        out.print(say("import.needs_accept"))


@batches.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def list_(app: AppContext, as_json):
    """List batches with their patch counts and areas.

    Example:

        geo-tracker batches list --json
    """
    with app.open_store() as store:
        rows = list_batches(store)
    if as_json:
        echo_json(rows)
    else:
        print_batches(rows)


def print_batches(rows: list[dict]) -> None:
    listing = table("batch", "source", "issued", "deadline", "patches", "withdrawn", "area", "issued_area",
                    "cultivated", "imports")
    for b in rows:
        listing.add_row(b["name"], source_word(b["source"]), str(b["issued_on"]), str(b["deadline"] or ""),
                      str(b["patches"]), str(b["withdrawn"]), f"{b['area_mu']:.2f}",
                      f"{b['issued_area_mu']:.2f}", f"{b['cultivated_mu']:.2f}", str(b["imports"]))
    console().print(listing)


@batches.command("show")
@click.argument("name")
@click.option("--source", type=click.Choice(SOURCES), help="Needed when two sources use the same name.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def show(app: AppContext, name, source, as_json):
    """Show one batch: its imports and their reports, and its patches.

    Example:

        geo-tracker batches show 2023年第2批
    """
    with app.open_store() as store:
        data = show_batch(store, name, source)
    if as_json:
        echo_json(data)
        return
    out = console()
    out.print(say("batch.head", name=data["name"], source=source_word(data["source"]), issued=data["issued_on"],
                  deadline=data["deadline"] or "-", patches=data["patches"], area=data["area_mu"],
                  withdrawn=data["withdrawn"]))
    for imp in data["imports"]:
        diff = imp["report"].get("diff", {})
        out.print(say("batch.import", id=imp["id"], at=f"{imp['imported_at']:%Y-%m-%d %H:%M}", file=imp["file_name"],
                      accepted=imp["accepted"], read=imp["features_read"], crs=imp["crs"], encoding=imp["encoding"],
                      diff=joined(f"{say('diff.' + k)} {v}" for k, v in diff.items())))
    listing = table("code", "version", "status", "area", "issued_area", "cultivated", "flags")
    for p in data["patch_list"]:
        flags = p["flags"] if isinstance(p["flags"], dict) else {}
        listing.add_row(p["patch_code"], str(p["version"]),
                        say("status.withdrawn") if p["withdrawn"] else status_word(p["status"]),
                        f"{p['area_mu']:.2f}", _num(p["issued_area_mu"]), _num(p["cultivated_mu"]), joined(flags))
    out.print(listing)


def _num(value) -> str:
    return "" if value is None else f"{value:.2f}"


@batches.command("dossier")
@click.argument("name")
@click.option("--source", type=click.Choice(SOURCES), help="Needed when two sources use the same name.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, writable=True),
              help="The zip to write: one Word dossier per patch, named by its code.")
@click.pass_obj
def dossier(app: AppContext, name, source, output):
    """Write the dossier (举证材料) of every current patch of a batch into one zip (CODE.docx each).

    Example:

        geo-tracker batches dossier 2023年第2批 -o 2023年第2批举证材料.zip
    """
    # matplotlib and python-docx load only for this command, not for every `batches` one
    from ..services.dossier import write_batch_dossiers

    with app.open_store() as store:
        done = write_batch_dossiers(store, name, output, source=source)
    click.echo(say("dossier.batch_written", path=output, batch=done["batch"], patches=done["patches"],
                   photos=done["photos"]))
