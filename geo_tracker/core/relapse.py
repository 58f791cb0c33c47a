"""死灰复燃: a new patch on a site that was already rectified or closed."""

from __future__ import annotations

import pandas as pd

from .overlap import duplicates_among, overlap_pairs

#: Overlap, as a share of either patch's area, from which a new patch is a relapse.
RELAPSE_SHARE = 0.3


def relapses_among(pairs: pd.DataFrame, min_share: float = RELAPSE_SHARE) -> pd.DataFrame:
    """The overlap pairs (see :func:`~geo_tracker.core.overlap.overlap_pairs`) that are relapses:
    covering ``min_share`` of either patch, but not the same site delivered again (a
    duplicate), so a patch never relapses onto its own geometry."""
    empty = pd.DataFrame(columns=["new", "earlier", "share"])
    if pairs.empty:
        return empty
    pairs = pairs.drop(index=duplicates_among(pairs).index)
    share = pairs[["share_new", "share_earlier"]].max(axis=1)
    keep = (share >= min_share).to_numpy(dtype=bool)
    return pd.DataFrame({"new": pairs["new"].to_numpy()[keep], "earlier": pairs["earlier"].to_numpy()[keep],
                         "share": share.to_numpy()[keep]})


def find_relapses(new, earlier, min_share: float = RELAPSE_SHARE) -> pd.DataFrame:
    """Pairs ``(new, earlier)`` (positions) that are relapses (see :func:`relapses_among`)."""
    return relapses_among(overlap_pairs(new, earlier), min_share)
