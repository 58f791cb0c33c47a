"""Rendering a page: the Jinja2 environment, the language, flashes, and errors shown as pages.

Jinja2 escapes every value, so a bureau's attribute never becomes markup.
"""

from __future__ import annotations

import math
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape

from ...core.lifecycle import MEASURE_LABELS, STATUS_LABELS
from ...core.sources import SOURCE_LABELS
from ...errors import AuthenticationError, GeoTrackerError
from ...catalogue import text_of
from ..errors import error_code
from .messages import LANGUAGES, translator

STATIC = Path(__file__).with_name("static")

env = Environment(loader=PackageLoader("geo_tracker.server.pages", "templates"),
                  autoescape=select_autoescape(default=True), trim_blocks=True, lstrip_blocks=True)
env.filters["mu"] = lambda v, d=2: "-" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{d}f}"
env.filters["pct"] = lambda v: "-" if v is None else f"{v * 100:.2f}%"
env.filters["urlpart"] = lambda v: quote(str(v), safe="")
env.filters["localtime"] = lambda v: "-" if v is None else v.astimezone().strftime("%Y-%m-%d %H:%M")


def error_text(request: Request, error: BaseException) -> str:
    """An error's reason in the page's language, worded for the web (no command-line hints)."""
    return text_of(error, language(request), "web")


def language(request: Request) -> str:
    lang = request.query_params.get("lang") or request.cookies.get("gt_lang") or "zh"
    return lang if lang in LANGUAGES else "zh"


def words(request: Request):
    """The translator of the request's language."""
    return translator(language(request))


def render(request: Request, template: str, status_code: int = 200, **context) -> HTMLResponse:
    lang = language(request)
    page = env.get_template(template).render(
        _=translator(lang), lang=lang, request=request, user=getattr(request.state, "principal", None),
        csrf=getattr(request.state, "csrf", ""), statuses=STATUS_LABELS, sources=SOURCE_LABELS,
        measures=MEASURE_LABELS, flash=_flash(request, lang), **context)
    response = HTMLResponse(page, status_code=status_code)
    if request.query_params.get("lang") in LANGUAGES:
        response.set_cookie("gt_lang", lang, max_age=365 * 86400, samesite="lax", httponly=True)
    return response


def _flash(request: Request, lang: str) -> tuple[str, str] | None:
    msg = request.query_params.get("msg")
    return ("ok", translator(lang)(msg)) if msg in ("act.done", "account.changed") else None


def back(path: str, msg: str = "act.done") -> RedirectResponse:
    """After a successful action: POST, redirect, GET, so reloading never repeats it."""
    return RedirectResponse(f"{path}?msg={msg}", status_code=303)


def html_error(request: Request, error: GeoTrackerError) -> Response:
    """How a page shows our errors: a login redirect, or the error page with the reason."""
    if isinstance(error, AuthenticationError):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.method != "GET":  # a form sent after the session ended: come back to the page it was on
            referer = urlsplit(request.headers.get("referer", ""))
            same_site = referer.netloc == request.url.netloc
            target = (referer.path + (f"?{referer.query}" if referer.query else "")) if same_site else "/dashboard"
        return RedirectResponse(f"/login?{urlencode({'next': target})}", status_code=303)
    return render(request, "error.html", status_code=error.http_status, message=error.text(language(request), "web"),
                  code=error_code(error))
