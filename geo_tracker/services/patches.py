"""Patches (图斑): matching to villages, listing, showing one."""

from __future__ import annotations

import json
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa
from sqlalchemy import Connection

from ..core.matching import match_villages_as_of
from ..errors import GeoTrackerError, NotFoundError
from ..store import Store
from ..store import admin_units as units_repo
from ..store import landuse as landuse_repo
from ..store import matches as matches_repo

#: Patches matched per round trip when re-matching a whole database.
REMATCH_CHUNK = 20_000


def load_villages(conn: Connection, store: Store) -> gpd.GeoDataFrame:
    """Every version of every village, with validity, for as-of matching."""
    return units_repo.load_units(conn, store, level="village")


def match_and_store(store: Store, conn: Connection, patch_ids, geoms, dates, villages) -> dict[str, int]:
    """Match patches to the villages valid on their dates and (re)write their match rows."""
    if len(villages) == 0 or len(patch_ids) == 0:
        return {"matched": 0, "outside": 0, "straddles": 0}
    result = match_villages_as_of(geoms, dates, villages)
    matches_repo.delete_matches(conn, list(patch_ids))
    matches_repo.write_matches(store, conn, patch_ids, dates, result)
    m = result.matches
    return {"matched": int((~m["outside"]).sum()), "outside": int(m["outside"].sum()),
            "straddles": int(m["straddles"].sum())}


def _current_patch_query(batch: str | None = None, village: str | None = None, status: str | None = None,
                         codes: list[str] | None = None) -> tuple[str, dict]:
    where = ["p.is_current", "NOT p.withdrawn"]
    params: dict = {}
    if batch:
        where.append("b.name = :batch")
        params["batch"] = batch
    if village:
        where.append("p.id IN (SELECT patch_id FROM patch_villages WHERE village_code = :village)")
        params["village"] = village
    if status:
        where.append("p.status = :status")
        params["status"] = status
    if codes:
        where.append("p.patch_code IN (" + ", ".join(f":k{i}" for i in range(len(codes))) + ")")
        params.update({f"k{i}": c for i, c in enumerate(codes)})
    return " AND ".join(where), params


def rematch_patches(store: Store, batch: str | None = None) -> dict[str, int]:
    """Match every current patch (of one batch) again, e.g. after boundaries changed.

    Also refreshes areas computed from the land-use layer, if one is loaded.
    """
    where, params = _current_patch_query(batch)
    totals = {"patches": 0, "matched": 0, "outside": 0, "straddles": 0}
    with store.transaction() as conn:
        villages = load_villages(conn, store)
        if len(villages) == 0 and not landuse_repo.has_parcels(conn):
            raise GeoTrackerError(
                "no village boundaries are loaded: import them first "
                "(geo-tracker boundaries import FILE --level village)"
            )
        if batch and not conn.execute(sa.text("SELECT count(*) FROM batches WHERE name = :b"), {"b": batch}).scalar_one():
            raise NotFoundError(f"no batch named {batch!r}: `geo-tracker batches list` shows the batches")
        rows = conn.execute(sa.text(
            f"SELECT p.id, coalesce(i.issued_on, b.issued_on) AS issued_on, {store.geometry_as_wkb('p.geom')} AS wkb "
            "FROM patches p JOIN batches b ON b.id = p.batch_id "
            "LEFT JOIN batch_imports i ON i.id = p.import_id "
            f"WHERE {where} ORDER BY p.id"), params).all()
        for start in range(0, len(rows), REMATCH_CHUNK):
            chunk = rows[start:start + REMATCH_CHUNK]
            geoms = shapely.from_wkb([bytes(r.wkb) for r in chunk])
            ids = [r.id for r in chunk]
            counts = match_and_store(store, conn, ids, geoms,
                                     [units_repo.as_date(r.issued_on) for r in chunk], villages)
            _refresh_landuse(store, conn, ids, geoms)
            totals["patches"] += len(chunk)
            for key in ("matched", "outside", "straddles"):
                totals[key] += counts[key]
    return totals


def _refresh_landuse(store: Store, conn: Connection, ids: list[int], geoms) -> None:
    """Recompute forest area, and cultivated area where it was not issued, from the 三调 layer."""
    from .landuse import landuse_for

    computed = landuse_for(store, conn, geoms)
    if computed is None:
        return
    cultivated, forest = computed
    conn.execute(sa.text(
        "UPDATE patches SET forest_mu = :forest, "
        "cultivated_mu = CASE WHEN cultivated_source = 'issued' THEN cultivated_mu ELSE :cultivated END, "
        "cultivated_source = CASE WHEN cultivated_source = 'issued' THEN 'issued' ELSE 'computed' END "
        "WHERE id = :id"),
        [{"id": int(i), "forest": float(f), "cultivated": float(c)} for i, f, c in zip(ids, forest, cultivated)])


#: Property names of exported patches; later versions add names, never rename these.
PATCH_PROPERTIES = ["patch_code", "batch", "source", "issued_on", "area_mu", "issued_area_mu",
                    "cultivated_mu", "village_code", "village_name", "village_shares", "outside",
                    "straddles", "status", "flags"]


#: Further properties, added after the first release of the list above.
EXTRA_PROPERTIES = ["cultivated_source", "forest_mu", "nearest_code", "nearest_distance_m"]


