"""Checks on administrative boundaries: codes, and gaps and overlaps between siblings.

Village boundaries from different sources rarely tile their township exactly.
Slivers matter: a patch in a gap matches no village, one in an overlap matches
two. They are reported with their size and place, never silently fixed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely


#: Statistical division code length per level (县 6, 乡 9, 村 12).
CODE_LENGTH = {"county": 6, "township": 9, "village": 12}
PARENT_LEVEL = {"township": "county", "village": "township"}
#: Siblings covering at least this share of their parent are checked for gaps inside it.
COVERS_PARENT = 0.5


def normalise_code(raw, level: str) -> str | None:
    """The unit's code for ``level``, or None when it is not one.

    Accepts the 19-digit 坐落单位代码 of 三调 (12-digit village code + 7 zeros) and
    numbers read as floats (``500109107201.0``).
    """
    if raw is None or (isinstance(raw, float) and np.isnan(raw)):
        return None
    text = str(raw).strip()
    if text.endswith(".0"):
        text = text[:-2]
    want = CODE_LENGTH[level]
    if len(text) == 19 and text.isdigit() and text.endswith("0" * (19 - want)):
        text = text[:want]
    return text if len(text) == want and text.isdigit() else None


def parent_of(code: str, level: str) -> str | None:
    """The parent code implied by a statistical code (village -> township -> county)."""
    parent = PARENT_LEVEL.get(level)
    return code[:CODE_LENGTH[parent]] if parent else None


def lonlat_area_m2(geoms) -> np.ndarray:
    """Area of lon/lat polygons with straight lon/lat edges, scaled to m² at their latitude.

    Gaps and overlaps between boundaries are slivers made by GEOS in the lon/lat
    plane: measured with geodesic edges, a zero-width sliver along a 2 km edge
    would show ~70 m² that no one drew. This measure says how big they are as drawn.
    """
    geoms = np.asarray(geoms, dtype=object)
    lat = np.radians(shapely.get_y(shapely.centroid(geoms)))
    m_per_deg_lat = 111132.954 - 559.822 * np.cos(2 * lat) + 1.175 * np.cos(4 * lat)
    m_per_deg_lon = 111412.84 * np.cos(lat) - 93.5 * np.cos(3 * lat)
    return shapely.area(geoms) * m_per_deg_lat * m_per_deg_lon


def _where(geom) -> list[float]:
    point = geom.representative_point()
    return [round(point.x, 6), round(point.y, 6)]


def sibling_problems(units: pd.DataFrame, parents: pd.DataFrame | None = None,
                     tolerance_m2: float = 10.0) -> list[dict]:
    """Overlaps between siblings and gaps inside their parent, larger than ``tolerance_m2``.

    ``units`` has ``code``, ``parent_code`` and ``geometry``; ``parents`` (optional)
    has ``code`` and ``geometry``. Without the parent, gaps are the holes inside
    the siblings' union. Each problem: ``kind``, ``codes`` / ``parent``,
    ``area_m2`` and ``location`` (lon, lat inside it).
    """
    problems: list[dict] = []
    geoms = np.asarray(units["geometry"].values, dtype=object)
    codes = units["code"].to_numpy()
    parent_codes = units["parent_code"].to_numpy()
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    pairs = (left < right) & (parent_codes[left] == parent_codes[right])
    left, right = left[pairs], right[pairs]
    if len(left):
        overlaps = shapely.intersection(geoms[left], geoms[right])
        areas = lonlat_area_m2(overlaps)
        for i in np.flatnonzero(areas > tolerance_m2):
            problems.append({"kind": "overlap", "codes": [codes[left[i]], codes[right[i]]],
                             "area_m2": round(float(areas[i]), 2), "location": _where(overlaps[i])})
    parent_geoms = {} if parents is None else dict(zip(parents["code"], parents["geometry"]))
    for parent in pd.unique(parent_codes):
        members = geoms[parent_codes == parent]
        union = shapely.union_all(members)
        outline = parent_geoms.get(parent)
        # Siblings are meant to tile their parent only when they cover most of it (all the
        # villages of a township); one township of a county leaves the rest uncovered.
        if outline is not None and union.area >= COVERS_PARENT * outline.area:
            holes = shapely.difference(outline, union)
        else:
            holes = shapely.union_all([shapely.Polygon(ring) for poly in shapely.get_parts(union)
                                       for ring in poly.interiors]) if union.geom_type in ("Polygon", "MultiPolygon") else None
        if holes is None or holes.is_empty:
            continue
        parts = shapely.get_parts(holes)
        parts = parts[np.isin(shapely.get_type_id(parts), [3, 6])]
        areas = lonlat_area_m2(parts)
        for part, area in zip(parts, areas):
            if area > tolerance_m2:
                problems.append({"kind": "gap", "parent": parent, "area_m2": round(float(area), 2),
                                 "location": _where(part)})
    return problems
