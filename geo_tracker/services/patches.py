"""Patches (图斑): matching to villages, listing, showing one."""

from __future__ import annotations

import math
from collections.abc import Collection
from datetime import date, datetime, timedelta
from typing import NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..catalogue import msg
from ..core.sources import split_ref
from ..core.lifecycle import OPEN_STATUSES, STATE_COLUMNS, STATUSES, fold, is_overdue
from ..core.matching import match_villages_as_of
from ..core.review import review_states
from ..core.values import plain
from ..errors import ConflictError, InvalidValueError, NotFoundError
from ..io.profiles import attribute_label
from ..store import Store
from ..store import admin_units as units_repo
from ..store import cql2 as cql2_repo
from ..store import extents as extents_repo
from ..store import events as events_repo
from ..store.batches import decode_json, patch_attrs
from ..store import landuse as landuse_repo
from ..store import matches as matches_repo
from ..store import patches as repo

#: Patches matched per round trip when re-matching a whole database.
REMATCH_CHUNK = 20_000


def load_villages(conn, store: Store) -> gpd.GeoDataFrame:
    """Every version of every village, with validity, for as-of matching."""
    return units_repo.load_units(conn, store, level="village")


def match_and_store(store: Store, conn, patch_ids, geoms, dates, villages) -> dict[str, int]:
    """Match patches to the villages valid on their dates and (re)write their match rows."""
    if len(villages) == 0 or len(patch_ids) == 0:
        return {"matched": 0, "outside": 0, "straddles": 0}
    result = match_villages_as_of(geoms, dates, villages)
    matches_repo.delete_matches(conn, list(patch_ids))
    matches_repo.write_matches(store, conn, patch_ids, dates, result)
    m = result.matches
    return {"matched": int((~m["outside"]).sum()), "outside": int(m["outside"].sum()),
            "straddles": int(m["straddles"].sum())}


def rematch_patches(store: Store, batch: str | None = None) -> dict[str, int]:
    """Match every current patch (of one batch) again, e.g. after boundaries changed.

    Also refreshes areas computed from the land-use layer, if one is loaded.
    """
    where, params = repo.current_filters(store, batch=batch)
    totals = {"patches": 0, "matched": 0, "outside": 0, "straddles": 0}
    with store.transaction() as conn:
        villages = load_villages(conn, store)
        if len(villages) == 0 and not landuse_repo.has_parcels(conn):
            raise ConflictError(msg("patch.no_villages"))
        if batch and not repo.batch_exists(conn, batch):
            raise NotFoundError(msg("patch.no_batch", batch=batch))
        rows = repo.geometries(conn, store, where, params)
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


def _refresh_landuse(store: Store, conn, ids: list[int], geoms) -> None:
    """Recompute forest area, and cultivated area where it was not issued, from the 三调 layer."""
    from .landuse import landuse_for

    computed = landuse_for(store, conn, geoms)
    if computed is None:
        return
    cultivated, forest = computed
    repo.update_landuse(conn, ids, forest, cultivated)


#: Property names of exported patches; later versions add names, never rename these.
PATCH_PROPERTIES = ["patch_code", "batch", "source", "issued_on", "area_mu", "issued_area_mu",
                    "cultivated_mu", "village_code", "village_name", "village_shares", "outside",
                    "straddles", "status", "flags"]


#: Further properties, added after the first release of the list above.
EXTRA_PROPERTIES = ["cultivated_source", "forest_mu", "nearest_code", "nearest_distance_m", "rectified_mu",
                    "rectified_cultivated_mu", "case_numbers", "deadline", "overdue", "relapse_of", "status_on"]


#: The properties a CQL2 ``filter`` or ``sortby`` may name, with their types (for /queryables).
QUERYABLES = cql2_repo.QUERYABLES


def parse_filter(text: str | dict | None, lang: str = "cql2-text", crs: str | None = None):
    """A CQL2 filter (``filter``, ``filter-lang``, ``filter-crs``) checked against :data:`QUERYABLES`, or None.

    Parsed once, before any query: a bad filter fails here with the place of the error
    (:class:`InvalidValueError`, field ``filter``), and the result is passed to
    :func:`list_patches` and :func:`count_patches` as ``cql2``.
    """
    return cql2_repo.parse(text, lang, crs)


def parse_sortby(text: str | None):
    """``sortby`` (``prop,-prop2``) checked against :data:`QUERYABLES`, or None; field ``sortby`` when wrong."""
    return cql2_repo.parse_sortby(text)


