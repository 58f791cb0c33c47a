"""外业 (/field): the installable offline app enforcers carry on their phones.

The page is the app's shell: a full-screen map and the forms, with every word it shows from
``messages.py`` handed to ``static/field/field.js`` as inert JSON. The script keeps the work
package and the actions recorded offline (the outbox) in IndexedDB and talks to the field API
(``/api/v1/field/package``, ``/api/v1/field/sync``). The service worker is served from
``/field/sw.js`` with ``Service-Worker-Allowed: /field`` so that its scope covers the page
itself; it keeps the shell (page, script, styles, Leaflet, manifest, icons) for airplane mode.
The manifest and the icons are drawn here, so the app needs no file from anywhere else.
"""

from __future__ import annotations

import hashlib
import io
import json
from functools import lru_cache

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from ...core.lifecycle import ALLOWED, MEASURE_LABELS, STATUS_LABELS, VERIFY_RESULTS
from ...maps.builder import STATIC as MAP_STATIC
from ...maps.builder import script_json
from ...services.tracking import FAR_PHOTO_M
from ..deps import Caller, need
from .messages import MESSAGES
from .render import STATIC, language, render, words

router = APIRouter(include_in_schema=False)
tracker = need("track")
FIELD_STATIC = STATIC / "field"
TEMPLATE = STATIC.parent / "templates" / "field.html"
#: What the service worker keeps for airplane mode (the page itself is refreshed whenever online).
SCRIPTS = ("field-geo.js", "field-photos.js", "field.js")
SHELL = ("/field", *(f"/static/field/{name}" for name in SCRIPTS), "/static/field/field.css", "/lib/leaflet/leaflet.js",
         "/lib/leaflet/leaflet.css", "/lib/geo_tracker_pick.js", "/field/manifest.webmanifest", "/field/icon.svg", "/field/icon-192.png")
THEME = "#0b5cab"


def _words(request: Request) -> dict[str, str]:
    """The words the script shows, in the page's language."""
    _ = words(request)
    return {key[len("field."):]: _(key) for key in MESSAGES["zh"] if key.startswith("field.")}


@router.get("/field")
def field_app(request: Request, who: Caller = Depends(tracker)):
    """The app page: enforcers and admins (those who may track); others get the refusal page."""
    _ = words(request)
    data = {"words": _words(request), "user": who.username, "statuses": STATUS_LABELS,
            "measures": MEASURE_LABELS, "results": {r: _(f"result.{r}") for r in VERIFY_RESULTS},
            "allowed": {a: sorted(ALLOWED[a]) for a in ("verify", "rectify", "submit")},
            "far_photo_m": FAR_PHOTO_M}
    return render(request, "field.html", data=script_json(data), results=VERIFY_RESULTS)


@router.get("/field/session")
def field_session(request: Request, who: Caller = Depends(tracker)):
    """Who is logged in and the session's CSRF token: the script asks before each sync, because
    a page opened from the offline cache may carry the token of an older session."""
    return JSONResponse({"user": who.username, "csrf": getattr(request.state, "csrf", "")})


@router.get("/field/sw.js")
def service_worker():
    """The service worker, its cache named after the shell's content so a new release replaces it."""
    script = (FIELD_STATIC / "sw.js").read_text(encoding="utf-8")
    script = script.replace("__VERSION__", _shell_version()).replace("__SHELL__", json.dumps(list(SHELL)))
    return Response(script, media_type="application/javascript",
                    headers={"Service-Worker-Allowed": "/field", "Cache-Control": "no-cache"})


def _shell_version() -> str:
    digest = hashlib.sha256()
    for path in (*(FIELD_STATIC / name for name in SCRIPTS), FIELD_STATIC / "field.css", FIELD_STATIC / "sw.js", TEMPLATE,
                 MAP_STATIC / "leaflet" / "leaflet.js", MAP_STATIC / "leaflet" / "leaflet.css",
                 MAP_STATIC / "geo_tracker_pick.js"):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


@router.get("/field/manifest.webmanifest")
def manifest(request: Request):
    _ = words(request)
    body = {"name": _("field.title"), "short_name": _("field.short_name"),
            "lang": "en" if language(request) == "en" else "zh-CN",
            "start_url": "/field", "scope": "/field", "display": "standalone", "orientation": "portrait",
            "background_color": "#ffffff", "theme_color": THEME,
            "icons": [{"src": "/field/icon.svg", "sizes": "any", "type": "image/svg+xml"},
                      {"src": "/field/icon-192.png", "sizes": "192x192", "type": "image/png"}]}
    return Response(json.dumps(body, ensure_ascii=False), media_type="application/manifest+json")


#: The icon: a patch outline (the shape enforcers look for) on the pages' blue, with a location dot.
ICON_SHAPE = [(0.22, 0.34), (0.52, 0.2), (0.8, 0.38), (0.72, 0.76), (0.3, 0.8)]


@router.get("/field/icon.svg")
def icon_svg():
    points = " ".join(f"{x * 96:.0f},{y * 96:.0f}" for x, y in ICON_SHAPE)
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 96 96"><rect width="96" height="96" rx="18" '
           f'fill="{THEME}"/><polygon points="{points}" fill="#ffd54f" fill-opacity=".35" stroke="#ffd54f" '
           'stroke-width="6" stroke-linejoin="round"/><circle cx="50" cy="52" r="9" fill="#fff"/></svg>')
    return Response(svg, media_type="image/svg+xml")


@router.get("/field/icon-192.png")
def icon_png():
    return Response(_icon_png(192), media_type="image/png")


@lru_cache(maxsize=2)
def _icon_png(size: int) -> bytes:
    """The same icon as a PNG, for launchers that want pixels."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (size, size), THEME)
    draw = ImageDraw.Draw(image)
    shape = [(x * size, y * size) for x, y in ICON_SHAPE]
    draw.polygon(shape, fill="#5f86a6", outline="#ffd54f", width=max(2, size // 16))
    r = size * 9 / 96
    draw.ellipse((size * 50 / 96 - r, size * 52 / 96 - r, size * 50 / 96 + r, size * 52 / 96 + r), fill="#ffffff")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
