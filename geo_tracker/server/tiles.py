"""Vector tiles of the patches a user may see, the tile map page (what /map uses beyond
~20 000 patches), and the imagery tiles (影像) of the layers over the user's units."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from ..services.imagery import imagery_tile
from ..services.tiles import patch_tile, tile_page, tile_version
from .deps import Caller, need
from .security import with_nonce

router = APIRouter()
reader = need("read")


@router.get("/tiles/{z}/{x}/{y}.pbf", tags=["tiles"])
def tile(request: Request, z: int, x: int, y: int, as_of: date | None = None, who: Caller = Depends(reader)):
    """Vector tile with layers ``patches`` (code, status, area) and ``villages``; ``as_of``: the patches
    issued and not withdrawn by that day, with their status then. The ETag changes on every write."""
    version = tile_version(who.store, who.villages)
    etag = f'"{version}-{as_of}"' if as_of else f'"{version}"'
    headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(patch_tile(who.store, z, x, y, who.villages, version=version, as_of=as_of),
                    media_type="application/vnd.mapbox-vector-tile", headers=headers)


@router.get("/map/tiles", include_in_schema=False)
def tile_map(request: Request, who: Caller = Depends(reader)):
    return HTMLResponse(with_nonce(tile_page(who.store), request.state.csp_nonce))


@router.get("/imagery/{imagery_id}/tiles/{z}/{x}/{y}.{fmt}", tags=["tiles"])
def imagery(request: Request, imagery_id: int, z: int, x: int, y: int, fmt: str, who: Caller = Depends(reader)):
    """A 256-px Web Mercator tile (png or webp) of an imagery layer; MBTiles tiles as stored. 404 outside
    the image or the user's units. The ETag is the image's content: a kept image never changes."""
    tile = imagery_tile(who.store, who.villages, imagery_id, z, x, y, fmt,
                        if_none_match=request.headers.get("if-none-match"))
    headers = {"ETag": tile.etag, "Cache-Control": "private, max-age=86400"}
    if tile.data is None:
        return Response(status_code=304, headers=headers)
    return Response(tile.data, media_type=tile.media, headers=headers)
