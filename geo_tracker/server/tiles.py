"""Vector tiles of the patches a user may see, and the tile map page (what /map uses beyond
~20 000 patches)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from ..services.tiles import patch_tile, tile_page, tile_version
from .deps import Caller, need
from .security import with_nonce

router = APIRouter()
reader = need("read")


@router.get("/tiles/{z}/{x}/{y}.pbf", tags=["tiles"])
def tile(request: Request, z: int, x: int, y: int, who: Caller = Depends(reader)):
    """Vector tile with layers ``patches`` (code, status, area) and ``villages``; ETag changes on every write."""
    version = tile_version(who.store, who.villages)
    etag = f'"{version}"'
    headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(patch_tile(who.store, z, x, y, who.villages, version=version),
                    media_type="application/vnd.mapbox-vector-tile", headers=headers)


@router.get("/map/tiles", include_in_schema=False)
def tile_map(request: Request, who: Caller = Depends(reader)):
    return HTMLResponse(with_nonce(tile_page(who.store), request.state.csp_nonce))
