"""Patrols (巡查) and their findings: the township's own patches, in the same ledger.

A finding becomes a patch of source ``patrol`` (one batch per year, one import per
finding, dated by the patrol), matched to its village and measured like any
patch, so it is verified, filed, rectified and counted exactly like issued ones.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS, Transformer

from ..core.area import geodesic_area_mu
from ..core.crs import STORAGE_CRS
from ..core.geometry import normalise_polygons
from ..catalogue import Note, msg
from ..errors import InputFileError, InvalidValueError, NotFoundError
from ..io.readers import read_delivery
from ..store import Store
from ..store import admin_units as units_repo
from ..store import batches as batches_repo
from ..store import events as events_repo
from ..store import patrols as repo
from .patches import load_villages, match_and_store
from .tracking import actor, record_evidence

SOURCE = "patrol"


def read_track(path: str | Path) -> shapely.Geometry:
    """A patrol track (GPX, KML, GeoJSON) as one MultiLineString in EPSG:4490."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError(msg("common.no_file", path=path))
    lines = []
    try:
        for name, kind in pyogrio.list_layers(path):
            if kind and "LineString" in str(kind):
                frame = pyogrio.read_dataframe(path, layer=name)
                crs = frame.crs or STORAGE_CRS
                frame = frame.set_crs(crs, allow_override=True).to_crs(STORAGE_CRS)
                lines += [g for g in shapely.get_parts(shapely.force_2d(frame.geometry.values))
                          if g is not None and not g.is_empty]
    except pyogrio.errors.DataSourceError as e:
        raise InputFileError(msg("patrols.unreadable_track", file=path.name, error=e)) from None
    lines = [g for part in lines for g in shapely.get_parts(part) if g.geom_type == "LineString"]
    if not lines:
        raise InputFileError(msg("patrols.no_track", file=path.name))
    return shapely.MultiLineString(lines)


def add_patrol(store: Store, on: date, *, track: str | Path | None = None, villages: list[str] = (),
               members: str | None = None, departments: list[str] = (), note: str | None = None,
               user: str | None = None) -> dict:
    """Record a patrol; the villages it covered come from its track when there is one."""
    line = read_track(track) if track else None
    with store.transaction() as conn:
        valid = units_repo.load_units(conn, store, level="village", valid_on=on)
        unknown = sorted(set(villages) - set(valid["code"]))
        if unknown:
            raise InvalidValueError(msg("patrols.unknown_villages", villages=", ".join(unknown), on=on),
                                    field="villages")
        covered = set(villages)
        if line is not None:
            hits = shapely.intersects(np.asarray(valid.geometry.values, dtype=object), line)
            covered |= set(valid["code"][hits])
        patrol_id = repo.insert_patrol(conn, store, dict(
            patrolled_on=on, members=members, departments=list(departments), note=note, actor=actor(user),
        ), line, sorted(covered))
    return {"patrol_id": patrol_id, "on": on, "villages": sorted(covered),
            "track_km": None if line is None else _length_km(line)}


def _length_km(line) -> float:
    from ..core.area import CGCS2000_GEOD

    return float(CGCS2000_GEOD.geometry_length(line)) / 1000


def _circle(lon: float, lat: float, radius_m: float) -> shapely.Geometry:
    local = CRS.from_proj4(f"+proj=aeqd +lat_0={lat} +lon_0={lon} +ellps=GRS80 +units=m")
    back = Transformer.from_crs(local, STORAGE_CRS, always_xy=True)
    disc = shapely.Point(0, 0).buffer(radius_m, quad_segs=16)
    return shapely.transform(disc, lambda xy: np.column_stack(back.transform(xy[:, 0], xy[:, 1])))


