"""Vector tiles of the patches, and the page that shows them (county or province scale)."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Collection
from datetime import date

from ..core.lifecycle import STATUS_LABELS
from ..core.tiles import check_tile
from ..maps.builder import COLORS, SOURCE_LABELS, build_map, render_page
from ..store import Store
from ..store import tiles as repo

TILE_URL = "/tiles/{z}/{x}/{y}.pbf"


_CACHE: OrderedDict = OrderedDict()
CACHE_TILES = 2048


def tile_version(store: Store, villages: Collection[str] | None = None) -> str:
    """An ETag-ready version of what tiles show: new on every write, distinct per scope."""
    with store.engine.connect() as conn:
        version = repo.data_version(conn, villages)
    scope = "all" if villages is None else hashlib.sha1(",".join(sorted(villages)).encode()).hexdigest()[:12]
    return f"{version}-{scope}"


def patch_tile(store: Store, z: int, x: int, y: int, villages: Collection[str] | None = None,
               version: str | None = None, as_of: date | None = None) -> bytes:
    """A tile (``as_of``: the patches and their status as of that day), served from memory while
    ``version`` (from :func:`tile_version`) is unchanged."""
    check_tile(z, x, y)
    key = (store.display_url, version, as_of, z, x, y) if version else None
    if key is not None and key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key]
    with store.engine.connect() as conn:
        data = repo.patch_tile(conn, store, z, x, y, villages, as_of)
    if key is not None:
        _CACHE[key] = data
        while len(_CACHE) > CACHE_TILES:
            _CACHE.popitem(last=False)
    return data


def tile_page(store: Store, patch_link: dict | None = None, imagery: list | None = None) -> str:
    """A map page that loads the patches as vector tiles from this server (no embedded data);
    ``patch_link`` ({"base", "text"}) adds a link to each patch's page in its popup, ``imagery``
    (:func:`~.imagery.list_imagery`) the layers to choose beneath them."""
    with store.engine.connect() as conn:
        extent = repo.patch_extent(conn, store) or (73.0, 18.0, 135.0, 54.0)
    data = {"tiles": TILE_URL, "bounds": list(extent), "colors": COLORS,
            "labels": {"statuses": STATUS_LABELS, "sources": SOURCE_LABELS},
            "patches": {"type": "FeatureCollection", "features": []}, "patch_link": patch_link,
            "imagery": imagery or []}
    return render_page(build_map(data, title="图斑整改进度图（矢量瓦片）", lib="/lib"))
