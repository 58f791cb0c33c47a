"""Mapbox vector tiles of the current patches and villages: ST_AsMVT on PostGIS, mapbox-vector-tile on SpatiaLite.

Two layers: ``patches`` (code, status, area) and ``villages`` (code, name). A
user's scope limits the patches to their villages.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

import numpy as np
import shapely
import sqlalchemy as sa
from pyproj import Transformer
from sqlalchemy import Connection

from ..core.tiles import tile_bounds_3857, tile_bounds_lonlat
from .accounts import village_scope_sql
from .base import Store
from .stats import patch_state_sql

LAYER = "patches"
VILLAGE_LAYER = "villages"
EXTENT = 4096
BUFFER = 64
PROPERTIES = ["patch_code", "batch", "status", "area_mu"]
_TO_3857 = Transformer.from_crs(4490, 3857, always_xy=True)


def data_version(conn: Connection, villages: Collection[str] | None = None) -> str:
    """Changes on every write that a tile shows (events, patches, boundaries), within ``villages``
    when given: another township's writes leave a scoped user's tiles (and their ETag) alone."""
    if villages is None:
        row = conn.execute(sa.text(
            "SELECT (SELECT max(id) FROM events), (SELECT max(id) FROM patches), (SELECT max(id) FROM admin_units), "
            "(SELECT count(*) FROM events WHERE voided_by IS NOT NULL)")).one()
        return "-".join(str(v or 0) for v in row)
    scope, params = village_scope_sql(villages)
    scope_u, params_u = village_scope_sql(villages, "u.code")
    mine = f"SELECT p.lineage_id FROM patches p JOIN patch_matches m ON m.patch_id = p.id WHERE 1 = 1{scope}"
    row = conn.execute(sa.text(
        f"SELECT (SELECT max(id) FROM events WHERE patch_id IN ({mine})), "
        f"(SELECT max(p.id) FROM patches p JOIN patch_matches m ON m.patch_id = p.id WHERE 1 = 1{scope}), "
        f"(SELECT max(u.id) FROM admin_units u WHERE 1 = 1{scope_u}), "
        f"(SELECT count(*) FROM events WHERE voided_by IS NOT NULL AND patch_id IN ({mine}))"),
        {**params, **params_u}).one()
    return "-".join(str(v or 0) for v in row)


def patch_tile(conn: Connection, store: Store, z: int, x: int, y: int,
               villages: Collection[str] | None = None, as_of: date | None = None) -> bytes:
    """The tile's patches (current, not withdrawn; ``as_of``: issued and not withdrawn by then, with
    their status then) with code, status and area, and the villages."""
    if store.native_vector_tiles:
        return _postgis_tile(conn, store, z, x, y, villages, as_of)
    return _spatialite_tile(conn, store, z, x, y, villages, as_of)


def _tile_box(z: int, x: int, y: int) -> dict:
    """The tile's bounds in EPSG:4490 with the buffer ST_AsMVTGeom keeps, as ``:xmin``... parameters."""
    west, south, east, north = tile_bounds_lonlat(z, x, y)
    pad_x, pad_y = (east - west) * BUFFER / EXTENT, (north - south) * BUFFER / EXTENT
    return {"xmin": west - pad_x, "ymin": south - pad_y, "xmax": east + pad_x, "ymax": north + pad_y}


def _drawn(store: Store, villages, as_of: date | None, box: str) -> tuple[str, dict]:
    """CTEs (no ``WITH``) ending in ``tp`` (geom, patch_code, area_mu, batch, status): the patches the
    tile draws, those whose ``geom`` meets ``box`` (SQL over ``{t}``, the table's alias).

    As of a date the status is folded in SQL from the events of those patches alone
    (:func:`.stats.patch_state_sql`, the closed form the figures use).
    """
    scope, params = village_scope_sql(villages)
    if as_of is None:
        return (f"tp AS (SELECT p.geom, p.patch_code, p.area_mu, b.name AS batch, p.status FROM patches p "
                "JOIN batches b ON b.id = p.batch_id LEFT JOIN patch_matches m ON m.patch_id = p.id "
                f"WHERE p.is_current AND NOT p.withdrawn AND {box.format(t='p')} {scope})"), params
    in_box = f"SELECT lineage_id FROM patches WHERE is_current AND {box.format(t='patches')}"
    state, extra = patch_state_sql(store, known_at=None, lineages=in_box, carry=("geom", "patch_code"),
                                   filters=f"AND {box.format(t='pt')} {scope}")
    drawn = ", tp AS (SELECT geom, patch_code, area_mu, batch, status FROM p)"
    return state.strip().removeprefix("WITH") + drawn, {**params, **extra, "as_of": as_of}


