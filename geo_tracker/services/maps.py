"""The rectification map of a township (or county): patches by status over their villages."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import shapely

from ..core.lifecycle import MEASURE_LABELS, RESULT_WORDS, STATUS_LABELS, month_ends
from ..maps.builder import build_map, map_data, write_map
from ..store import Store
from ..store import admin_units as units_repo
from ..store import events as events_repo
from ..store import patrols as patrols_repo
from ..store.batches import patch_attrs
from .patches import list_patches
from .stats import compute_stats

_RESULTS = {v: k for k, v in RESULT_WORDS.items() if not k.isascii()}


def _history(events) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = {}
    shown = events[events["voided_by"].isna() & events["kind"].isin(["verified", "case_linked", "rectified", "closed"])]
    for row in shown.itertuples():
        p = row.payload
        if row.kind == "verified":
            text = f"核查：{STATUS_LABELS.get(p.get('result'), p.get('result'))}"
        elif row.kind == "case_linked":
            text = f"立案：{p.get('case_no')}"
        elif row.kind == "rectified":
            text = f"{MEASURE_LABELS.get(p.get('measure'), p.get('measure'))} {float(p.get('area_mu', 0)):.2f} 亩"
        else:
            text = "销号"
        out.setdefault(row.patch, []).append({"date": row.occurred_on.isoformat(), "text": text})
    return out


def _timeline(store: Store, patches, *, source, village, end: date) -> dict:
    """Status of every patch at each month end from the first issue to ``end`` (None: not yet issued)."""
    from ..core.lifecycle import STATUSES

    codes = list(patches["lineage_id"])
    months = month_ends(min(patches["issued_on"]), end) if len(patches) else []
    status = {int(c): [] for c in codes}
    for day in months:
        then = list_patches(store, source=source, village=village, as_of=day).set_index("lineage_id")["status"]
        for c in codes:
            value = then.get(c)
            status[int(c)].append(None if value is None else STATUSES.index(value))
    return {"months": [d.isoformat() for d in months], "status": status}


def map_page_data(store: Store, *, batches: list[str] = (), source: str | None = None, village: str | None = None,
                  status: str | None = None, as_of: date | None = None, timeline: bool = False,
                  villages=None) -> tuple[dict, str]:
    """(data, title) of the rectification map: patches, villages, per-village rates, patrol tracks.

    ``villages`` (a user's scope) limits the patches and leaves out the county's patrol tracks.
    """
    patches = list_patches(store, source=source, village=village, status=status, as_of=as_of, villages=villages)
    if batches:
        patches = patches[patches["batch"].isin(list(batches))]
    day = as_of or date.today()
    with store.engine.connect() as conn:
        units = units_repo.load_units(conn, store, level="village", valid_on=day)
        if villages is not None:
            units = units[units["code"].isin(list(villages))]
        attrs = patch_attrs(conn, [int(i) for i in patches["id"]])
        events = events_repo.lineage_events(conn, [int(i) for i in patches["lineage_id"]])
        tracks = [] if villages is not None else patrols_repo.tracks(conn, store, day)
    stats = compute_stats(store, as_of=day, by=["village"], source=source, villages=villages)
    rates = {g["key"]["village"]: g["rectification_rate_area"] for g in stats["groups"]}
    data = map_data(patches, units, dict(zip(units["code"], units["name"])), rates, attrs, _history(events))
    data["tracks"] = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": json.loads(shapely.to_geojson(shapely.from_wkb(bytes(t.wkb)))),
         "properties": {"patrol": t.id, "date": units_repo.as_date(t.patrolled_on).isoformat(),
                        "members": t.members or ""}}
        for t in tracks]}
    if timeline:
        data["timeline"] = _timeline(store, patches, source=source, village=village, end=day)
    return data, f"图斑整改进度图（截至{day.isoformat()}）"


def make_map(store: Store, output: str | Path, *, batches: list[str] = (), source: str | None = None,
             village: str | None = None, as_of: date | None = None, basemap: str = "none",
             tianditu_key: str | None = None, timeline: bool = False) -> dict:
    """Write an offline HTML map; returns its path, size and patch count.

    ``timeline`` adds a slider showing every patch's status at each month end.
    """
    data, title = map_page_data(store, batches=batches, source=source, village=village, as_of=as_of,
                                timeline=timeline)
    return write_map(build_map(data, title=title, basemap=basemap, tianditu_key=tianditu_key), Path(output))
