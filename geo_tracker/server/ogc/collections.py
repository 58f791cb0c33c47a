"""The collections and their pages: which exist for a user, how one is described, what a page holds.

``patches``, ``villages`` and one per batch (``batch-<id>``, that batch's patches). Request
values (``crs``, ``bbox``, ``datetime``) are read here too, so the routes only wire them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

import numpy as np
import shapely
from fastapi import Request

from ...catalogue import msg
from ...core.values import plain
from ...errors import InvalidQueryError, NotFoundError
from ...services.batches import list_batches
from ...services.boundaries import village_units
from ...services.ogc_meta import VILLAGE_PARAMETERS, collection_extents, number_matched
from ...services.patches import EXTRA_PROPERTIES, PATCH_PROPERTIES, current_page, list_patches
from ...store import Store

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CGCS2000 = "http://www.opengis.net/def/crs/EPSG/0/4490"
CRS_ALIASES = {CRS84: CRS84, "CRS84": CRS84, "OGC:CRS84": CRS84, CGCS2000: CGCS2000, "EPSG:4490": CGCS2000}
GREGORIAN = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"
#: The fixed collections, with their titles and descriptions.
COLLECTIONS = {
    "patches": ("图斑", "图斑 (patches) with status, rectification and village"),
    "villages": ("行政村", "行政村 (village boundaries)"),
}
#: Every property of a patch feature, in the order the schema gives them.
PROPERTIES = PATCH_PROPERTIES + EXTRA_PROPERTIES
DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000
#: Link relations of OGC API Features Parts 3 and 5.
REL_QUERYABLES = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
REL_SCHEMA = "http://www.opengis.net/def/rel/ogc/1.0/schema"
#: The feature schema's relation, as registered and as GDAL up to 3.7 compares it (case-sensitively).
DESCRIBED_BY = ("describedby", "describedBy")


def parse_crs(value: str | None, field: str = "crs") -> str:
    if value is None:
        return CRS84
    if value not in CRS_ALIASES:
        raise InvalidQueryError(msg("ogc.bad_crs", crs=value, crs84=CRS84, cgcs2000=CGCS2000), field=field)
    return CRS_ALIASES[value]


def parse_as_of(value: str | None) -> date | None:
    """``datetime``: an instant (the state then) or an interval whose end is taken."""
    if not value:
        return None
    end = value.split("/")[-1]
    if end in ("..", ""):
        return None
    try:
        return date.fromisoformat(end[:10])
    except ValueError:
        raise InvalidQueryError(msg("ogc.bad_datetime", value=value), field="datetime") from None


def parse_bbox(value: str | None, crs: str):
    if not value:
        return None
    try:
        numbers = [float(v) for v in value.split(",")]
    except ValueError:
        raise InvalidQueryError(msg("ogc.bbox_not_numbers", value=value), field="bbox") from None
    if len(numbers) != 4 or not all(math.isfinite(n) for n in numbers):
        raise InvalidQueryError(msg("ogc.bbox_shape", value=value), field="bbox")
    if crs == CGCS2000:  # lat, lon order
        numbers = [numbers[1], numbers[0], numbers[3], numbers[2]]
    return shapely.box(*numbers)


def geometries_json(geoms, crs: str) -> list[str]:
    """Each geometry as GeoJSON text, coordinates rounded to 8 decimals (about a millimetre) and in
    ``crs``'s axis order: one pass through GEOS for a whole page."""
    geoms = shapely.transform(np.asarray(geoms, dtype=object), lambda xy: np.round(xy, 8))
    if crs == CGCS2000:
        geoms = shapely.transform(geoms, lambda xy: xy[:, ::-1])
    return shapely.to_geojson(geoms).tolist()


def base(request: Request) -> str:
    """The landing page's URL: every OGC link starts here."""
    return str(request.base_url).rstrip("/") + "/ogc"


def visible_batches(store: Store, villages=None) -> dict[str, dict]:
    """One collection per batch the user has a patch in."""
    rows = sorted(list_batches(store, villages=villages), key=lambda b: (b["issued_on"], b["name"]))
    return {f"batch-{b['id']}": {"id": b["id"], "name": b["name"], "source": b["source"],
                                 "issued_on": b["issued_on"]} for b in rows}


def visible_collections(store: Store, villages=None, batches: dict | None = None) -> dict[str, tuple[str, str]]:
    """Collection id -> (title, description), for the user's scope (``batches``: its visible batches)."""
    found = dict(COLLECTIONS)
    for cid, b in (visible_batches(store, villages) if batches is None else batches).items():
        found[cid] = (b["name"], f"批次 {b['name']} ({b['source']}, {b['issued_on']}): its patches")
    return found


def kind_of(collection: str) -> str:
    """``villages`` or ``patches`` (the patch collection and every batch's)."""
    return "villages" if collection == "villages" else "patches"


