"""``map``."""

from __future__ import annotations

import click

from ..services.maps import make_map
from .app import AppContext, DATE, cli



@cli.command("map")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="maps/NAME.html")
@click.option("--batch", "batches", multiple=True, help="Only these batches (repeatable).")
@click.option("--source")
@click.option("--village", help="Only patches touching this village.")
@click.option("--as-of", type=DATE, help="Status as of this date.")
@click.option("--timeline", is_flag=True, help="Add a slider showing status at each month end.")
@click.option("--basemap", default="none", show_default=True,
              help="none (offline), osm, tianditu, or a tile URL template with {z}/{x}/{y}.")
@click.option("--tianditu-key", envvar="TIANDITU_KEY", help="天地图 key for --basemap tianditu.")
@click.pass_obj
def map_(app: AppContext, output, batches, source, village, as_of, timeline, basemap, tianditu_key):
    """Write an interactive map of rectification progress that works offline.

    Example:

        geo-tracker map -o maps/2023.html --as-of 2023-12-31
    """
    with app.open_store() as store:
        result = make_map(store, output, batches=list(batches), source=source, village=village,
                          as_of=as_of.date() if as_of else None, basemap=basemap, tianditu_key=tianditu_key,
                          timeline=timeline)
    click.echo(f"wrote {result['file']}: {result['patches']} patches, {result['bytes'] / 1024:.0f} KiB "
               "(assets in lib/ beside it; no network needed)")


@cli.command("serve-tiles")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8001, show_default=True, type=int)
@click.pass_obj
def serve_tiles(app: AppContext, host, port):
    """Serve the patches as vector tiles, with a map page at / (for counties and provinces).

    Example:

        geo-tracker --db postgresql://127.0.0.1/county serve-tiles --port 8001
    """
    from ..api.tileserver import make_server

    store = app.open_store()
    server = make_server(store, host, port)
    click.echo(f"serving http://{host}:{server.server_address[1]}/ (tiles at /tiles/{{z}}/{{x}}/{{y}}.pbf); Ctrl-C stops")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        store.close()


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False),
              help="TOML settings file (default: $GEO_TRACKER_CONFIG); environment variables override it.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64), envvar="GEO_TRACKER_WORKERS",
              help="Server processes (PostGIS only; SpatiaLite has one writer). About one per core.")
@click.pass_obj
def serve(app: AppContext, host, port, config_file, workers):
    """Serve the JSON API (/api/v1), OGC API Features (/ogc), vector tiles and the map.

    Everything but / and /healthz needs a login: a user from `geo-tracker users add`
    (session cookie, or HTTP Basic in QGIS) or a token from `geo-tracker tokens create`.

    Example:

        geo-tracker --db postgresql://127.0.0.1/county serve --port 8000 --workers 2
        GDAL_HTTP_HEADERS="Authorization: Bearer $TOKEN" ogrinfo OAPIF:http://127.0.0.1:8000/ogc
    """
    import logging
    import os

    import uvicorn

    from ..api.app import create_app
    from ..config import CONFIG_ENV, load_settings
    from ..store.url import ENV_VAR

    settings = load_settings(config_file)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    store = app.open_store()
    store.check_schema()
    click.echo(f"serving {store.display_url} on http://{host}:{port}/ with {workers} process(es) "
               "(Ctrl-C or SIGTERM stops)", err=True)
    options = dict(host=host, port=port, log_level="warning",
                   timeout_graceful_shutdown=int(settings.graceful_shutdown_s))
    if workers == 1:
        try:
            uvicorn.run(create_app(store, settings), **options)
        finally:
            store.close()
        return
    if store.backend != "postgis":
        store.close()
        raise click.UsageError("--workers above 1 needs PostGIS: a SpatiaLite file has one writer")
    store.close()
    os.environ[ENV_VAR] = str(store.url.render_as_string(hide_password=False))
    if config_file:
        os.environ[CONFIG_ENV] = str(config_file)
    uvicorn.run("geo_tracker.api.app:app_from_environment", factory=True, workers=workers, **options)
