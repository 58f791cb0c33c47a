"""Mapbox vector tiles of the current patches: ST_AsMVT on PostGIS, mapbox-vector-tile on SpatiaLite."""

from __future__ import annotations

import numpy as np
import shapely
import sqlalchemy as sa
from pyproj import Transformer
from sqlalchemy import Connection

from ..core.tiles import tile_bounds_3857, tile_bounds_lonlat
from .base import Store

LAYER = "patches"
EXTENT = 4096
BUFFER = 64
PROPERTIES = ["patch_code", "status", "area_mu"]
_TO_3857 = Transformer.from_crs(4490, 3857, always_xy=True)


def patch_tile(conn: Connection, store: Store, z: int, x: int, y: int) -> bytes:
    """The tile's patches (current, not withdrawn) with code, status and area."""
    if store.backend == "postgis":
        return _postgis_tile(conn, z, x, y)
    return _spatialite_tile(conn, store, z, x, y)


def _postgis_tile(conn: Connection, z: int, x: int, y: int) -> bytes:
    row = conn.execute(sa.text(f"""
        WITH bounds AS (SELECT ST_TileEnvelope(:z, :x, :y) AS b3857,
                               ST_Transform(ST_TileEnvelope(:z, :x, :y, margin => {BUFFER / EXTENT}), 4490) AS b4490),
        mvt AS (
          SELECT ST_AsMVTGeom(ST_Transform(p.geom, 3857), bounds.b3857, {EXTENT}, {BUFFER}, true) AS geom,
                 p.patch_code, p.status, p.area_mu
          FROM patches p, bounds
          WHERE p.is_current AND NOT p.withdrawn AND p.geom && bounds.b4490
        )
        SELECT ST_AsMVT(mvt.*, '{LAYER}', {EXTENT}, 'geom') FROM mvt
    """), {"z": z, "x": x, "y": y}).scalar_one()
    return bytes(row or b"")


def _spatialite_tile(conn: Connection, store: Store, z: int, x: int, y: int) -> bytes:
    import mapbox_vector_tile

    west, south, east, north = tile_bounds_lonlat(z, x, y)
    pad_x, pad_y = (east - west) * BUFFER / EXTENT, (north - south) * BUFFER / EXTENT
    rows = conn.execute(sa.text(
        f"SELECT patches.patch_code, patches.status, patches.area_mu, {store.geometry_as_wkb('patches.geom')} AS wkb "
        f"FROM patches WHERE patches.is_current AND NOT patches.withdrawn AND {store.bbox_condition('patches')}"),
        {"xmin": west - pad_x, "ymin": south - pad_y, "xmax": east + pad_x, "ymax": north + pad_y}).all()
    if not rows:
        return b""
    geoms = shapely.from_wkb([bytes(r.wkb) for r in rows])
    projected = shapely.transform(geoms, lambda xy: np.column_stack(_TO_3857.transform(xy[:, 0], xy[:, 1])))
    features = [{"geometry": g, "properties": {"patch_code": r.patch_code, "status": r.status,
                                                "area_mu": float(r.area_mu)}}
                for g, r in zip(projected, rows)]
    return mapbox_vector_tile.encode(
        [{"name": LAYER, "features": features}],
        default_options={"quantize_bounds": tile_bounds_3857(z, x, y), "extents": EXTENT, "y_coord_down": False},
    )


def patch_extent(conn: Connection, store: Store) -> tuple[float, float, float, float] | None:
    """(west, south, east, north) of the current patches, from the index-friendly bounding boxes."""
    if store.backend == "postgis":
        sql = ("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
               "(SELECT ST_Extent(geom) AS e FROM patches WHERE is_current AND NOT withdrawn) AS s")
    else:
        sql = ("SELECT min(MbrMinX(geom)), min(MbrMinY(geom)), max(MbrMaxX(geom)), max(MbrMaxY(geom)) "
               "FROM patches WHERE is_current AND NOT withdrawn")
    row = conn.execute(sa.text(sql)).one()
    return None if row[0] is None else tuple(float(v) for v in row)
