"""Vector tiles of the patches, and the page that shows them (county or province scale)."""

from __future__ import annotations

from ..core.lifecycle import STATUS_LABELS
from ..core.tiles import check_tile
from ..maps.builder import COLORS, SOURCE_LABELS, build_map, render_page
from ..store import Store
from ..store import tiles as repo

TILE_URL = "/tiles/{z}/{x}/{y}.pbf"


def patch_tile(store: Store, z: int, x: int, y: int) -> bytes:
    check_tile(z, x, y)
    with store.engine.connect() as conn:
        return repo.patch_tile(conn, store, z, x, y)


def tile_page(store: Store) -> str:
    """A map page that loads the patches as vector tiles from this server (no embedded data)."""
    with store.engine.connect() as conn:
        extent = repo.patch_extent(conn, store) or (73.0, 18.0, 135.0, 54.0)
    data = {"tiles": TILE_URL, "bounds": list(extent), "colors": COLORS,
            "labels": {"statuses": STATUS_LABELS, "sources": SOURCE_LABELS},
            "patches": {"type": "FeatureCollection", "features": []}}
    return render_page(build_map(data, title="图斑整改进度图（矢量瓦片）", lib="/lib"))
