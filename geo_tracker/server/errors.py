"""One table from our typed errors to the JSON the service returns: a stable ``code``, the message, the field.

The HTTP status is each class's ``http_status`` (errors.py); the code here is
what scripts and pages branch on, so it never changes once released.
"""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import errors as e
from ..catalogue import accepted_language, in_language, msg
from ..services.logins import TARPIT_S
from ..store.failures import DatabaseError, RefusedValueError, translate

#: Most specific first; the first class the error is an instance of gives its code.
ERROR_CODES: list[tuple[type[e.GeoTrackerError], str]] = [
    (e.UploadTooLargeError, "upload_too_large"),
    (e.UploadTypeError, "upload_type_not_allowed"),
    (e.UnsafeArchiveError, "unsafe_archive"),
    (e.CRSDetectionError, "crs_undetermined"),
    (e.EncodingDetectionError, "encoding_undetermined"),
    (e.ZuobiaoFormatError, "zuobiao_format"),
    (e.DuplicateDeliveryError, "duplicate_delivery"),
    (e.BatchImportError, "batch_rejected"),
    (e.FieldMappingError, "invalid_value"),
    (e.InputFileError, "invalid_file"),
    (e.BatchNotFoundError, "batch_not_found"),
    (e.NotFoundError, "not_found"),
    (e.StaleRowError, "stale_row_version"),
    (e.TransitionError, "transition_not_allowed"),
    (e.ConflictError, "conflict"),
    (e.InvalidQueryError, "invalid_query"),
    (e.InvalidValueError, "invalid_value"),
    (e.TooManyAttemptsError, "too_many_attempts"),
    (e.StorageFullError, "storage_full"),
    (e.CSRFError, "csrf_token_missing"),
    (e.PermissionDeniedError, "forbidden"),
    (e.AuthenticationError, "not_authenticated"),
    (e.AccountError, "account_invalid"),
    (e.ConfigurationError, "configuration_invalid"),
    (e.SchemaError, "schema_not_current"),
    (e.DatabaseUnavailableError, "database_unavailable"),
    (e.InternalError, "internal_error"),
    (e.GeoTrackerError, "invalid_request"),
]
#: Basic first: Qt (QGIS) offers its login dialog only when it reads the first challenge as Basic.
AUTH_CHALLENGE = {"WWW-Authenticate": 'Basic realm="geo_tracker", charset="UTF-8", Bearer'}
log = logging.getLogger("geo_tracker.service")


def error_code(error: e.GeoTrackerError) -> str:
    return next(code for cls, code in ERROR_CODES if isinstance(error, cls))


def error_body(error: e.GeoTrackerError, lang: str = "en") -> dict:
    """The JSON of an error: the stable ``code``, the message in ``lang`` with the API's hint, the field."""
    body = {"code": error_code(error), "message": error.text(lang, "api"), "field": getattr(error, "field", None)}
    problems = getattr(error, "problems", None)
    if problems:
        body["problems"] = in_language(problems[:200], lang, "api")
    body.update({k: v for k, v in (getattr(error, "details", None) or {}).items() if k not in body})
    return body


def error_headers(error: e.GeoTrackerError) -> dict | None:
    if isinstance(error, e.TooManyAttemptsError):
        return {"Retry-After": str(error.retry_after)}
    return AUTH_CHALLENGE if isinstance(error, e.AuthenticationError) else None


def error_response(error: e.GeoTrackerError, lang: str = "en") -> JSONResponse:
    return JSONResponse(error_body(error, lang), status_code=error.http_status, headers=error_headers(error))


def answer_language(request: Request) -> str:
    """Chinese unless ``?lang=en`` or ``Accept-Language`` asks for English."""
    return scope_language(request.scope)


def scope_language(scope) -> str:
    """The language a request asks for, read from the raw ASGI scope, so a middleware that
    answers before any Request exists (the upload limit) reads it the same way."""
    query = parse_qs((scope.get("query_string") or b"").decode("latin-1")).get("lang", [None])[-1]
    headers = dict(scope.get("headers") or [])
    return accepted_language(query, headers.get(b"accept-language", b"").decode("latin-1"))


#: Paths that always answer JSON, whatever the client accepts.
MACHINE_PATHS = ("/api/", "/ogc", "/tiles/", "/lib/", "/static/", "/healthz", "/readyz")


def wants_html(request: Request) -> bool:
    """A browser asking for a page (not the API): errors become pages and login redirects."""
    return (not request.url.path.startswith(MACHINE_PATHS)
            and "text/html" in request.headers.get("accept", ""))


def install(app: FastAPI, render_page=None) -> None:
    """The handlers: our errors as JSON, or as a page by ``render_page(request, error)`` for a browser."""
    @app.exception_handler(e.GeoTrackerError)
    async def _ours(request: Request, error: e.GeoTrackerError):
        if isinstance(error, e.TooManyAttemptsError):
            await asyncio.sleep(min(error.retry_after, TARPIT_S))  # hold the guesser, not the server
        if render_page is not None and wants_html(request):
            return render_page(request, error)
        return error_response(error, answer_language(request))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, error: RequestValidationError):
        first = error.errors()[0] if error.errors() else {}
        field = ".".join(str(p) for p in first.get("loc", ())[1:]) or None
        message = f"{field or 'request'}: {first.get('msg', 'invalid')}"
        return JSONResponse({"code": "invalid_value", "message": message, "field": field}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException):
        if error.status_code == 404 and render_page is not None and wants_html(request):
            return render_page(request, e.NotFoundError(msg("page.not_found")))
        codes = {404: "not_found", 405: "method_not_allowed"}
        return JSONResponse({"code": codes.get(error.status_code, "http_error"), "message": str(error.detail),
                             "field": None}, status_code=error.status_code, headers=error.headers)   # a 405's Allow

    @app.exception_handler(RefusedValueError)
    async def _unstorable(request: Request, error: RefusedValueError):
        # The database refused a value the checks above let through (a number beyond its
        # range, a NUL character in text): the input's fault, so 422, but logged to be tightened.
        log.warning("database refused a value on %s %s: %s", request.method, request.url.path, error.orig)
        return JSONResponse({"code": "invalid_value", "message": "a value is out of range or holds characters the "
                             "database cannot store (such as NUL): check the numbers and texts sent",
                             "field": None}, status_code=422)

    @app.exception_handler(OSError)
    @app.exception_handler(DatabaseError)
    async def _outage(request: Request, error: Exception):
        """A database that is gone or a disk that is full: an answer (503/507), not a bug."""
        store = getattr(request.app.state, "store", None)
        signed_in = getattr(request.state, "principal", None) is not None
        known = translate(error, f"the database {store.display_url}" if store is not None and signed_in
                          else "the database")
        if known is None:
            return await _bug(request, error)
        log.warning("%s on %s %s: %s", error_code(known), request.method, request.url.path, error)
        return await _ours(request, known)

    @app.exception_handler(Exception)
    async def _bug(request: Request, error: Exception):
        log.exception("internal error on %s %s", request.method, request.url.path)
        return JSONResponse({"code": "internal_error", "message": f"internal error ({type(error).__name__}): "
                             "this is a bug in geo_tracker; the server log has the traceback", "field": None},
                            status_code=500)