def describe(request: Request, cid: str, title: str, description: str, extent: dict | None) -> dict:
    b = f"{base(request)}/collections/{cid}"
    found = {"id": cid, "title": title, "description": description, "itemType": "feature",
             "crs": [CRS84, CGCS2000], "storageCrs": CGCS2000,
             "links": [{"href": b, "rel": "self", "type": "application/json", "title": title},
                       {"href": f"{b}/items", "rel": "items", "type": "application/geo+json", "title": "要素"},
                       {"href": f"{b}/queryables", "rel": REL_QUERYABLES, "type": "application/schema+json",
                        "title": "可查询属性"},
                       {"href": f"{b}/schema", "rel": REL_SCHEMA, "type": "application/schema+json",
                        "title": "属性及类型"},
                       *({"href": f"{b}/schema/feature", "rel": rel, "type": "application/schema+json",
                          "title": "GeoJSON要素的JSON Schema"} for rel in DESCRIBED_BY)]}
    if extent is not None:
        found["extent"] = extent_json(extent)
    return found


def extent_json(extent: dict) -> dict:
    """An extent of :func:`~geo_tracker.services.ogc_meta.collection_extents` as OGC JSON: the box
    widened outward to 1e-7 degrees, the interval as RFC 3339 instants (null: open)."""
    west, south, east, north = extent["bbox"]
    box = [math.floor(west * 1e7) / 1e7, math.floor(south * 1e7) / 1e7,
           math.ceil(east * 1e7) / 1e7, math.ceil(north * 1e7) / 1e7]
    first, last = extent["interval"]
    return {"spatial": {"bbox": [box], "crs": CRS84},
            "temporal": {"interval": [[_instant(first), _instant(last)]], "trs": GREGORIAN}}


def _instant(day: date | None) -> str | None:
    return f"{day.isoformat()}T00:00:00Z" if day else None


def extents_by_collection(store: Store, villages=None, batches: dict | None = None) -> dict[str, dict | None]:
    """Collection id -> its extent (from the data, cached until the data changes)."""
    found = collection_extents(store, villages)
    batches = visible_batches(store, villages) if batches is None else batches
    return {"patches": found["patches"], "villages": found["villages"],
            **{cid: found["batches"].get(b["id"]) for cid, b in batches.items()}}


@dataclass
class Page:
    """One page of a collection: how many match (an estimate when ``estimated``), and its features
    as (id, geometry, properties)."""

    matched: int
    estimated: bool
    features: list


def collection_items(store: Store, collection: str, as_of: date | None, filters: dict, villages=None, area=None,
                     limit: int | None = None, offset: int = 0, **extra) -> Page:
    """A page of ``collection``. Current patches are counted, filtered and paged in SQL; ``extra``
    goes to :func:`~geo_tracker.services.patches.list_patches` (e.g. a parsed filter, sortby)."""
    batch = None
    if collection.startswith("batch-"):
        batch = visible_batches(store, villages).get(collection)
        if batch is None:
            raise NotFoundError(msg("ogc.no_collection", collection=collection))
    if collection == "patches" or batch is not None:
        query = dict(batch=batch["name"] if batch else filters.get("batch"),
                     source=batch["source"] if batch else filters.get("source"), status=filters.get("status"),
                     village=filters.get("village_code"), villages=villages, codes=filters.get("codes"),
                     bbox=area.bounds if area is not None else None, ids=filters.get("ids"))
        if as_of is None:
            return _current_page(store, query, extra, limit, offset)
        frame = list_patches(store, as_of=as_of, **query, **extra)
        matched = len(frame)
        frame = frame.iloc[offset:offset + limit] if limit is not None else frame
        return Page(matched, False, [(int(row.id), row.geometry, {k: plain(getattr(row, k)) for k in PROPERTIES})
                                     for row in frame.itertuples()])
    if collection != "villages":
        raise NotFoundError(msg("ogc.no_collection_named", collection=collection, collections=", ".join(COLLECTIONS)))
    found = _villages(store, as_of, filters)
    if area is not None:
        found = [f for f in found if f[1].intersects(area)]
    return Page(len(found), False, found[offset:offset + limit] if limit is not None else found[offset:])


def _current_page(store: Store, query: dict, extra: dict, limit: int | None, offset: int) -> Page:
    """A page of current patches from their stored state: its queries, no folding, no frame."""
    records, wkbs = current_page(store, limit=limit, offset=offset, **query, **extra)
    counted = {k: v for k, v in extra.items() if k != "sortby"}
    matched, estimated = number_matched(store, **query, **counted)
    geoms = shapely.from_wkb(wkbs) if wkbs else []
    return Page(matched, estimated, [(r["id"], g, plain({k: r[k] for k in PROPERTIES}))
                                     for r, g in zip(records, geoms)])


def collection_page(store: Store, collection: str, as_of: date | None, filters: dict, villages=None, area=None,
                    limit: int | None = None, offset: int = 0) -> tuple[int, list]:
    """(numberMatched, the page's features): :func:`collection_items` without its extras."""
    page = collection_items(store, collection, as_of, filters, villages, area, limit, offset)
    return page.matched, page.features


def _villages(store: Store, as_of: date | None, filters: dict) -> list:
    units = village_units(store, valid_on=as_of)
    wanted = {name: filters[name] for name in VILLAGE_PARAMETERS if filters.get(name)}
    if filters.get("village_code"):
        wanted["code"] = filters["village_code"]
    found = []
    for u in units.itertuples():
        props = {"code": u.code, "name": u.name, "parent_code": u.parent_code, "valid_from": u.valid_from,
                 "valid_to": u.valid_to}
        if all(props[k] == v for k, v in wanted.items()) and (not filters.get("ids") or int(u.id) in filters["ids"]):
            found.append((int(u.id), u.geometry, props))
    return found
