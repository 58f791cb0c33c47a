"""The HTTP service: JSON API (/api/v1), OGC API Features (/ogc), vector tiles and the Chinese pages,
over the same services as the CLI.

``create_app`` only wires the parts side by side: ``api/``, ``pages/``, ``ogc/`` and
``tiles.py`` each own their routes over ``deps.py`` (who asks, their scope), ``uploads.py``
and ``errors.py`` (the error table; pages render errors as pages). On PostGIS the store's
engine is a connection pool shared by all requests; with ``read_database_url`` reads go to
streaming replicas and changes to the primary (``deps.store_of``).
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles

from .. import __version__
from ..config import ServiceSettings
from ..maps.builder import STATIC as MAP_STATIC
from ..store import Store
from . import api, deps, errors, ogc, ops, pages, tiles, uploads
from .scheduler import BackupScheduler
from .security import security_headers

access_log = logging.getLogger("geo_tracker.access")
DESCRIPTION = ("图斑 tracking: batches, patches, verification, rectification, cases, figures. "
               "Log in with POST /api/v1/login (session cookie + CSRF token) or send "
               "'Authorization: Bearer <token>' (`geo-tracker tokens create`).")


def create_app(store: Store, settings: ServiceSettings | None = None) -> FastAPI:
    """The ASGI app for one database."""
    settings = settings or ServiceSettings()
    app = FastAPI(title="geo_tracker", version=__version__, docs_url=None, redoc_url=None, openapi_url=None,
                  description=DESCRIPTION, lifespan=_daily_backups)
    if settings.read_database_url:
        store.attach_replicas(settings.read_database_url, settings.replica_wait_s)
    app.state.store = store
    app.state.settings = settings
    errors.install(app, render_page=pages.html_error)
    for router in (ops.router, api.router, ogc.router, tiles.router, pages.router):
        app.include_router(router)
    app.mount("/lib", StaticFiles(directory=MAP_STATIC), name="lib")
    app.mount("/static", StaticFiles(directory=pages.STATIC), name="static")
    app.middleware("http")(_headers_and_log(settings))
    app.add_middleware(uploads.UploadLimit, limit=settings.max_upload_bytes)
    return app


@asynccontextmanager
async def _daily_backups(app: FastAPI):
    """The ``[backup]`` schedule runs while the service does."""
    scheduler = BackupScheduler(app.state.store, app.state.settings.backup).start()
    try:
        yield
    finally:
        scheduler.stop()


def _headers_and_log(settings: ServiceSettings):
    """A middleware: the CSP nonce and security headers on every answer, and one JSON access-log line."""
    async def middleware(request: Request, call_next):
        start = time.perf_counter()
        request.state.csp_nonce = secrets.token_urlsafe(16)
        with request.app.state.store.noting_changes() as changes:
            response = await call_next(request)
        deps.remember_write(request, response, changes)
        for header, value in security_headers(request, settings).items():
            response.headers.setdefault(header, value)
        if settings.access_log:
            access_log.info(json.dumps({
                "method": request.method, "path": request.url.path, "status": response.status_code,
                "ms": round((time.perf_counter() - start) * 1000, 1),
                "user": getattr(request.state, "user", None),
                "client": request.client.host if request.client else None}, ensure_ascii=False))
        return response
    return middleware


def app_from_environment() -> FastAPI:
    """The app of one worker process when `geo-tracker serve --workers N` runs several ($GEO_TRACKER_DB)."""
    from ..config import load_settings
    from ..store import open_store

    return create_app(open_store(None), load_settings())
