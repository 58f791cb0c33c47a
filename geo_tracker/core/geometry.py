"""Checking and repairing patch polygons as delivered.

Bureau polygons have self-intersections, repeated vertices, rings in either
orientation and the odd point or line. Everything here is vectorised over a
whole batch; per-feature work happens only for the few invalid ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely

from ..catalogue import entries, msg, note
from ..catalogue.imports import GEOS_REASON_KEYS
from .crs import CHINA_LAT, CHINA_LON

POLYGONAL = ("Polygon", "MultiPolygon")
#: Patches smaller than this (m²) are flagged as slivers.
SLIVER_M2 = 1.0


@dataclass
class GeometryCheck:
    """Outcome of :func:`normalise_polygons`: one entry per input feature."""

    geometries: np.ndarray
    flags: list[dict[str, str]]
    problems: dict[int, str] = field(default_factory=dict)


def _kind(geom_type: str):
    """A geometry type as a message ("Point" in English, 点 in Chinese); an unknown one as it is."""
    key = f"imports.geometry_kind.{geom_type}"
    return msg(key) if key in entries() else geom_type


def _invalid_reason(geom):
    """Why GEOS finds ``geom`` invalid, as a note ("Self-intersection[x y]", 自相交[x y]); its own
    words where the reason is not one GEOS is known to give."""
    reason = shapely.is_valid_reason(geom)
    head, bracket, rest = reason.partition("[")
    key = GEOS_REASON_KEYS.get(head)
    return note(key, at=bracket + rest) if key else reason


def _polygonal_part(geom):
    if geom is None or geom.is_empty:
        return None
    if geom.geom_type in POLYGONAL:
        return geom
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in POLYGONAL and not p.is_empty]
    polys = [q for p in parts for q in (shapely.get_parts(p) if p.geom_type == "MultiPolygon" else [p])]
    return shapely.MultiPolygon(polys) if polys else None


def normalise_polygons(geoms) -> GeometryCheck:
    """Validate and repair polygons given in EPSG:4490.

    Rejects (in ``problems``, by position) null or empty geometries, points and
    lines, and coordinates outside China's lon/lat range. Repairs invalid ones with
    ``make_valid`` keeping the polygonal parts, drops repeated vertices and orients
    exteriors counter-clockwise; each change is recorded in that feature's flags.
    Returns MULTIPOLYGONs.
    """
    geoms = np.asarray(getattr(geoms, "values", geoms), dtype=object).copy()
    n = len(geoms)
    flags: list[dict[str, str]] = [{} for _ in range(n)]
    problems: dict[int, str] = {}

    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    for i in np.flatnonzero(missing):
        problems[int(i)] = note("imports.geometry_missing")
    types = np.array(["" if m else g.geom_type for g, m in zip(geoms, missing)], dtype=object)
    # KML MultiGeometry arrives as a GeometryCollection: its polygons are the patch.
    for i in np.flatnonzero(types == "GeometryCollection"):
        polygonal = _polygonal_part(geoms[i])
        if polygonal is not None:
            geoms[i] = polygonal
            types[i] = polygonal.geom_type
    wrong = ~missing & ~np.isin(types, POLYGONAL)
    for i in np.flatnonzero(wrong):
        problems[int(i)] = note("imports.geometry_not_polygon", kind=_kind(types[i]))
    ok = np.flatnonzero(~missing & ~wrong)

    work = geoms[ok]
    if shapely.has_z(work).any():
        work = shapely.force_2d(work)
    bounds = shapely.bounds(work)
    out_of_range = ~(
        np.isfinite(bounds).all(axis=1)
        & (bounds[:, 0] >= CHINA_LON[0]) & (bounds[:, 2] <= CHINA_LON[1])
        & (bounds[:, 1] >= CHINA_LAT[0]) & (bounds[:, 3] <= CHINA_LAT[1])
    )
    for j in np.flatnonzero(out_of_range):
        b = bounds[j]
        problems[int(ok[j])] = note("imports.geometry_out_of_range", lon_min=f"{b[0]:.4f}", lon_max=f"{b[2]:.4f}",
                                    lat_min=f"{b[1]:.4f}", lat_max=f"{b[3]:.4f}")
    keep = ~out_of_range
    ok, work = ok[keep], work[keep]

    before = shapely.get_num_coordinates(work)
    work = shapely.remove_repeated_points(work, tolerance=0.0)
    for j in np.flatnonzero(shapely.get_num_coordinates(work) != before):
        flags[ok[j]]["duplicate_vertices"] = note("imports.geometry_repeated_vertices",
                                                  count=int(before[j] - shapely.get_num_coordinates(work[j])))

    invalid = np.flatnonzero(~shapely.is_valid(work))
    for j in invalid:
        reason = _invalid_reason(work[j])
        fixed = _polygonal_part(shapely.make_valid(work[j]))
        if fixed is None or fixed.area == 0:
            problems[int(ok[j])] = note("imports.geometry_invalid", reason=reason)
            work[j] = None
            continue
        work[j] = fixed
        flags[ok[j]]["repaired"] = note("imports.geometry_repaired", reason=reason)
    alive = ~shapely.is_missing(work)
    ok, work = ok[alive], work[alive]

    work = shapely.orient_polygons(work, exterior_cw=False)
    single = shapely.get_type_id(work) == 3
    if single.any():
        work[single] = shapely.multipolygons(work[single][:, np.newaxis])
    result = np.full(n, None, dtype=object)
    result[ok] = work
    return GeometryCheck(result, flags, problems)
