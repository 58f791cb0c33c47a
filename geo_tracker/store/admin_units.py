"""Administrative units (county, township, village) with their validity periods."""

from __future__ import annotations

from datetime import date

import geopandas as gpd
import pandas as pd
import shapely
import sqlalchemy as sa
from sqlalchemy import Connection

from .base import Store
from .schema import admin_units


def load_units(conn: Connection, store: Store, *, level: str | None = None, current_only: bool = False,
               codes: list[str] | None = None, valid_on: date | None = None) -> gpd.GeoDataFrame:
    """Units with geometry (EPSG:4490): every version, the current ones, or those valid on a date."""
    where, params = ["1 = 1"], {}
    if level:
        where.append("level = :level")
        params["level"] = level
    if current_only:
        where.append("valid_to IS NULL")
    if valid_on is not None:
        where.append("valid_from <= :valid_on AND (valid_to IS NULL OR valid_to > :valid_on)")
        params["valid_on"] = valid_on
    if codes is not None:
        if not codes:
            where.append("1 = 0")
        else:
            where.append("code IN (" + ", ".join(f":c{i}" for i in range(len(codes))) + ")")
            params.update({f"c{i}": c for i, c in enumerate(codes)})
    rows = conn.execute(sa.text(
        f"SELECT id, code, name, level, parent_code, valid_from, valid_to, "
        f"{store.geometry_as_wkb('geom')} AS wkb FROM admin_units WHERE {' AND '.join(where)} "
        "ORDER BY level, code, valid_from"
    ), params).mappings().all()
    frame = pd.DataFrame([dict(r) for r in rows],
                         columns=["id", "code", "name", "level", "parent_code", "valid_from", "valid_to", "wkb"])
    geometry = shapely.from_wkb([bytes(w) for w in frame.pop("wkb")]) if len(frame) else []
    for column in ("valid_from", "valid_to"):
        frame[column] = [as_date(v) for v in frame[column]]
    return gpd.GeoDataFrame(frame, geometry=list(geometry), crs=4490)


def as_date(value):
    """A date from what either backend returns (date, ISO text, or missing)."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def close_units(conn: Connection, unit_ids: list[int], valid_to: date) -> None:
    if unit_ids:
        conn.execute(
            sa.update(admin_units).where(admin_units.c.id == sa.bindparam("uid")).values(valid_to=valid_to),
            [{"uid": int(i)} for i in unit_ids],
        )


def insert_units(store: Store, conn: Connection, frame: pd.DataFrame) -> None:
    """Bulk-insert units; ``frame`` has the admin_units columns and ``geom``."""
    store.bulk_insert(conn, "admin_units", {c: list(frame[c]) for c in frame.columns})


def unit_summary(conn: Connection, level: str | None = None, as_of: date | None = None) -> list[dict]:
    query = sa.select(admin_units.c.id, admin_units.c.code, admin_units.c.name, admin_units.c.level,
                      admin_units.c.parent_code, admin_units.c.valid_from, admin_units.c.valid_to,
                      admin_units.c.source_file)
    if level:
        query = query.where(admin_units.c.level == level)
    if as_of is not None:
        query = query.where(admin_units.c.valid_from <= as_of,
                            sa.or_(admin_units.c.valid_to.is_(None), admin_units.c.valid_to > as_of))
    order = sa.case({"county": 0, "township": 1, "village": 2}, value=admin_units.c.level)
    query = query.order_by(order, admin_units.c.code, admin_units.c.valid_from)
    return [dict(r) for r in conn.execute(query).mappings()]
