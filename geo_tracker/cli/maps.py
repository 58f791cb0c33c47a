"""``map``."""

from __future__ import annotations

import click

from ..services.maps import make_map
from .app import AppContext, DATE, cli, say



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
    click.echo(say("map.written", file=result["file"], patches=result["patches"], kib=result["bytes"] / 1024))


@cli.command("serve-tiles")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8001, show_default=True, type=int)
@click.pass_obj
def serve_tiles(app: AppContext, host, port):
    """Serve the patches as vector tiles, with a map page at / (for counties and provinces).

    Example:

        geo-tracker --db postgresql://127.0.0.1/county serve-tiles --port 8001
    """
    from ..server.tileserver import make_server

    store = app.open_store()
    server = make_server(store, host, port)
    click.echo(say("tiles.serving", host=host, port=server.server_address[1]))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        store.close()
