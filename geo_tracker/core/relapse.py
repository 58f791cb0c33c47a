"""死灰复燃: a new patch on a site that was already rectified or closed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from .area import geodesic_area_m2

#: Overlap, as a share of either patch's area, from which a new patch is a relapse.
RELAPSE_SHARE = 0.3


def find_relapses(new, earlier, min_share: float = RELAPSE_SHARE) -> pd.DataFrame:
    """Pairs ``(new, earlier)`` (positions) overlapping by ``min_share`` of either one's area."""
    new = np.asarray(new, dtype=object)
    earlier = np.asarray(earlier, dtype=object)
    empty = pd.DataFrame(columns=["new", "earlier", "share"])
    if not len(new) or not len(earlier):
        return empty
    a, b = shapely.STRtree(earlier).query(new, predicate="intersects")
    if not len(a):
        return empty
    overlap = geodesic_area_m2(shapely.intersection(new[a], earlier[b]))
    share = np.maximum(overlap / np.maximum(geodesic_area_m2(new[a]), 1e-9),
                       overlap / np.maximum(geodesic_area_m2(earlier[b]), 1e-9))
    keep = share >= min_share
    return pd.DataFrame({"new": a[keep], "earlier": b[keep], "share": share[keep]})
