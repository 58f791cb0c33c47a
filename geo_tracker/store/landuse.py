"""Land-use reference parcels (三调 地类图斑), replaced layer by layer."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import shapely
import sqlalchemy as sa
from sqlalchemy import Connection

from .base import Store


def replace_layer(store: Store, conn: Connection, layer: str, frame: pd.DataFrame) -> int:
    """Delete the parcels of ``layer`` and insert ``frame`` (columns of landuse_parcels + geom)."""
    removed = conn.execute(sa.text("DELETE FROM landuse_parcels WHERE layer = :l"), {"l": layer}).rowcount
    store.bulk_insert(conn, "landuse_parcels", {c: list(frame[c]) for c in frame.columns})
    return removed


def has_parcels(conn: Connection) -> bool:
    return conn.execute(sa.text("SELECT EXISTS (SELECT 1 FROM landuse_parcels)")).scalar_one() in (1, True)


def parcels_in(conn: Connection, store: Store, bounds) -> gpd.GeoDataFrame:
    """Parcels whose bounding box meets ``bounds`` (xmin, ymin, xmax, ymax in EPSG:4490)."""
    xmin, ymin, xmax, ymax = (float(b) for b in bounds)
    rows = conn.execute(sa.text(
        f"SELECT dlbm, kcxs, {store.geometry_as_wkb('geom')} AS wkb FROM landuse_parcels "
        f"WHERE {store.bbox_condition('landuse_parcels')}"
    ), {"xmin": xmin, "ymin": ymin, "xmax": xmax, "ymax": ymax}).all()
    frame = pd.DataFrame([(r.dlbm, r.kcxs) for r in rows], columns=["dlbm", "kcxs"])
    return gpd.GeoDataFrame(frame, geometry=list(shapely.from_wkb([bytes(r.wkb) for r in rows])), crs=4490)


def layer_summary(conn: Connection) -> list[dict]:
    return [dict(r) for r in conn.execute(sa.text(
        "SELECT layer, count(*) AS parcels, sum(tbmj) AS tbmj_m2 FROM landuse_parcels GROUP BY layer ORDER BY layer"
    )).mappings()]
