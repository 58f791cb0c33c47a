"""Stored village matches: one row per patch (patch_matches) and per patch-village pair."""

from __future__ import annotations

from datetime import date

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import Connection

from ..core.matching import VillageMatch
from ..units import M2_PER_MU
from .base import Store
from .batches import now_utc


def delete_matches(conn: Connection, patch_ids: list[int]) -> None:
    """Set-based: one DELETE per table and 10 000 ids (integers, so inlined safely)."""
    ids = [int(i) for i in patch_ids]
    for start in range(0, len(ids), 10_000):
        listed = ", ".join(map(str, ids[start:start + 10_000]))
        for table in ("patch_villages", "patch_matches"):
            conn.execute(sa.text(f"DELETE FROM {table} WHERE patch_id IN ({listed})"))


def write_matches(store: Store, conn: Connection, patch_ids, dates, result: VillageMatch) -> None:
    """Store a matching whose ``patch`` positions index ``patch_ids`` and ``dates``."""
    ids = pd.Series(list(patch_ids))
    days = pd.Series(list(dates))
    m = result.matches
    positions = m["patch"].astype(int)
    store.bulk_insert(conn, "patch_matches", {
        "patch_id": [int(i) for i in ids.iloc[positions]],
        "village_unit_id": [None if pd.isna(v) else int(v) for v in m["village_id"]],
        "village_code": [None if pd.isna(v) else v for v in m["village_code"]],
        "village_name": [None if pd.isna(v) else v for v in m["village_name"]],
        "share": [float(v) for v in m["share"]],
        "covered_share": [float(v) for v in m["covered_share"]],
        "outside": [bool(v) for v in m["outside"]],
        "straddles": [bool(v) for v in m["straddles"]],
        "nearest_code": [None if pd.isna(v) else v for v in m["nearest_code"]],
        "nearest_distance_m": [None if pd.isna(v) else float(v) for v in m["nearest_distance_m"]],
        "boundaries_as_of": [d if isinstance(d, date) else pd.Timestamp(d).date() for d in days.iloc[positions]],
        "matched_at": [now_utc()] * len(m),
    })
    s = result.shares
    if len(s):
        store.bulk_insert(conn, "patch_villages", {
            "patch_id": [int(i) for i in ids.iloc[s["patch"].astype(int)]],
            "village_unit_id": [int(v) for v in s["village_id"]],
            "village_code": list(s["village_code"]),
            "overlap_mu": [float(v) / M2_PER_MU for v in s["overlap_m2"]],
            "share": [float(v) for v in s["share"]],
        })


def has_villages(conn: Connection) -> bool:
    return bool(conn.execute(sa.text("SELECT count(*) FROM admin_units WHERE level = 'village'")).scalar_one())
