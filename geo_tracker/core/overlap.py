"""How far two sets of patches cover each other: the one measure behind duplicates and relapses.

A delivery that repeats a patch already held (the same file by e-mail and by USB
stick, or the same site under another batch) would count it twice; a new patch on a
site that was rectified is a relapse (死灰复燃). Both are questions of overlap on the
ellipsoid, answered here on plain geometries (EPSG:4490).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from .area import geodesic_area_m2

#: 1 mm in degrees of latitude: vertices closer than this are the same vertex.
MILLIMETRE_DEG = 0.001 / 111_320
#: Overlap, as a share of *both* patches, from which they are the same site delivered twice.
DUPLICATE_SHARE = 0.95


def same_shape(a, b) -> np.ndarray:
    """Whether each pair is the same polygon vertex by vertex (within 1 mm), whatever the
    ring start, ring orientation or part order."""
    a = shapely.normalize(np.asarray(a, dtype=object))
    b = shapely.normalize(np.asarray(b, dtype=object))
    return np.asarray(shapely.equals_exact(a, b, tolerance=MILLIMETRE_DEG), dtype=bool)


def overlap_pairs(new, earlier) -> pd.DataFrame:
    """Every intersecting pair ``(new, earlier)`` by position, with the overlap's share of
    each one's area (``share_new``, ``share_earlier``) and whether they are the same shape."""
    new = np.asarray(new, dtype=object)
    earlier = np.asarray(earlier, dtype=object)
    columns = {"new": [], "earlier": [], "share_new": [], "share_earlier": [], "same": []}
    if not len(new) or not len(earlier):
        return pd.DataFrame(columns)
    a, b = shapely.STRtree(earlier).query(new, predicate="intersects")
    if not len(a):
        return pd.DataFrame(columns)
    overlap = geodesic_area_m2(shapely.intersection(new[a], earlier[b]))
    return pd.DataFrame({
        "new": a, "earlier": b,
        "share_new": overlap / np.maximum(geodesic_area_m2(new[a]), 1e-9),
        "share_earlier": overlap / np.maximum(geodesic_area_m2(earlier[b]), 1e-9),
        "same": same_shape(new[a], earlier[b]),
    })


def duplicates_among(pairs: pd.DataFrame, min_share: float = DUPLICATE_SHARE) -> pd.DataFrame:
    """The pairs that are one site delivered twice: the same shape, or covering each other
    by ``min_share`` both ways."""
    if pairs.empty:
        return pairs
    keep = pairs["same"] | ((pairs["share_new"] >= min_share) & (pairs["share_earlier"] >= min_share))
    return pairs[keep.to_numpy(dtype=bool)]
