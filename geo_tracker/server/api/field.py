"""The field kit's API: work packages to take out of signal, and the actions brought back (sync)."""

from __future__ import annotations

import shapely
from fastapi import APIRouter, Depends, Header, Query
from pydantic import BaseModel, Field

from ...services import field
from ...services.imagery import field_tiles
from ..deps import Caller, need
from ..errors import scope_language
from ..responses import compressed, json_response

router = APIRouter()
reader, tracker = need("read"), need("track")


class SyncBody(BaseModel):
    actions: list[dict] = Field(description="the outbox in order: key, kind (verify|rectify|submit), ref, patch_id, "
                                            "row_version, on (the day it was taken), captured_at, and the action's "
                                            "values (result, measure, area_mu|full|drawn, note, photos[])",
                                max_length=500)


@router.get("/field/package")
def package(who: Caller = Depends(tracker), village: list[str] = Query(default=[]), batch: str | None = None,
            source: str | None = None, status: list[str] = Query(default=[]), since: str | None = None,
            accept_encoding: str | None = Header(default=None, include_in_schema=False)):
    """A work package (工作包): the patches of the chosen villages not yet closed (or of ``status``),
    their history and the villages' boundaries; with ``since`` only what changed after that version."""
    data = field.work_package(who.store, villages=village or None, batch=batch, source=source,
                              statuses=status or None, scope=who.villages, since=since)
    response = json_response(data)
    response.headers["X-Package-Bytes"] = str(len(response.body))
    return compressed(response, accept_encoding)


@router.get("/field/choices")
def choices(who: Caller = Depends(tracker), village: list[str] = Query(default=[]), batch: str | None = None,
            source: str | None = None, status: list[str] = Query(default=[])):
    """What a package may be cut by (the user's villages, batches, statuses) and the size of the
    package these filters make, so the phone shows it before anyone downloads over a weak signal."""
    data = field.work_package(who.store, villages=village or None, batch=batch, source=source,
                              statuses=status or None, scope=who.villages)
    size = len(json_response(data).body)
    return json_response({**field.package_choices(who.store, scope=who.villages),
                          "package": {"patches": len(data["patches"]), "bytes": size}})


@router.get("/field/imagery")
def imagery(who: Caller = Depends(tracker), village: list[str] = Query(default=[]), batch: str | None = None,
            source: str | None = None, status: list[str] = Query(default=[]),
            max_zoom: int = Query(18, description="the finest zoom to take (12–20)")):
    """The imagery tiles (影像) round the patches of the package these filters make, up to ``max_zoom``:
    each layer with its tile URL (webp), count and measured size, and the tiles as [layer, z, x, y]."""
    data = field.work_package(who.store, villages=village or None, batch=batch, source=source,
                              statuses=status or None, scope=who.villages)
    outlines = [shapely.from_geojson(p["geometry"]) for p in data["patches"]]
    return json_response(field_tiles(who.store, outlines, who.villages, max_zoom))


@router.post("/field/sync")
def sync(body: SyncBody, who: Caller = Depends(tracker)):
    """Apply the outbox in order; one answer per action: done, conflict (with the server's patch) or refused."""
    answers = field.sync_actions(who.store, body.actions, user=who.username, may=who.user.can,
                                 in_scope=who.patch, lang=scope_language(who.request.scope))
    return json_response({"results": answers})
