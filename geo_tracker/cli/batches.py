"""``batches import | list | show``."""

from __future__ import annotations

import sys

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ..services.accounts import account_scope
from ..services.batches import SOURCES, ImportOptions, ImportReport, import_batch, list_batches, show_batch
from ..units import TO_MU
from .app import USER, AppContext, DATE, cli, console, echo_json, reader_options



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
            with Progress(TextColumn("importing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
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
        out.print(f"{r.file}: identical to the file already imported into batch {r.batch} "
                  f"({r.source}); nothing changed.")
        return
    verb = "Would import" if r.dry_run else "Imported"
    out.print(f"{verb} {r.dataset} into batch [bold]{r.batch}[/] ({r.source})")
    issued = "—" if r.issued_area_mu is None else f"{r.issued_area_mu:.2f} 亩"
    rows = [
        ("features read", r.features_read), ("accepted", r.accepted), ("rejected", len(r.rejected)),
        ("repaired", r.flags.get("repaired", 0)),
        ("area (computed)", f"{r.area_mu:.2f} 亩"), ("issued area", issued),
        ("cultivated", f"{r.cultivated_mu:.2f} 亩"),
        ("CRS", f"{r.crs}: {r.crs_reason}"), ("encoding", f"{r.encoding}: {r.encoding_reason}"),
        *((f"field {k}", v) for k, v in r.fields.items()),
        ("changes", ", ".join(f"{k} {v}" for k, v in r.diff.items())),
        *((("villages", f"{r.villages['matched']} matched ({r.villages['straddles']} straddling), "
                        f"{r.villages['outside']} outside"),) if r.villages else ()),
    ]
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    for key, value in rows:
        table.add_row(key, str(value))
    out.print(table)
    for f in r.files:
        out.print(f"file {f['file']}: {f['features']} features, {f['crs']}, {f['encoding']}")
    for kind, codes in r.diff_codes.items():
        if codes:
            out.print(f"{kind}: {', '.join(codes[:30])}{' …' if len(codes) > 30 else ''}")
    _print_duplicates(out, r)
    for w in r.warnings:
        out.print(f"[yellow]warning:[/] {w}")
    for p in r.rejected:
        out.print(f"[red]rejected[/] feature {p['feature']} ({p['patch_code']}): {p['problem']}")
    for p in r.problems[:50]:
        out.print(f"flag feature {p['feature']} ({p['patch_code']}): {p['problem']}")
    if len(r.problems) > 50:
        out.print(f"... and {len(r.problems) - 50} more flags (see --json)")


def _print_duplicates(out, r: ImportReport) -> None:
    if r.duplicate_of:
        d = r.duplicate_of
        out.print(f"[red]duplicate delivery:[/] the same content was imported on {(d['imported_at'] or '')[:10]}"
                  f"{' by ' + d['imported_by'] if d['imported_by'] else ''} as batch {d['batch']} ({d['source']}), "
                  f"file {d['file']}")
    for d in r.duplicates:
        how = "same shape" if d["same_shape"] else f"{d['overlap']:.1%} overlap"
        out.print(f"[red]duplicate[/] feature {d['feature']} ({d['patch_code']}) = {d['duplicate_code']} of batch "
                  f"{d['batch']} ({how})")
    if r.needs_accept_duplicates and r.dry_run:
        out.print("[yellow]importing this needs --accept-duplicates[/]")


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
    table = Table("batch", "source", "issued", "deadline", "patches", "withdrawn", "area 亩",
                  "issued 亩", "cultivated 亩", "imports")
    for b in rows:
        table.add_row(b["name"], b["source"], str(b["issued_on"]), str(b["deadline"] or ""),
                      str(b["patches"]), str(b["withdrawn"]), f"{b['area_mu']:.2f}",
                      f"{b['issued_area_mu']:.2f}", f"{b['cultivated_mu']:.2f}", str(b["imports"]))
    console().print(table)


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
    out.print(f"[bold]{data['name']}[/] ({data['source']}), issued {data['issued_on']}, "
                  f"deadline {data['deadline'] or '-'}: {data['patches']} patches, {data['area_mu']:.2f} 亩, "
                  f"{data['withdrawn']} withdrawn")
    for imp in data["imports"]:
        diff = imp["report"].get("diff", {})
        out.print(f"  import {imp['id']} {imp['imported_at']:%Y-%m-%d %H:%M} {imp['file_name']}: "
                      f"{imp['accepted']}/{imp['features_read']} accepted, CRS {imp['crs']}, "
                      f"{imp['encoding']}, " + ", ".join(f"{k} {v}" for k, v in diff.items()))
    table = Table("code", "v", "status", "area 亩", "issued 亩", "cultivated 亩", "flags")
    for p in data["patch_list"]:
        flags = p["flags"] if isinstance(p["flags"], dict) else {}
        table.add_row(p["patch_code"], str(p["version"]), "withdrawn" if p["withdrawn"] else p["status"],
                      f"{p['area_mu']:.2f}", _num(p["issued_area_mu"]), _num(p["cultivated_mu"]),
                      ", ".join(flags))
    out.print(table)


def _num(value) -> str:
    return "" if value is None else f"{value:.2f}"
