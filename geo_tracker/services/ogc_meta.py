"""What GIS clients learn about the patch and village collections before reading them.

- **Typed properties**: every property a feature carries, as JSON Schema with its real type
  (number, integer, string, ``date``, ``date-time``, array, object, boolean) and its Chinese
  title; which of them can be queried.
- **Extents** from the data: the box of the patches (in the user's villages) and the first and
  last issue date, per batch and for all of them; cached per store and refreshed when a write
  changes the data version (:func:`geo_tracker.store.extents.data_version`).
- **numberMatched** that stays cheap at province scale: exact up to :data:`EXACT_UP_TO`
  patches; above that, on PostGIS, the planner's estimate, said to be one.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Collection
from datetime import date

from ..core.lifecycle import STATUS_LABELS, STATUSES
from ..core.sources import SOURCE_LABELS, SOURCES
from ..store import Store
from ..store import extents as extents_repo
from ..store import patches as patches_repo
from ..store.admin_units import as_date
from .patches import EXTRA_PROPERTIES, PATCH_PROPERTIES


def _number(title: str) -> dict:
    return {"title": title, "type": "number"}


def _text(title: str, **more) -> dict:
    return {"title": title, "type": "string", **more}


def _day(title: str) -> dict:
    return {"title": title, "type": "string", "format": "date"}


def _flag(title: str) -> dict:
    return {"title": title, "type": "boolean"}


def _texts(title: str) -> dict:
    return {"title": title, "type": "array", "items": {"type": "string"}}


#: Every property of a patch feature (``PATCH_PROPERTIES`` then ``EXTRA_PROPERTIES``), typed and titled.
PATCH_FIELDS: dict[str, dict] = {
    "patch_code": _text("图斑编号"),
    "batch": _text("批次"),
    "source": _text("图斑来源", enum=list(SOURCES),
                    description="；".join(f"{k}：{v}" for k, v in SOURCE_LABELS.items())),
    "issued_on": _day("下发日期"),
    "area_mu": _number("计算面积（亩）"),
    "issued_area_mu": _number("下发面积（亩）"),
    "cultivated_mu": _number("耕地面积（亩）"),
    "village_code": _text("村级代码"),
    "village_name": _text("村级名称"),
    "village_shares": {"title": "各村面积占比", "type": "object", "additionalProperties": {"type": "number"}},
    "outside": _flag("位于村界外"),
    "straddles": _flag("跨村"),
    "status": _text("状态", enum=list(STATUSES), description="；".join(f"{k}：{v}" for k, v in STATUS_LABELS.items())),
    "flags": _texts("标记"),
    "cultivated_source": _text("耕地面积来源", enum=["issued", "computed"],
                               description="issued：下发数据；computed：由三调地类图斑计算"),
    "forest_mu": _number("林地面积（亩）"),
    "nearest_code": _text("最近村级代码"),
    "nearest_distance_m": _number("距最近村距离（米）"),
    "rectified_mu": _number("已整改面积（亩）"),
    "rectified_cultivated_mu": _number("已整改耕地面积（亩）"),
    "case_numbers": _texts("案件编号"),
    "deadline": _day("整改期限"),
    "overdue": _flag("是否逾期"),
    "relapse_of": _texts("复发自图斑"),
    "status_on": _day("状态日期"),
}
assert list(PATCH_FIELDS) == PATCH_PROPERTIES + EXTRA_PROPERTIES, "every exported property is typed here"

#: Every property of a village feature.
VILLAGE_FIELDS: dict[str, dict] = {
    "code": _text("村级代码"),
    "name": _text("村级名称"),
    "parent_code": _text("乡镇代码"),
    "valid_from": _day("生效日期"),
    "valid_to": _day("失效日期"),
}

#: Feature ids are integers on every collection.
ID_FIELD = {"title": "要素编号", "type": "integer"}
#: Titles of queryables that are not properties of a feature.
OTHER_TITLES = {"version": "版本号", "geometry": "图斑范围"}

#: Patch properties the items query takes as ``name=value`` without a filter language, and how:
#: the keyword of :func:`~.patches.list_patches` and a function of the value.
PATCH_PARAMETERS = {"status": ("status", str), "village_code": ("village", str), "batch": ("batch", str),
                    "source": ("source", str), "patch_code": ("codes", lambda v: [v])}
#: Village properties the items query takes as ``name=value``.
VILLAGE_PARAMETERS = ("code", "name", "parent_code")


def fields(kind: str) -> dict[str, dict]:
    """The typed properties of ``kind`` (``patches`` or ``villages``)."""
    return PATCH_FIELDS if kind == "patches" else VILLAGE_FIELDS


def filter_queryables() -> dict[str, dict] | None:
    """The patch properties the filter language queries, typed; None while no filter is available."""
    try:
        from ..store.cql2 import QUERYABLES
        from .patches import parse_filter  # noqa: F401 - present when filters are
    except ImportError:
        return None
    found = {}
    for name, kind in QUERYABLES.items():
        if name in PATCH_FIELDS:
            found[name] = PATCH_FIELDS[name]
        elif kind == "geometry":
            found[name] = {"title": OTHER_TITLES.get(name, name), "format": "geometry-multipolygon"}
        else:
            found[name] = {"title": OTHER_TITLES.get(name, name), **_json_type(kind)}
    return found


def _json_type(kind) -> dict:
    """A JSON Schema type from what the filter module says of a property (a name or a schema)."""
    if isinstance(kind, dict):
        return dict(kind)
    name = str(getattr(kind, "__name__", kind)).lower()
    if name in ("date", "date-time"):
        return {"type": "string", "format": name}
    if name in ("datetime", "timestamp"):
        return {"type": "string", "format": "date-time"}
    if name in ("float", "number", "real", "double"):
        return {"type": "number"}
    if name in ("int", "integer"):
        return {"type": "integer"}
    if name in ("bool", "boolean"):
        return {"type": "boolean"}
    if name in ("list", "array"):
        return {"type": "array", "items": {"type": "string"}}
    return {"type": "string"}


def queryables(kind: str) -> dict[str, dict]:
    """The properties of ``kind`` that can be queried (by the filter, or as ``name=value``), typed."""
    if kind == "villages":
        return {name: VILLAGE_FIELDS[name] for name in VILLAGE_PARAMETERS}
    by_filter = filter_queryables()
    if by_filter is not None:
        return by_filter
    return {name: PATCH_FIELDS[name] for name in PATCH_PARAMETERS}


# --- extents -------------------------------------------------------------------------------

_cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_cache_lock = threading.Lock()


def collection_extents(store: Store, villages: Collection[str] | None = None) -> dict:
    """``{"patches": extent, "villages": extent, "batches": {batch id: extent}}`` of the current
    patches (those in ``villages``, a user's scope) and of the villages valid today.

    An extent is ``{"bbox": (west, south, east, north), "interval": (first, last)}`` (EPSG:4490
    degrees, issue dates; villages: their first day of validity, open-ended), or None when empty.
    Computed in SQL once per data version and scope.
    """
    scope = None if villages is None else tuple(sorted(villages))
    with store.engine.connect() as conn:
        version = extents_repo.data_version(conn)
        with _cache_lock:
            cached = _cache.get(store)
            if cached is not None and cached[0] == version and scope in cached[1]:
                return cached[1][scope]
        where, params = patches_repo.current_filters(store, villages=villages)
        batches = {row["batch_id"]: _extent(row["bbox"], row["first_issued"], row["last_issued"])
                   for row in extents_repo.batch_extents(conn, store, where, params)}
        units = extents_repo.unit_extent(conn, store, "village", date.today())
    found = {"patches": _union(list(batches.values())), "batches": batches,
             "villages": None if units is None else _extent(units["bbox"], units["first_valid"], None)}
    with _cache_lock:
        cached = _cache.get(store)
        if cached is None or cached[0] != version:
            cached = (version, {})
            _cache[store] = cached
        cached[1][scope] = found
    return found


def _extent(bbox, first, last) -> dict | None:
    if bbox is None:
        return None
    return {"bbox": bbox, "interval": (as_date(first), as_date(last))}


def _union(extents: list[dict | None]) -> dict | None:
    present = [e for e in extents if e is not None]
    if not present:
        return None
    boxes = [e["bbox"] for e in present]
    firsts = [e["interval"][0] for e in present if e["interval"][0]]
    lasts = [e["interval"][1] for e in present if e["interval"][1]]
    return {"bbox": (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes),
                     max(b[3] for b in boxes)),
            "interval": (min(firsts) if firsts else None, max(lasts) if lasts else None)}


# --- numberMatched ----------------------------------------------------------------------------

#: Counted exactly up to this many matching patches; above it PostGIS gives the planner's estimate.
EXACT_UP_TO = extents_repo.COUNTED_UP_TO


def number_matched(store: Store, **query) -> tuple[int, bool]:
    """(how many current patches match ``query`` — the filters of :func:`~.patches.count_patches` —,
    whether that is an estimate).

    Exact on SpatiaLite and below :data:`EXACT_UP_TO` on PostGIS, where a bounded count stops
    there; past it the planner's row estimate (at least the bound) answers, so the first page of
    a million patches does not wait for a full count.
    """
    where, params = patches_repo.current_filters(store, **query)
    with store.engine.connect() as conn:
        return extents_repo.count_matching(conn, store, where, params, EXACT_UP_TO)