def _checked_status(status: str | None) -> str | None:
    """``status`` when it is one, else a field error listing the statuses."""
    if status is not None and status not in STATUSES:
        raise InvalidValueError(msg("patch.bad_status", status=status, choices=", ".join(STATUSES)), field="status")
    return status


def _current_filters(store: Store, *, status=None, **filters) -> tuple[str, dict]:
    """The SQL filters of current patches (``status``: the stored current status, checked here)."""
    return repo.current_filters(store, status=_checked_status(status), **filters)


def count_patches(store: Store, *, cql2=None, sortby=None, **filters) -> int:
    """How many current patches match (filters as :func:`list_patches` without ``as_of``), counted in SQL.

    ``sortby`` is taken and ignored, so a listing's query can be counted as it is.
    """
    where, params = _current_filters(store, cql2=_filter(cql2), **filters)
    with store.engine.connect() as conn:
        return repo.count(conn, where, params)


def list_patches(store: Store, *, batch: str | None = None, village: str | None = None,
                 status: str | None = None, codes: list[str] | None = None, as_of: date | None = None,
                 known_at: datetime | None = None, source: str | None = None,
                 villages: Collection[str] | None = None, bbox: tuple[float, float, float, float] | None = None,
                 limit: int | None = None, offset: int = 0, ids: list[int] | None = None,
                 year: int | None = None, q: str | None = None, cql2=None, sortby=None) -> gpd.GeoDataFrame:
    """Patches with their village match and their state as of a date, as a GeoDataFrame (EPSG:4490).

    Without ``as_of``: the current state. With it: patches issued by then (including
    ones withdrawn later), with status, rectified area and cases from the events
    dated up to then; ``known_at`` also ignores what was recorded after that moment.
    ``villages`` limits the patches to those whose main village is listed (a user's scope).
    ``bbox`` (west, south, east, north in EPSG:4490) keeps those intersecting it. Every filter
    and ``limit``/``offset`` run in SQL, so a page of a province costs a page; with ``as_of`` a
    page is sorted and paged over the state folded in SQL, and only its patches are folded here.
    ``year`` keeps the patches issued in that year; ``q`` searches code, village name and case number;
    ``village`` is a village's code or its name. ``cql2`` (from :func:`parse_filter`, or CQL2 text)
    and ``sortby`` (``prop,-prop2``) run in SQL too; with ``as_of`` the filter cannot name the
    current state, and a sort by ``status_on`` (not folded in SQL) or a whole list sorts after folding.
    """
    _checked_status(status)
    sort = parse_sortby(sortby) if isinstance(sortby, str) else sortby
    common = dict(batch=batch, village=village, codes=codes, source=source, villages=villages, bbox=bbox,
                  ids=ids, year=year, q=q, cql2=_filter(cql2))
    if as_of is not None and limit is not None and _sorts_in_sql(sort):
        page, _total = _ids_as_of(store, as_of, sort, limit, offset, status=status, known_at=known_at, **common)
        return _folded_page(store, page, as_of, known_at)
    if as_of is None:
        where, params = _current_filters(store, status=status, **common)
    else:
        where, params = _current_filters(store, include_withdrawn=True, issued_by=as_of, **common)
    stored = as_of is None and known_at is None
    with store.engine.connect() as conn:
        records, rows = _read(conn, store, where, params, limit=limit if as_of is None else None, offset=offset,
                              sortby=sort if as_of is None else None, today=date.today() if stored else None)
        lineages = [r["lineage_id"] for r in records]
        events = events_repo.lineage_events(conn, lineages) if rows and not stored else pd.DataFrame()
    frame = pd.DataFrame.from_records(records, columns=_RECORD_COLUMNS)
    if stored:
        return _listing(frame, rows)
    if as_of is not None and len(frame):
        withdrawn_on = _withdrawn_on(events)
        keep = [not w or (withdrawn_on.get(lid) is not None and withdrawn_on[lid] > as_of)
                for w, lid in zip(frame["withdrawn"], frame["lineage_id"])]
        frame = frame[np.array(keep, dtype=bool)]
        rows = [r for r, k in zip(rows, keep) if k]
    state = fold(events, frame.rename(columns={"lineage_id": "patch"}), as_of, known_at)
    for column in STATE_COLUMNS:
        frame[column] = state[column].to_numpy() if len(frame) else []
    frame = _with_overdue(frame, as_of or date.today())
    if status is not None and as_of is not None:
        mask = (frame["status"] == status).to_numpy()
        frame, rows = frame[mask], [r for r, k in zip(rows, mask) if k]
    if as_of is not None and sort:
        order = _sorted_positions(frame, sort)
        frame, rows = frame.iloc[order], [rows[i] for i in order]
    if as_of is not None and limit is not None:
        frame, rows = frame.iloc[offset:offset + limit], rows[offset:offset + limit]
    return _listing(frame, rows)