def record_finding(store: Store, patrol_id: int, *, category: str, geometry: str | Path | None = None,
                   point: tuple[float, float] | None = None, radius_m: float = 10.0, note: str | None = None,
                   code: str | None = None, evidence: list[str | Path] = (), user: str | None = None) -> dict:
    """A problem found on patrol (发现问题), as a patch of source ``patrol``."""
    if (geometry is None) == (point is None):
        raise InvalidValueError(msg("patrols.geometry_or_point"))
    if not category or not category.strip():
        raise InvalidValueError(msg("patrols.need_category"), field="category")
    if point is not None:
        if radius_m <= 0:
            raise InvalidValueError(msg("patrols.radius_not_positive", radius=radius_m), field="radius_m")
        shape = _circle(point[0], point[1], radius_m)
    else:
        delivery = read_delivery(geometry)
        shape = shapely.union_all(delivery.frame.geometry.values)
    check = normalise_polygons([shape])
    if check.problems:
        raise InputFileError(msg("patrols.bad_geometry", problem=check.problems[0]))
    shape = check.geometries[0]
    area = float(geodesic_area_mu([shape])[0])
    with store.transaction() as conn:
        patrol = repo.patrol_row(conn, patrol_id)
        if patrol is None:
            raise NotFoundError(msg("patrols.not_found", id=patrol_id))
        on = units_repo.as_date(patrol["patrolled_on"])
        name = f"巡查发现{on.year}年"
        found = batches_repo.find_batch(conn, SOURCE, name)
        batch_id = found[0].id if found else batches_repo.create_batch(conn, SOURCE, name, date(on.year, 1, 1), None)
        number = repo.finding_count(conn) + 1
        code = code or f"XC{on:%Y%m%d}-{patrol_id}-{number}"
        wkb = shapely.to_wkb(shape)
        import_id = batches_repo.insert_import(
            conn, batch_id=batch_id, file_name=f"巡查记录 {patrol_id}", dataset="patrol", driver="patrol",
            layer=None, file_sha256=hashlib.sha256(b"patrol:%d:" % patrol_id + code.encode() + wkb).hexdigest(),
            issued_on=on, deadline=None, crs="EPSG:4490", crs_reason=Note("patrols.crs_recorded"), encoding="UTF-8",
            features_read=1, accepted=1, area_mu=area, report={"patrol_id": patrol_id, "category": category},
        )
        attrs = json.dumps({"巡查编号": patrol_id, "问题类别": category, "说明": note}, ensure_ascii=False)
        table = pd.DataFrame({
            "patch_code": [code], "feature_no": [1], "area_mu": [area], "issued_area_mu": [np.nan],
            "cultivated_mu": [np.nan], "attrs": [attrs], "flags": ["{}"], "fingerprint": [hashlib.sha256(wkb).hexdigest()],
            "version": [1], "status": ["issued"], "batch_id": [batch_id], "import_id": [import_id],
        })
        table["geom"] = [shape]
        before = batches_repo.max_patch_id(conn)
        batches_repo.insert_patches(store, conn, table)
        ids = batches_repo.patch_ids_since(conn, import_id, before)
        patch_id = int(ids.id.iloc[0])
        match_and_store(store, conn, [patch_id], [shape], [on], load_villages(conn, store))
        repo.insert_finding(conn, patrol_id=patrol_id, patch_id=patch_id, category=category, note=note)
        patch = events_repo.find_patch_by_lineage(conn, store, patch_id)
        stored = [record_evidence(conn, store, f, patch) for f in evidence]
        events_repo.insert_event(conn, kind="finding_recorded", occurred_on=on, actor=actor(user),
                                 patch_id=patch_id, batch_id=batch_id,
                                 payload={"patrol_id": patrol_id, "category": category, "note": note,
                                          "evidence": stored})
        village = repo.main_village(conn, patch_id)
    return {"patrol_id": patrol_id, "patch": f"{name}/{code}", "patch_code": code, "area_mu": area,
            "evidence": stored,
            "village_code": village.village_code if village else None,
            "village_name": village.village_name if village else None}


def list_patrols(store: Store, as_of: date | None = None) -> list[dict]:
    with store.engine.connect() as conn:
        rows, covered, by_patrol = repo.patrol_rows(conn, as_of)
    for row in rows:
        row["villages"] = sorted(c for p, c in covered if p == row["id"])
        row["findings"] = int(by_patrol.get(row["id"], 0))
        row["departments"] = json.loads(row["departments"]) if isinstance(row["departments"], str) else row["departments"]
    return rows


def coverage(store: Store, start: date, end: date, min_per_month: int = 2) -> list[dict]:
    """Villages patrolled fewer than ``min_per_month`` times in a month of the period (边远村、空心村)."""
    if end < start:
        raise InvalidValueError(msg("patrols.end_before_start", end=end, start=start))
    with store.engine.connect() as conn:
        units = units_repo.load_units(conn, store, level="village")
        rows = repo.village_days(conn, start, end)
    counts: dict[tuple[str, str], int] = {}
    for code, day in rows:
        day = units_repo.as_date(day)
        counts[(code, f"{day:%Y-%m}")] = counts.get((code, f"{day:%Y-%m}"), 0) + 1
    months, y, m = [], start.year, start.month
    while (y, m) <= (end.year, end.month):
        months.append(f"{y}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    out = []
    for unit in units.itertuples():
        if unit.valid_from > end or (unit.valid_to is not None and unit.valid_to <= start):
            continue
        for month in months:
            n = counts.get((unit.code, month), 0)
            if n < min_per_month:
                out.append({"village_code": unit.code, "village_name": unit.name, "month": month, "patrols": n,
                            "required": min_per_month})
    return out


def file_case(store: Store, finding: dict, case_no: str, *, category: str | None = None,
              user: str | None = None) -> dict:
    """Open a case directly on a finding: verified illegal on the patrol's date, then filed."""
    from .cases import open_case
    from .tracking import verify_patch

    with store.engine.connect() as conn:
        on = units_repo.as_date(repo.patrolled_on(conn, finding["patrol_id"]))
    verify_patch(store, finding["patch"], "illegal", on, note="巡查发现", user=user)
    return open_case(store, case_no, on, patches_refs=[finding["patch"]], category=category, user=user)
