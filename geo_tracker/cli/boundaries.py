"""``boundaries import | list``."""

from __future__ import annotations

import click

from ..services.boundaries import LEVELS, BoundaryOptions, BoundaryReport, import_boundaries, list_boundaries
from ..services.accounts import account_scope
from .app import USER, AppContext, DATE, cli, console, echo_json, joined, level_word, reader_options, say, table



@cli.group()
def boundaries():
    """Administrative boundaries (县, 乡镇, 行政村) with their history."""


@boundaries.command("import")
@click.argument("path", type=click.Path(path_type=str))
@click.option("--level", required=True, type=click.Choice(LEVELS), help="Which level the file holds.")
@click.option("--code-field", help="Field with the statistical division code (default: detected).")
@click.option("--name-field", help="Field with the unit's name (default: detected).")
@click.option("--parent-field", help="Field with the parent unit's code.")
@click.option("--parent-code", help="Parent unit's code for every unit in the file.")
@click.option("--valid-from", type=DATE, help="Date from which these boundaries apply (replacing older ones).")
@reader_options
@click.option("--tolerance-m2", type=float, default=10.0, show_default=True,
              help="Gaps and overlaps smaller than this are not reported.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@USER
@click.pass_obj
def import_(app: AppContext, path, level, code_field, name_field, parent_field, parent_code, valid_from,
            encoding, crs, layer, tolerance_m2, as_json, user):
    """Import one level of boundaries; a re-import replaces the old ones from --valid-from.

    Example:

        geo-tracker boundaries import 村界.shp --level village --valid-from 2024-01-01
    """
    options = BoundaryOptions(level=level, code_field=code_field, name_field=name_field,
                              parent_field=parent_field, parent_code=parent_code,
                              valid_from=valid_from.date() if valid_from else None, encoding=encoding,
                              crs=crs, layer=layer, tolerance_m2=tolerance_m2)
    with app.open_store() as store:
        scope = account_scope(store, user)
        options.units = None if scope is None else scope.codes
        report = import_boundaries(store, path, options)
    if as_json:
        echo_json(report.to_dict())
    else:
        print_boundary_report(report)


def print_boundary_report(r: BoundaryReport) -> None:
    out = console()
    out.print(say("boundary.done", units=r.units, level=level_word(r.level), file=r.file, valid_from=r.valid_from,
                  area=r.area_mu))
    out.print(say("boundary.crs", crs=r.crs, reason=r.crs_reason))
    out.print(say("boundary.encoding", encoding=r.encoding, reason=r.encoding_reason))
    out.print(say("boundary.fields", fields=joined(f"{k} {v}" for k, v in r.fields.items())))
    if r.replaced:
        out.print(say("boundary.replaced", valid_from=r.valid_from, codes=joined(r.replaced)))
    for w in r.warnings:
        out.print(say("import.warning", text=w))
    for p in r.problems:
        if p["kind"] == "overlap":
            out.print(say("boundary.overlap", where=" & ".join(p["codes"]), area=p["area_m2"], location=p["location"]))
        else:
            out.print(say("boundary.gap", parent=p["parent"], area=p["area_m2"], location=p["location"]))
    if r.level == "village":
        out.print(say("boundary.rematch"))


@boundaries.command("list")
@click.option("--level", type=click.Choice(LEVELS))
@click.option("--as-of", type=DATE, help="Only the units valid on this date.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def list_(app: AppContext, level, as_of, as_json):
    """List units with their validity and area.

    Example:

        geo-tracker boundaries list --level village --as-of 2021-06-30
    """
    with app.open_store() as store:
        rows = list_boundaries(store, level, as_of.date() if as_of else None)
    if as_json:
        echo_json(rows)
        return
    listing = table("level", "unit_code", "name", "parent", "valid_from", "valid_to", "area", "file")
    for r in rows:
        listing.add_row(level_word(r["level"]), r["code"], r["name"], r["parent_code"] or "", str(r["valid_from"]),
                      str(r["valid_to"] or ""), f"{r['area_mu']:.2f}", r["source_file"] or "")
    console().print(listing)