def _json(value):
    if value is None or isinstance(value, (dict, list)):
        return value
    return json.loads(value)


def list_patches(store: Store, *, batch: str | None = None, village: str | None = None,
                 status: str | None = None, codes: list[str] | None = None) -> gpd.GeoDataFrame:
    """Current patches with their village match, as a GeoDataFrame (EPSG:4490)."""
    where, params = _current_patch_query(batch, village, status, codes)
    with store.engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT p.id, p.patch_code, b.name AS batch, b.source, coalesce(i.issued_on, b.issued_on) AS issued_on, "
            "p.area_mu, p.issued_area_mu, p.cultivated_mu, p.cultivated_source, p.forest_mu, "
            "m.village_code, m.village_name, "
            "coalesce(m.outside, false) AS outside, coalesce(m.straddles, false) AS straddles, "
            "m.nearest_code, m.nearest_distance_m, p.status, p.flags, p.version, "
            f"{store.geometry_as_wkb('p.geom')} AS wkb "
            "FROM patches p JOIN batches b ON b.id = p.batch_id "
            "LEFT JOIN batch_imports i ON i.id = p.import_id "
            "LEFT JOIN patch_matches m ON m.patch_id = p.id "
            f"WHERE {where} ORDER BY b.issued_on, b.name, p.patch_code"), params).mappings().all()
        ids = [r["id"] for r in rows]
        shares: dict[int, dict[str, float]] = {}
        for start in range(0, len(ids), 5000):
            part = ids[start:start + 5000]
            if not part:
                break
            marks = ", ".join(str(int(i)) for i in part)
            for pid, code, share in conn.execute(sa.text(
                    f"SELECT patch_id, village_code, share FROM patch_villages WHERE patch_id IN ({marks}) "
                    "ORDER BY patch_id, share DESC")):
                shares.setdefault(pid, {})[code] = round(float(share), 6)
    records = []
    for r in rows:
        item = {k: r[k] for k in r.keys() if k not in ("wkb",)}
        item["issued_on"] = units_repo.as_date(item["issued_on"])
        item["outside"] = bool(item["outside"]) if r["village_code"] or r["outside"] else None
        item["straddles"] = bool(item["straddles"])
        item["village_shares"] = shares.get(r["id"], {})
        item["flags"] = sorted(_json(item["flags"]) or {})
        records.append(item)
    geometry = shapely.from_wkb([bytes(r["wkb"]) for r in rows]) if rows else []
    columns = ["id", *PATCH_PROPERTIES, *EXTRA_PROPERTIES, "version"]
    frame = pd.DataFrame.from_records(records, columns=columns)
    return gpd.GeoDataFrame(frame, geometry=list(geometry), crs=4490)


def show_patch(store: Store, ref: str) -> dict:
    """One patch by ``CODE`` or ``BATCH/CODE``: its properties, shares and version history."""
    batch, _, code = ref.rpartition("/")
    found = list_patches(store, batch=batch or None, codes=[code])
    if found.empty:
        raise NotFoundError(f"no current patch {ref!r}: `geo-tracker patches list` shows the patches")
    if len(found) > 1:
        batches = ", ".join(found["batch"])
        raise GeoTrackerError(f"patch code {code!r} is in several batches ({batches}): name it as BATCH/{code}")
    row = found.iloc[0]
    with store.engine.connect() as conn:
        history = [dict(r) for r in conn.execute(sa.text(
            "SELECT p.version, p.is_current, p.withdrawn, p.created_at, p.superseded_at, i.file_name, "
            "i.issued_on FROM patches p LEFT JOIN batch_imports i ON i.id = p.import_id "
            "WHERE p.batch_id = (SELECT batch_id FROM patches WHERE id = :id) AND p.patch_code = :code "
            "ORDER BY p.version"), {"id": int(row["id"]), "code": code}).mappings()]
        shares = [dict(r) for r in conn.execute(sa.text(
            "SELECT v.village_code, a.name AS village_name, v.share, v.overlap_mu FROM patch_villages v "
            "JOIN admin_units a ON a.id = v.village_unit_id WHERE v.patch_id = :id ORDER BY v.share DESC"),
            {"id": int(row["id"])}).mappings()]
        attrs = conn.execute(sa.text("SELECT attrs FROM patches WHERE id = :id"), {"id": int(row["id"])}).scalar_one()
    data = {k: _plain(row[k]) for k in row.index if k != "geometry"}
    data.update({"villages": shares, "history": history, "attrs": _json(attrs),
                 "bounds": list(row.geometry.bounds)})
    return data


def _plain(value):
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return None if np.isnan(value) else float(value)
    if isinstance(value, float) and np.isnan(value):
        return None
    return value


def patches_geojson(frame: gpd.GeoDataFrame) -> dict:
    """A FeatureCollection whose properties are :data:`PATCH_PROPERTIES` (and a few more)."""
    features = []
    for _, row in frame.iterrows():
        props = {k: _plain(row[k]) for k in PATCH_PROPERTIES + EXTRA_PROPERTIES}
        props["issued_on"] = str(props["issued_on"]) if props["issued_on"] else None
        features.append({"type": "Feature", "geometry": shapely.geometry.mapping(row.geometry),
                         "properties": props})
    return {"type": "FeatureCollection", "features": features}

