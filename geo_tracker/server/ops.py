"""The service's own routes: the landing document, the OpenAPI description, health and readiness."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, RedirectResponse

from .. import __version__
from ..catalogue import msg
from ..services.backup import backup_warning
from ..store.failures import translate
from . import errors
from .deps import principal

router = APIRouter()


@router.get("/", include_in_schema=False)
def landing(request: Request):
    if errors.wants_html(request):
        return RedirectResponse("/dashboard", status_code=303)
    return {"title": "geo_tracker", "version": __version__,
            "links": {"api": "/api/v1", "openapi": "/api/v1/openapi.json", "ogc": "/ogc", "map": "/map",
                      "login": "/api/v1/login", "health": "/healthz", "ready": "/readyz"}}


async def _docs_guard(request: Request) -> None:
    """The API's description is for signed-in users unless the settings make it public."""
    if not request.app.state.settings.public_docs:
        (await principal(request)).require("read")


@router.get("/api/v1/openapi.json", include_in_schema=False, dependencies=[Depends(_docs_guard)])
def openapi(request: Request):
    return JSONResponse(request.app.openapi())


@router.get("/healthz", tags=["ops"])
def healthz():
    """The process answers."""
    return {"status": "ok"}


@router.get("/readyz", tags=["ops"])
def readyz(request: Request):
    """The database answers, its schema is this version's, and the database's and the
    evidence folders take a write (else 503, or 507 when a disk is full). Ready, but with a
    warning, when the last backup is older than two days."""
    store = request.app.state.store
    try:
        store.check_schema()
        store.check_writable()
    except Exception as e:  # noqa: BLE001 - an outage is an answer here, not a bug
        known = translate(e)                 # anonymous: no paths or addresses in the answer
        if known is None:
            raise
        if store.has_replicas and store.reading() is not store:
            return _reads_only(request, store)
        return JSONResponse({**errors.error_body(known, errors.answer_language(request)), "status": "not ready"},
                            status_code=known.http_status)
    answer = {"status": "ready", "backend": store.backend}
    warning = backup_warning(store)
    if warning is not None:
        answer["warnings"] = [{"code": "backup_old", "message": warning.text(errors.answer_language(request), "api")}]
    return answer


def _reads_only(request: Request, store) -> dict:
    """The primary is down but a replica answers: still ready for reads, and says so."""
    warning = msg("storage.primary_down_reads_go_on").text(errors.answer_language(request), "api")
    return {"status": "ready", "backend": store.backend,
            "warnings": [{"code": "primary_unavailable", "message": warning}]}


@router.get("/api/v1/health", include_in_schema=False)
def health(request: Request):
    return {"status": "ok", "backend": request.app.state.store.backend}
