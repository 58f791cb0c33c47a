"""``imagery import | list | remove``: local imagery (影像) served offline as map tiles."""

from __future__ import annotations

import click

from ..services.imagery import import_imagery, list_imagery, remove_imagery
from .app import DATE, USER, AppContext, cli, console, echo_json, say, say_value


@cli.group()
def imagery():
    """Imagery (影像: 前时相/后时相, DOM): GeoTIFF, COG, MBTiles or a delivery's image clips."""


@imagery.command("import")
@click.argument("path", type=click.Path(path_type=str))
@click.option("--date", "acquired_on", type=DATE, help="Date the image was taken (拍摄日期), YYYY-MM-DD; a "
              "delivery's clips take theirs from QSX/HSX.")
@click.option("--label", help="What the image is, e.g. 前时相, 后时相, DOM (default: none).")
@click.option("--name", help="Layer name (default: the file name).")
@click.option("--crs", help="CRS of the image, e.g. EPSG:4524 (default: the file's own, else inferred).")
@click.option("--batch", "batch", help="A delivery's clips: the batch of their patches (when codes repeat).")
@USER
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_obj
def import_(app: AppContext, path, acquired_on, label, name, crs, batch, user, as_json):
    """Import an image (converted once to a Cloud-Optimised GeoTIFF beside the database) or the
    image clips of a delivery (fields QSIMG/HSIMG naming files in the zip, matched to their patches).

    Example:

        geo-tracker imagery import 2023年DOM.tif --date 2023-10-15 --label 后时相
    """
    with app.open_store() as store:
        report = import_imagery(store, path, acquired_on=acquired_on.date() if acquired_on else None,
                                label=label, name=name, crs=crs, batch=batch, user=user)
    if as_json:
        echo_json(report.to_dict())
        return
    out = console()
    for layer in report.imported:
        out.print(say("imagery.imported", **{**layer, "zooms": f"{layer['zooms'][0]}–{layer['zooms'][1]}",
                                             "mib": layer["size_bytes"] / 2 ** 20, "label": layer["label"] or "—",
                                             "reason": say_value(layer["crs_reason"])}))
    for layer in report.already:
        out.print(say("imagery.already", **layer))
    for warning in report.warnings:
        out.print(say("imagery.warning", warning=say_value(warning)))


@imagery.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON: a list of objects with id, name, date, "
              "label and bounds.")
@click.pass_obj
def list_(app: AppContext, as_json):
    """List the imported imagery, newest first."""
    with app.open_store() as store:
        layers = list_imagery(store)
    if as_json:
        echo_json(layers)
        return
    for layer in layers:
        console().print(say("imagery.layer", **{**layer, "label": layer["label"] or "—",
                                                "mib": layer["size_bytes"] / 2 ** 20}))
    if not layers:
        console().print(say("imagery.none"))


@imagery.command("remove")
@click.argument("imagery_id", type=int)
@click.pass_obj
def remove(app: AppContext, imagery_id):
    """Remove an imagery layer (its file too, unless another layer keeps it); dossiers already
    written keep their pictures."""
    with app.open_store() as store:
        layer = remove_imagery(store, imagery_id)
    console().print(say("imagery.removed", **layer))
