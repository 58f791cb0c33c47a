"""The map page and the map it frames: embedded GeoJSON, or vector tiles beyond EMBED_LIMIT patches."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from ...core.lifecycle import STATUSES
from ...core.sources import SOURCES
from ...maps.builder import build_map, render_page
from ...services.batches import list_batches
from ...services.imagery import list_imagery
from ...services.maps import map_page_data
from ...services.patches import count_patches
from ...services.tiles import tile_page
from ..deps import Caller, optional_date, signed_in
from ..security import with_nonce
from .render import render, words

router = APIRouter(include_in_schema=False)
#: Beyond this many patches the map page loads vector tiles instead of embedding GeoJSON.
EMBED_LIMIT = 20_000


def _filters(request: Request) -> dict:
    q = request.query_params
    return {k: q.get(k) or None for k in ("batch", "source", "status", "village", "as_of")}


@router.get("/map")
def map_page(request: Request, who: Caller = Depends(signed_in)):
    filters = _filters(request)
    query = urlencode({k: v for k, v in filters.items() if v})
    return render(request, "map.html", filters=filters, frame=f"/map/frame?{query}",
                  batches=list_batches(who.store, villages=who.villages), status_keys=STATUSES,
                  source_keys=SOURCES)


@router.get("/map/frame")
def map_frame(request: Request, who: Caller = Depends(signed_in)):
    f = _filters(request)
    link = {"base": "/patches/", "text": words(request)("map.open")}
    nonce = request.state.csp_nonce
    imagery = list_imagery(who.store, who.villages)                    # 影像 as base layers
    if count_patches(who.store, villages=who.villages) > EMBED_LIMIT:
        return HTMLResponse(with_nonce(tile_page(who.store, patch_link=link, imagery=imagery), nonce))
    data, title = map_page_data(who.store, batches=[f["batch"]] if f["batch"] else [], source=f["source"],
                                village=f["village"], status=f["status"], as_of=optional_date(f["as_of"]),
                                villages=who.villages)
    data["patch_link"], data["imagery"] = link, imagery
    return HTMLResponse(with_nonce(render_page(build_map(data, title=title, lib="/lib")), nonce))
