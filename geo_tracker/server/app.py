"""The HTTP service: JSON API (/api/v1), OGC API Features (/ogc), vector tiles and the web pages (web/),
over the same services as the CLI.

``create_app`` wires the parts: the error table (errors.py), who is asking
(auth.py), uploads (uploads.py), the resources (v1.py) and OGC (ogc.py). On
PostGIS the store's engine is a connection pool shared by all requests.
"""

from __future__ import annotations

import json
import secrets
import logging
import time

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from .. import __version__
from ..config import ServiceSettings
from ..store.failures import translate
from ..maps.builder import STATIC
from ..services import accounts
from ..services.accounts import Principal
from ..services.tiles import patch_tile, tile_page, tile_version
from ..store import Store
from ..web import pages
from ..web.pages import STATIC as WEB_STATIC, with_nonce
from . import auth, errors, ogc, uploads, v1
from .auth import need

access_log = logging.getLogger("geo_tracker.access")
#: On every response: no type sniffing, frames only from this site (the map page frames its own map).
SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "SAMEORIGIN",
                    "Referrer-Policy": "same-origin"}


def security_headers(request: Request, settings: ServiceSettings) -> dict[str, str]:
    """What every answer carries: scripts only from this site (inline ones with the request's
    nonce), HSTS behind HTTPS, and no caching of anything a login was needed for."""
    nonce = request.state.csp_nonce
    headers = {**SECURITY_HEADERS, "Content-Security-Policy": (
        f"default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'self'")}
    if settings.cookie_secure:
        headers["Strict-Transport-Security"] = "max-age=31536000"
    if getattr(request.state, "principal", None) is not None:
        headers["Cache-Control"] = "no-store"
    return headers


def create_app(store: Store, settings: ServiceSettings | None = None) -> FastAPI:
    """The ASGI app for one database."""
    settings = settings or ServiceSettings()
    app = FastAPI(title="geo_tracker", version=__version__, docs_url=None, redoc_url=None, openapi_url=None,
                  description="图斑 tracking: batches, patches, verification, rectification, cases, figures. "
                              "Log in with POST /api/v1/login (session cookie + CSRF token) or send "
                              "'Authorization: Bearer <token>' (`geo-tracker tokens create`).")
    app.state.store = store
    app.state.settings = settings
    errors.install(app)
    app.include_router(auth.router())
    app.include_router(v1.router())
    ogc.register(app)
    read = need("read")

    @app.get("/", include_in_schema=False)
    def landing(request: Request):
        if errors.wants_html(request):
            return RedirectResponse("/dashboard", status_code=303)
        return {"title": "geo_tracker", "version": __version__,
                "links": {"api": "/api/v1", "openapi": "/api/v1/openapi.json", "ogc": "/ogc", "map": "/map",
                          "login": "/api/v1/login", "health": "/healthz", "ready": "/readyz"}}

    openapi_guard = [] if settings.public_docs else [Depends(read)]

    @app.get("/api/v1/openapi.json", include_in_schema=False, dependencies=openapi_guard)
    def openapi():
        return JSONResponse(app.openapi())

    @app.get("/healthz", tags=["ops"])
    def healthz():
        """The process answers."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["ops"])
    def readyz():
        """The database answers, its schema is this version's, and the database's and the
        evidence folders take a write (else 503, or 507 when a disk is full)."""
        try:
            store.check_schema()
            store.check_writable()
        except Exception as e:  # noqa: BLE001 - an outage is an answer here, not a bug
            known = translate(e)                 # anonymous: no paths or addresses in the answer
            if known is None:
                raise
            return JSONResponse({**errors.error_body(known), "status": "not ready"}, status_code=known.http_status)
        return {"status": "ready", "backend": store.backend}

    @app.get("/api/v1/health", include_in_schema=False)
    def health():
        return {"status": "ok", "backend": store.backend}

    @app.get("/tiles/{z}/{x}/{y}.pbf", tags=["tiles"])
    def tile(request: Request, z: int, x: int, y: int, user: Principal = Depends(read)):
        """Vector tile with layers ``patches`` (code, status, area) and ``villages``; ETag changes on every write."""
        villages = accounts.scope_villages(store, user)
        version = tile_version(store, villages)
        etag = f'"{version}"'
        headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers=headers)
        return Response(patch_tile(store, z, x, y, villages, version=version),
                        media_type="application/vnd.mapbox-vector-tile", headers=headers)

    @app.get("/map/tiles", include_in_schema=False)
    def tile_map(request: Request, user: Principal = Depends(read)):
        """The map of all patches as vector tiles (what /map uses beyond ~20 000 patches)."""
        return HTMLResponse(with_nonce(tile_page(store), request.state.csp_nonce))

    app.include_router(pages.router())
    app.state.html_error = pages.html_error
    app.mount("/lib", StaticFiles(directory=STATIC), name="lib")
    app.mount("/static", StaticFiles(directory=WEB_STATIC), name="static")

    @app.middleware("http")
    async def log_requests(request: Request, call_next):
        start = time.perf_counter()
        request.state.csp_nonce = secrets.token_urlsafe(16)
        response = await call_next(request)
        for header, value in security_headers(request, settings).items():
            response.headers.setdefault(header, value)
        if settings.access_log:
            access_log.info(json.dumps({
                "method": request.method, "path": request.url.path, "status": response.status_code,
                "ms": round((time.perf_counter() - start) * 1000, 1),
                "user": getattr(request.state, "user", None),
                "client": request.client.host if request.client else None}, ensure_ascii=False))
        return response

    app.add_middleware(uploads.UploadLimit, limit=settings.max_upload_bytes)
    return app


def app_from_environment() -> FastAPI:
    """The app of one worker process when `geo-tracker serve --workers N` runs several ($GEO_TRACKER_DB)."""
    from ..config import load_settings
    from ..store import open_store

    return create_app(open_store(None), load_settings())