def _postgis_tile(conn: Connection, store: Store, z: int, x: int, y: int, villages, as_of) -> bytes:
    # the patches' box is bound as numbers: from them the planner knows how many patches the tile
    # draws (from an init plan's box it guessed few, and as of a date joined every patch to every folded one: 0.7 s)
    drawn, params = _drawn(store, villages, as_of, store.bbox_condition("patches", "{t}"))
    params.update(_tile_box(z, x, y))
    bounds = (f"WITH bounds AS (SELECT ST_TileEnvelope(:z, :x, :y) AS b3857, "
              f"ST_Transform(ST_TileEnvelope(:z, :x, :y, margin => {BUFFER / EXTENT}), 4490) AS b4490),")
    row = conn.execute(sa.text(bounds + drawn + f""",
        mvt AS (
          SELECT ST_AsMVTGeom(ST_Transform(tp.geom, 3857), bounds.b3857, {EXTENT}, {BUFFER}, true) AS geom,
                 tp.patch_code, tp.batch, tp.status, tp.area_mu FROM tp CROSS JOIN bounds
        ),
        vmvt AS (
          SELECT ST_AsMVTGeom(ST_Transform(u.geom, 3857), bounds.b3857, {EXTENT}, {BUFFER}, true) AS geom,
                 u.code, u.name
          FROM admin_units u CROSS JOIN bounds
          WHERE u.level = 'village' AND u.valid_from <= :today AND (u.valid_to IS NULL OR u.valid_to > :today)
            AND u.geom && bounds.b4490
        )
        SELECT coalesce((SELECT ST_AsMVT(mvt.*, '{LAYER}', {EXTENT}, 'geom') FROM mvt), ''::bytea)
            || coalesce((SELECT ST_AsMVT(vmvt.*, '{VILLAGE_LAYER}', {EXTENT}, 'geom') FROM vmvt), ''::bytea)
    """), {"z": z, "x": x, "y": y, "today": as_of or date.today(), **params}).scalar_one()
    return bytes(row or b"")


def _spatialite_tile(conn: Connection, store: Store, z: int, x: int, y: int, villages, as_of) -> bytes:
    import mapbox_vector_tile

    box = _tile_box(z, x, y)
    drawn, params = _drawn(store, villages, as_of, store.bbox_condition("patches", "{t}"))
    rows = conn.execute(sa.text(
        f"WITH {drawn} SELECT patch_code, batch, status, area_mu, {store.geometry_as_wkb('tp.geom')} AS wkb FROM tp"),
        {**box, **params}).all()
    units = conn.execute(sa.text(
        f"SELECT admin_units.code, admin_units.name, {store.geometry_as_wkb('admin_units.geom')} AS wkb "
        "FROM admin_units WHERE admin_units.level = 'village' AND admin_units.valid_from <= :today "
        "AND (admin_units.valid_to IS NULL OR admin_units.valid_to > :today) "
        f"AND {store.bbox_condition('admin_units')}"), {**box, "today": as_of or date.today()}).all()
    layers = []
    if rows:
        layers.append({"name": LAYER, "features": [
            {"geometry": g, "properties": {"patch_code": r.patch_code, "batch": r.batch, "status": r.status,
                                           "area_mu": float(r.area_mu)}}
            for g, r in zip(_in_tile(rows, z, x, y), rows)]})
    if units:
        layers.append({"name": VILLAGE_LAYER, "features": [
            {"geometry": g, "properties": {"code": r.code, "name": r.name}}
            for g, r in zip(_in_tile(units, z, x, y), units)]})
    if not layers:
        return b""
    return mapbox_vector_tile.encode(
        layers, default_options={"quantize_bounds": None, "check_winding_order": False, "extents": EXTENT,
                                 "y_coord_down": False})


def _in_tile(rows, z: int, x: int, y: int):
    """The rows' geometries in the tile's integer grid (0..EXTENT, y up), exteriors clockwise: what
    mapbox_vector_tile would do one coordinate at a time in Python (90 % of a tile's time), done at once."""
    west, south, east, north = tile_bounds_3857(z, x, y)

    def to_grid(xy):
        mx, my = _TO_3857.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([np.round((mx - west) * EXTENT / (east - west)),
                                np.round((my - south) * EXTENT / (north - south))])

    return shapely.orient_polygons(shapely.transform(shapely.from_wkb([bytes(r.wkb) for r in rows]), to_grid),
                                   exterior_cw=True)


def patch_extent(conn: Connection, store: Store) -> tuple[float, float, float, float] | None:
    """(west, south, east, north) of the current patches, from the index-friendly bounding boxes."""
    row = conn.execute(sa.text(store.extent_sql("patches", "is_current AND NOT withdrawn"))).one()
    return None if row[0] is None else tuple(float(v) for v in row)
