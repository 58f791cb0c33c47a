"""``qgis-project``."""

from __future__ import annotations

from urllib.parse import urlsplit

import click

from .app import AppContext, cli, say


def _service_url(ctx, param, value: str | None) -> str | None:
    if value is None:
        return None
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise click.BadParameter(say("qgis.bad_service", url=value))
    return value.strip()


def _qgs_file(ctx, param, value: str) -> str:
    if not value.lower().endswith(".qgs"):
        raise click.BadParameter(say("qgis.bad_suffix", file=value))
    return value


@cli.command("qgis-project")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), callback=_qgs_file,
              help="The project file, e.g. 图斑.qgs.")
@click.option("--service", metavar="URL", callback=_service_url,
              help="The server (http://HOST:8000 or its /ogc): its OGC API Features layers. "
                   "Default: the database's own tables (--db).")
@click.option("--authcfg", metavar="ID", help="With --service: the id of a Basic entry in the user's QGIS "
              "authentication database (设置 › 选项 › 认证); without it QGIS asks for the password.")
@click.pass_obj
def qgis_project(app: AppContext, output, service, authcfg):
    """Write a QGIS project: patches coloured by status with the Chinese legend, and the villages.

    Without --service the layers are the database's view current_patches and the villages of
    today from admin_units (a SpatiaLite file is referred to relative to the project). With
    --service they are the server's OGC API Features collections patches and villages; no
    password is written.

    Example:

        geo-tracker qgis-project -o 图斑.qgs --service http://192.168.1.10:8000
    """
    from ..services.qgis_project import write_qgis_project

    if authcfg and not service:
        raise click.UsageError(say("qgis.authcfg_needs_service"))
    if service:
        result = write_qgis_project(output, service=service, authcfg=authcfg)
    else:
        with app.open_store() as store:
            result = write_qgis_project(output, store=store)
    click.echo(say("qgis.written", file=result["file"], layers=len(result["layers"])))
    for layer in result["layers"]:
        click.echo(say("qgis.layer", name=layer["name"], provider=layer["provider"], source=layer["source"]))
    if service:
        click.echo(say("qgis.login_authcfg" if authcfg else "qgis.login", authcfg=authcfg))