class PatchPage(NamedTuple):
    """One page of the patch list: its patches, how many match (``exact`` False: the planner's estimate,
    for a list of more than :data:`COUNTED_UP_TO`), the page number kept within range, how many pages."""

    frame: gpd.GeoDataFrame
    total: int
    page: int
    pages: int
    exact: bool = True


#: Lists longer than this show an estimated count (约 N 个图斑).
COUNTED_UP_TO = extents_repo.COUNTED_UP_TO


def page_of_patches(store: Store, *, page: int, size: int | None, sortby: str, as_of: date | None = None,
                    **filters) -> PatchPage:
    """One page of the list sorted by ``sortby`` (``prop`` or ``-prop``), ``size`` patches a page (None: all on one).

    The count, sort and page run in SQL, so a province's list costs a page; as of a date over the
    state folded in SQL (one aggregate), and only the page's patches are folded in full.
    """
    page = max(page, 1)
    if as_of is None and size is not None:
        return _current_page_of(store, page, size, sortby, filters)
    if as_of is None:
        frame = list_patches(store, sortby=sortby, **filters)
        return PatchPage(frame, len(frame), 1, 1)
    sort = parse_sortby(sortby)
    if size is None or not _sorts_in_sql(sort):
        frame = list_patches(store, as_of=as_of, sortby=sort, **filters)
        page, size, pages = _page_within(page, size, len(frame))
        return PatchPage(frame.iloc[(page - 1) * size: page * size], len(frame), page, pages)
    ids, total = _ids_as_of(store, as_of, sort, size, (page - 1) * size, **filters)
    page, size, pages = _page_within(page, size, total)
    if not ids and total:
        ids, total = _ids_as_of(store, as_of, sort, size, (page - 1) * size, **filters)
    return PatchPage(_folded_page(store, ids, as_of), total, page, pages)


