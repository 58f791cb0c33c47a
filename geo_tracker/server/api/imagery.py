"""Imagery layers (影像) a user may see: those over their units, newest first."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from ...services.imagery import list_imagery
from ..deps import Caller, need
from ..responses import plain

router = APIRouter(tags=["imagery"])
reader = need("read")


@router.get("/imagery")
def imagery(who: Caller = Depends(reader)):
    """Each layer's id, name, date, label (前时相, 后时相, DOM), CRS, resolution, bounds (lon/lat), zooms and
    its tile URL (``/imagery/{id}/tiles/{z}/{x}/{y}.png`` or ``.webp``)."""
    return plain(list_imagery(who.store, who.villages))
