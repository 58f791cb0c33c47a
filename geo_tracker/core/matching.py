"""Which village (行政村) each patch lies in, by real boundaries and geodesic overlap.

A patch goes to the village it overlaps most; the share of every village it
touches is kept (shares sum to 1 over the part of the patch that villages cover).
A patch no village touches is ``outside``, with the nearest village and its
distance in metres; one whose largest share is below 0.95 ``straddles``. Village
boundaries change (村 merges), so a patch is matched against the boundaries valid
on its issue date.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from .area import CGCS2000_GEOD, geodesic_area_m2

#: A largest share below this makes a patch ``straddles``.
STRADDLE_SHARE = 0.95
#: Overlaps smaller than this (m²) are touching, not sharing.
MIN_OVERLAP_M2 = 0.01

MATCH_COLUMNS = ["patch", "village_id", "village_code", "village_name", "share", "covered_share",
                 "outside", "straddles", "nearest_village_id", "nearest_code", "nearest_distance_m"]
SHARE_COLUMNS = ["patch", "village_id", "village_code", "overlap_m2", "share"]


@dataclass
class VillageMatch:
    """Per patch (``matches``) and per patch-village pair (``shares``); ``patch`` is the position."""

    matches: pd.DataFrame
    shares: pd.DataFrame


def match_villages(patches, villages: pd.DataFrame) -> VillageMatch:
    """Match polygons (EPSG:4490) to villages.

    Parameters
    ----------
    patches : array-like of (Multi)Polygons in EPSG:4490, one per patch.
    villages : DataFrame with ``id``, ``code``, ``name`` and ``geometry`` (EPSG:4490).
    """
    geoms = np.asarray(getattr(patches, "values", patches), dtype=object)
    n = len(geoms)
    vgeoms = np.asarray(villages["geometry"].values, dtype=object)
    if n == 0:
        return VillageMatch(pd.DataFrame(columns=MATCH_COLUMNS), pd.DataFrame(columns=SHARE_COLUMNS))
    if len(vgeoms) == 0:
        return VillageMatch(_unmatched(n, villages, geoms, np.arange(n)), pd.DataFrame(columns=SHARE_COLUMNS))
    shapely.prepare(vgeoms)
    tree = shapely.STRtree(vgeoms)
    p, v = tree.query(geoms, predicate="intersects")
    inside = shapely.contains_properly(vgeoms[v], geoms[p])
    overlap = np.empty(len(p))
    overlap[inside] = geodesic_area_m2(geoms[p[inside]])
    cut = ~inside
    if cut.any():
        overlap[cut] = geodesic_area_m2(shapely.intersection(geoms[p[cut]], vgeoms[v[cut]]))
    keep = overlap >= MIN_OVERLAP_M2
    p, v, overlap = p[keep], v[keep], overlap[keep]
    shares = pd.DataFrame({"patch": p, "village": v, "overlap_m2": overlap})
    covered = shares.groupby("patch")["overlap_m2"].transform("sum")
    shares["share"] = shares["overlap_m2"] / covered
    shares["village_id"] = villages["id"].to_numpy()[v]
    shares["village_code"] = villages["code"].to_numpy()[v]

    patch_area = geodesic_area_m2(geoms)
    best = shares.sort_values(["patch", "overlap_m2"], ascending=[True, False]).drop_duplicates("patch")
    matches = pd.DataFrame({
        "patch": best["patch"].to_numpy(),
        "village_id": best["village_id"].to_numpy(),
        "village_code": best["village_code"].to_numpy(),
        "village_name": villages["name"].to_numpy()[best["village"].to_numpy()],
        "share": best["share"].to_numpy(),
    })
    total = shares.groupby("patch")["overlap_m2"].sum()
    area = patch_area[matches["patch"].to_numpy()]
    matches["covered_share"] = np.minimum(
        1.0, np.divide(total.reindex(matches["patch"]).to_numpy(), area, out=np.ones(len(area)), where=area > 0))
    matches["outside"] = False
    matches["straddles"] = matches["share"] < STRADDLE_SHARE
    matches["nearest_village_id"] = matches["village_id"]
    matches["nearest_code"] = matches["village_code"]
    matches["nearest_distance_m"] = 0.0
    missing = np.setdiff1d(np.arange(n), matches["patch"].to_numpy())
    if len(missing):
        matches = pd.concat([matches, _unmatched(n, villages, geoms, missing, tree)], ignore_index=True)
    matches = matches.sort_values("patch", kind="stable").reset_index(drop=True)
    return VillageMatch(matches[MATCH_COLUMNS], shares[SHARE_COLUMNS].reset_index(drop=True))


def _unmatched(n, villages, geoms, positions, tree=None) -> pd.DataFrame:
    """Patches no village covers: the nearest village and the geodesic distance to it."""
    out = pd.DataFrame({
        "patch": positions, "village_id": None, "village_code": None, "village_name": None,
        "share": 0.0, "covered_share": 0.0, "outside": True, "straddles": False,
        "nearest_village_id": None, "nearest_code": None, "nearest_distance_m": np.nan,
    })
    usable = np.array([g is not None and not g.is_empty for g in geoms[positions]], dtype=bool)
    if tree is None or not usable.any():
        return out
    where = positions[usable]
    nearest = tree.query_nearest(geoms[where], all_matches=False)
    which = nearest[1]
    lines = shapely.shortest_line(geoms[where[nearest[0]]], np.asarray(villages["geometry"].values, dtype=object)[which])
    start = shapely.get_point(lines, 0)
    end = shapely.get_point(lines, 1)
    _az1, _az2, dist = CGCS2000_GEOD.inv(shapely.get_x(start), shapely.get_y(start),
                                         shapely.get_x(end), shapely.get_y(end))
    rows = np.flatnonzero(usable)[nearest[0]]
    out.loc[rows, "nearest_village_id"] = villages["id"].to_numpy()[which]
    out.loc[rows, "nearest_code"] = villages["code"].to_numpy()[which]
    out.loc[rows, "nearest_distance_m"] = np.asarray(dist, dtype=float)
    return out


def match_villages_as_of(patches, dates, villages: pd.DataFrame) -> VillageMatch:
    """Match each patch against the villages valid on its date.

    ``villages`` also has ``valid_from`` and ``valid_to`` (None = still valid);
    ``dates`` gives each patch's issue date. Patches are grouped by date, so a
    batch (one date) costs one matching.
    """
    geoms = np.asarray(getattr(patches, "values", patches), dtype=object)
    dates = pd.to_datetime(pd.Series(list(dates))).dt.date.to_numpy()
    valid_from = pd.to_datetime(villages["valid_from"]).dt.date.to_numpy()
    valid_to = pd.to_datetime(villages["valid_to"]).dt.date.to_numpy()
    match_parts, share_parts = [], []
    for day in sorted(set(dates)):
        rows = np.flatnonzero(dates == day)
        valid = np.array([f <= day and (pd.isna(t) or day < t) for f, t in zip(valid_from, valid_to)],
                         dtype=bool)
        result = match_villages(geoms[rows], villages[valid].reset_index(drop=True))
        result.matches["patch"] = rows[result.matches["patch"].to_numpy(dtype=int)]
        result.shares["patch"] = rows[result.shares["patch"].to_numpy(dtype=int)]
        match_parts.append(result.matches)
        share_parts.append(result.shares)
    matches = pd.concat(match_parts, ignore_index=True).sort_values("patch", kind="stable").reset_index(drop=True)
    shares = pd.concat(share_parts, ignore_index=True) if share_parts else pd.DataFrame(columns=SHARE_COLUMNS)
    return VillageMatch(matches, shares)
