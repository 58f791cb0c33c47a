"""``serve``: the HTTP service (JSON API, pages, OGC API Features, tiles)."""

from __future__ import annotations

import click

from ..catalogue import msg
from .app import AppContext, cli, say


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

    from ..server.app import create_app
    from ..config import CONFIG_ENV, load_settings
    from ..store.url import ENV_VAR

    settings = load_settings(config_file)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    store = app.open_store()
    store.check_schema()
    click.echo(say("serve.serving", url=store.display_url, host=host, port=port, workers=workers), err=True)
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
        raise click.UsageError(msg("cli.workers_need_postgis").text(app.lang, "cli"))
    store.close()
    os.environ[ENV_VAR] = str(store.url.render_as_string(hide_password=False))
    if config_file:
        os.environ[CONFIG_ENV] = str(config_file)
    uvicorn.run("geo_tracker.server.app:app_from_environment", factory=True, workers=workers, **options)