def _current_page_of(store: Store, page: int, size: int, sortby: str, filters: dict) -> PatchPage:
    """A page of the current list, counted exactly up to :data:`COUNTED_UP_TO` and estimated beyond.

    An estimate may be off either way, so it never holds a page back; a page that comes back short has
    reached the real end, and the list is counted after all (past the end: its last page is shown).
    """
    total, exact = _how_many(store, filters)
    page, size, pages = _page_within(page, size, total) if exact else (page, size, -(-total // size))
    frame = list_patches(store, sortby=sortby, limit=size, offset=(page - 1) * size, **filters)
    if exact:
        return PatchPage(frame, total, page, pages)
    if len(frame) == size:
        return PatchPage(frame, total, page, max(pages, page + 1), exact=False)
    total = count_patches(store, **filters)
    page, size, pages = _page_within(page, size, total)
    if not len(frame) and total:
        frame = list_patches(store, sortby=sortby, limit=size, offset=(page - 1) * size, **filters)
    return PatchPage(frame, total, page, pages)


def _how_many(store: Store, filters: dict) -> tuple[int, bool]:
    """(how many current patches match, whether counted): the planner's estimate, to three figures,
    above :data:`COUNTED_UP_TO` (PostGIS)."""
    where, params = _current_filters(store, **filters)
    with store.engine.connect() as conn:
        total, estimated = extents_repo.count_matching(conn, store, where, params, COUNTED_UP_TO)
    return (round(total, 3 - len(str(total))), False) if estimated else (total, True)


def _folded_page(store: Store, ids: list[int], as_of: date, known_at: datetime | None = None) -> gpd.GeoDataFrame:
    """The patches ``ids`` as of a date, folded in full, in the order given."""
    frame = list_patches(store, as_of=as_of, known_at=known_at, ids=ids).set_index("id", drop=False)
    return frame.loc[[i for i in ids if i in frame.index]].reset_index(drop=True)


#: What a page as of a date sorts by in SQL (``status_on`` then is only folded, in Python).
SQL_SORTABLE_AS_OF = [name for name in cql2_repo.SORTABLE if name != "status_on"]


def _sorts_in_sql(sort) -> bool:
    """Whether a list as of a date sorted by ``sort`` (parsed, or None) can be sorted and paged in SQL."""
    return all(key.name in SQL_SORTABLE_AS_OF for key in sort or ())


def _ids_as_of(store: Store, as_of: date, sort, limit: int, offset: int, *, status=None, known_at=None,
               **filters) -> tuple[list[int], int]:
    """(one page's patch ids, how many match): filtered, sorted and paged over the state as of ``as_of`` in SQL."""
    where, params = repo.current_filters(store, include_withdrawn=True, issued_by=as_of,
                                         **{k: v for k, v in filters.items() if v is not None})
    with store.engine.connect() as conn:
        return repo.page_as_of(conn, store, where, params, as_of=as_of, known_at=known_at, sortby=sort,
                               status=_checked_status(status), limit=limit, offset=offset)


def _page_within(page: int, size: int | None, total: int) -> tuple[int, int, int]:
    """(page kept between the first and the last, page size, pages) for ``total`` rows (``size`` None: one page)."""
    size = size or max(total, 1)
    pages = max(1, math.ceil(total / size))
    return min(max(page, 1), pages), size, pages


def _with_overdue(frame: pd.DataFrame, day: date) -> pd.DataFrame:
    """``frame`` with 逾期 (overdue) judged on ``day`` from its status and deadline."""
    frame["overdue"] = [is_overdue(s, d, day) for s, d in zip(frame["status"], frame["deadline"])]
    return frame


def _listing(frame: pd.DataFrame, rows: list) -> gpd.GeoDataFrame:
    """The listing's columns and geometries."""
    frame["case_numbers"] = [list(c) for c in frame["case_numbers"]]
    geometry = shapely.from_wkb([bytes(r["wkb"]) for r in rows]) if rows else []
    frame = frame[["id", *PATCH_PROPERTIES, *EXTRA_PROPERTIES, "lineage_id", "version", "row_version", "verified"]]
    return gpd.GeoDataFrame(frame.reset_index(drop=True), geometry=list(geometry), crs=4490)


def _filter(cql2):
    """A parsed filter as it is; CQL2 text parsed (for callers that hold the text, such as tests)."""
    return parse_filter(cql2) if isinstance(cql2, str) else cql2


def current_page(store: Store, *, limit: int, offset: int = 0, sortby=None, cql2=None,
                 **filters) -> tuple[list[dict], list[bytes]]:
    """A page of current patches as plain records (``id`` and every exported property) and their WKB.

    What :func:`list_patches` lists without a date, read from each patch's stored state
    without pandas or folding: a page of OGC items or of the API costs its queries.
    """
    sort = parse_sortby(sortby) if isinstance(sortby, str) else sortby
    where, params = _current_filters(store, cql2=_filter(cql2), **filters)
    with store.engine.connect() as conn:
        records, rows = _read(conn, store, where, params, limit=limit, offset=offset, sortby=sort,
                              today=date.today())
    return records, [bytes(r["wkb"]) for r in rows]


#: The columns of a listing's records, before the geometry.
_RECORD_COLUMNS = ["id", "lineage_id", "patch_code", "batch", "source", "issued_on", "area_mu", "issued_area_mu",
                   "cultivated_mu", "cultivated_source", "forest_mu", "village_code", "village_name", "outside",
                   "straddles", "nearest_code", "nearest_distance_m", "withdrawn", "flags", "version", "row_version",
                   "deadline", "village_shares", "relapse_of", *STATE_COLUMNS, "overdue"]


def _read(conn, store: Store, where: str, params: dict, *, limit, offset, sortby, today: date | None):
    """(records, rows): the listing's rows and their records, with the stored state and, given
    ``today``, 逾期 judged on it (without, the caller folds the state of another date)."""
    rows = repo.rows(conn, store, where, params, limit=limit, offset=offset, sortby=sortby)
    shares = repo.village_shares(conn, [r["id"] for r in rows])
    relapse_of = repo.relapse_codes(conn, [r["lineage_id"] for r in rows])
    return [_record(r, shares, relapse_of, today) for r in rows], rows


def _record(row, shares: dict, relapse_of: dict, today: date | None) -> dict:
    """One SQL row as the listing's record: the one rule for what a listed patch's values are."""
    item = {k: row[k] for k in row.keys() if k != "wkb"}
    for key in ("issued_on", "deadline", "status_on"):
        item[key] = units_repo.as_date(item[key])
    item["outside"] = bool(item["outside"]) if row["village_code"] or row["outside"] else None
    item["straddles"] = bool(item["straddles"])
    item["withdrawn"] = bool(item["withdrawn"])
    item["village_shares"] = shares.get(row["id"], {})
    item["flags"] = sorted(decode_json(item["flags"]) or {})
    item["relapse_of"] = relapse_of.get(row["lineage_id"], [])
    item["case_numbers"] = list(decode_json(item["case_numbers"]) or [])
    item["overdue"] = is_overdue(item["status"], item["deadline"], today) if today else None
    return item


def _sorted_positions(frame: pd.DataFrame, sort) -> list[int]:
    """Positions of ``frame``'s rows in ``sort`` order as SQL sorts them: nulls last, text by code point, then id."""
    keys = [k.name for k in sort] + ["id"]
    ascending = [not k.descending for k in sort] + [True]
    ordered = frame.reset_index(drop=True).sort_values(keys, ascending=ascending, na_position="last", kind="stable")
    return list(ordered.index)


#: How far ahead the 即将到期 list looks, in days.
DUE_SOON_DAYS = 14


def due_soon(store: Store, *, days: int = DUE_SOON_DAYS, as_of: date | None = None, batch: str | None = None,
             source: str | None = None, villages: Collection[str] | None = None) -> gpd.GeoDataFrame:
    """Patches still owing work whose deadline falls in the next ``days`` days (即将到期), soonest first.

    Overdue patches are not listed: they are past due, not due soon.
    """
    day, days = as_of or date.today(), max(int(days), 0)
    frame = list_patches(store, batch=batch, source=source, villages=villages, as_of=as_of)
    keep = [s in OPEN_STATUSES and d is not None and day <= d <= day + timedelta(days=days)
            for s, d in zip(frame["status"], frame["deadline"])]
    found = frame[np.array(keep, dtype=bool)] if len(frame) else frame
    return found.sort_values(["deadline", "batch", "patch_code"], kind="stable").reset_index(drop=True)


def _withdrawn_on(events: pd.DataFrame) -> dict[int, date]:
    if events.empty:
        return {}
    gone = events[(events["kind"] == "withdrawn")]
    return dict(zip(gone["patch"], gone["occurred_on"]))


def show_patch(store: Store, ref: str, as_of: date | None = None, known_at: datetime | None = None, *,
               villages: Collection[str] | None = None) -> dict:
    """One patch by ``CODE`` or ``BATCH/CODE``: its properties, shares and version history."""
    batch, code = split_ref(ref)
    found = list_patches(store, batch=batch, codes=[code], as_of=as_of, known_at=known_at,
                         villages=villages)
    if found.empty:
        raise NotFoundError(msg("patch.no_current", ref=ref))
    if len(found) > 1:
        batches = ", ".join(found["batch"])
        raise InvalidValueError(msg("patch.ambiguous", code=code, batches=batches))
    row = found.iloc[0]
    with store.engine.connect() as conn:
        history = repo.versions(conn, int(row["id"]), code)
        shares = repo.shares_with_names(conn, int(row["id"]))
        attrs, row_version = repo.attrs_and_version(conn, int(row["id"]))
        lineage = int(row["lineage_id"])
        review = review_states(events_repo.lineage_events(conn, [lineage]), as_of, known_at).get(lineage)
    data = {k: plain(row[k]) for k in row.index if k != "geometry"}
    data["review"] = review.as_dict() if review else None       # 审核: round, pending level, a return's reasons
    attrs = decode_json(attrs) or {}
    data.update({"villages": shares, "history": history, "attrs": attrs,
                 "attribute_labels": {k: attribute_label(k) for k in attrs}, "row_version": row_version,
                 "bounds": list(row.geometry.bounds), "geometry": shapely.geometry.mapping(row.geometry)})
    return data


def with_attributes(store: Store, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``frame`` (from :func:`list_patches`) with the bureau's own attributes in ``attrs``."""
    with store.engine.connect() as conn:
        attrs = patch_attrs(conn, [int(i) for i in frame["id"]])
    return frame.assign(attrs=[attrs.get(int(i), {}) for i in frame["id"]])


def patches_geojson(frame: gpd.GeoDataFrame) -> dict:
    """A FeatureCollection whose properties are :data:`PATCH_PROPERTIES` (and a few more);
    the bureau's attributes under ``attrs`` where the frame has them (:func:`with_attributes`)."""
    features = []
    for _, row in frame.iterrows():
        props = {k: plain(row[k]) for k in PATCH_PROPERTIES + EXTRA_PROPERTIES}
        for key in ("issued_on", "deadline", "status_on"):
            props[key] = str(props[key]) if props[key] else None
        if "attrs" in frame:
            props["attrs"] = row["attrs"]
        features.append({"type": "Feature", "geometry": shapely.geometry.mapping(row.geometry),
                         "properties": props})
    return {"type": "FeatureCollection", "features": features}

