"""``landuse import | list``."""

from __future__ import annotations

import click

from ..services.landuse import import_landuse, list_layers
from .app import AppContext, cli, console, echo_json, reader_options, say


@cli.group()
def landuse():
    """The 第三次国土调查 land-use layer (地类图斑, DLTB), for computed 耕地/林地 areas."""


@landuse.command("import")
@click.argument("path", type=click.Path(path_type=str))
@click.option("--name", help="Layer name (default: the file name); importing the same name again replaces it.")
@reader_options
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_obj
def import_(app: AppContext, path, name, layer, encoding, crs, as_json):
    """Import a DLTB layer; patches without an issued cultivated area get one computed from it.

    Example:

        geo-tracker landuse import DLTB_500109.gdb --layer DLTB
    """
    with app.open_store() as store:
        report = import_landuse(store, path, layer=layer, encoding=encoding, crs=crs, name=name)
    if as_json:
        echo_json(report.to_dict())
        return
    console().print(say("landuse.done", parcels=report.parcels, layer=report.layer, cultivated=report.cultivated_parcels,
                        forest=report.forest_parcels, replaced=report.replaced, crs=report.crs, encoding=report.encoding))


@landuse.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def list_(app: AppContext, as_json):
    """List the loaded land-use layers."""
    with app.open_store() as store:
        rows = list_layers(store)
    if as_json:
        echo_json(rows)
        return
    for r in rows:
        console().print(say("landuse.layer", **r))
