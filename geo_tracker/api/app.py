"""The HTTP service (first slice): JSON API and OGC API Features over the same services as the CLI.

Every endpoint parses its input, calls one service function and formats the
result; errors map to HTTP statuses through each error class's ``http_status``.
"""

from __future__ import annotations

import json
from datetime import date

from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from .. import __version__
from ..errors import GeoTrackerError, NotFoundError
from ..services.batches import list_batches
from ..services.patches import list_patches, patches_geojson, show_patch
from ..services.stats import compute_stats
from ..services.tiles import patch_tile, tile_page
from ..maps.builder import STATIC
from ..store import Store
from . import ogc


def error_body(error: GeoTrackerError) -> dict:
    return {"code": type(error).__name__, "message": str(error)}


def create_app(store: Store) -> FastAPI:
    """The ASGI app for one database (connection pool on PostGIS)."""
    app = FastAPI(title="geo_tracker", version=__version__, docs_url="/api/docs", openapi_url="/api/v1/openapi.json")
    app.state.store = store

    @app.exception_handler(GeoTrackerError)
    async def _error(_request: Request, error: GeoTrackerError):
        return JSONResponse(error_body(error), status_code=error.http_status)

    @app.get("/api/v1/batches")
    def batches():
        return json.loads(json.dumps(list_batches(store), default=str))

    @app.get("/api/v1/patches")
    def patches(batch: str | None = None, village: str | None = None, status: str | None = None,
                source: str | None = None, as_of: date | None = None):
        frame = list_patches(store, batch=batch, village=village, status=status, source=source, as_of=as_of)
        return patches_geojson(frame)

    @app.get("/api/v1/patches/{ref:path}")
    def patch(ref: str, as_of: date | None = None):
        return json.loads(json.dumps(show_patch(store, ref, as_of), default=str))

    @app.get("/api/v1/stats")
    def stats(as_of: date | None = None, year: int | None = None, source: str | None = None,
              batch: str | None = None, village: str | None = None, by: list[str] = Query(default=[])):
        data = compute_stats(store, as_of=as_of, year=year, source=source, batch=batch, village=village, by=by)
        return json.loads(json.dumps(data, default=str))

    ogc.register(app, store)

    @app.get("/tiles/{z}/{x}/{y}.pbf")
    def tile(z: int, x: int, y: int):
        return Response(patch_tile(store, z, x, y), media_type="application/vnd.mapbox-vector-tile",
                        headers={"Cache-Control": "max-age=60"})

    @app.get("/map")
    def tile_map():
        return HTMLResponse(tile_page(store))

    app.mount("/lib", StaticFiles(directory=STATIC), name="lib")

    @app.get("/api/v1/health")
    def health():
        return {"status": "ok", "backend": store.backend}

    @app.exception_handler(404)
    async def _not_found(_request: Request, _exc):
        return JSONResponse(error_body(NotFoundError("no such resource")), status_code=404)

    return app

