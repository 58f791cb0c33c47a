"""OGC API Features (Part 1 Core + GeoJSON, Part 2 CRS) for GIS clients: QGIS, ArcGIS, GDAL.

Collections ``patches``, ``villages`` and one per batch (``batch-<id>``, that batch's
patches); ``datetime`` gives the state as of a date. Every request needs a login
(Bearer token or HTTP Basic, which QGIS, ArcGIS and GDAL all send), and a user
sees only the patches of their admin units.
Coordinates default to CRS84 (lon, lat); ``crs=EPSG:4490`` returns CGCS2000 in its
authority axis order (lat, lon), as Part 2 requires.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import shapely
from fastapi import APIRouter, Depends, Path, Query, Request

from ..catalogue import msg
from ..errors import InvalidValueError, NotFoundError
from ..services.batches import list_batches
from ..services.boundaries import village_units
from ..core.values import plain
from ..services.patches import EXTRA_PROPERTIES, PATCH_PROPERTIES, count_patches, list_patches
from ..store import Store
from .deps import Caller, need
from .responses import json_response

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CGCS2000 = "http://www.opengis.net/def/crs/EPSG/0/4490"
CRS_ALIASES = {CRS84: CRS84, "CRS84": CRS84, "OGC:CRS84": CRS84, CGCS2000: CGCS2000, "EPSG:4490": CGCS2000}
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
]
COLLECTIONS = {
    "patches": "图斑 (patches) with status, rectification and village",
    "villages": "行政村 (village boundaries)",
}
MAX_LIMIT = 10_000


def _crs(value: str | None) -> str:
    if value is None:
        return CRS84
    if value not in CRS_ALIASES:
        raise InvalidValueError(msg("ogc.bad_crs", crs=value, crs84=CRS84, cgcs2000=CGCS2000), field="crs")
    return CRS_ALIASES[value]


def _as_of(value: str | None) -> date | None:
    """``datetime``: an instant (the state then) or an interval whose end is taken."""
    if not value:
        return None
    end = value.split("/")[-1]
    if end in ("..", ""):
        return None
    try:
        return date.fromisoformat(end[:10])
    except ValueError:
        raise InvalidValueError(msg("ogc.bad_datetime", value=value), field="datetime") from None


def _bbox(value: str | None, crs: str):
    if not value:
        return None
    try:
        numbers = [float(v) for v in value.split(",")]
    except ValueError:
        raise InvalidValueError(msg("ogc.bbox_not_numbers", value=value), field="bbox") from None
    if len(numbers) != 4:
        raise InvalidValueError(msg("ogc.bbox_shape", value=value), field="bbox")
    if crs == CGCS2000:  # lat, lon order
        numbers = [numbers[1], numbers[0], numbers[3], numbers[2]]
    return shapely.box(*numbers)


def _geometry(geom, crs: str) -> dict:
    geom = shapely.transform(geom, lambda xy: np.round(xy, 8))
    if crs == CGCS2000:
        geom = shapely.transform(geom, lambda xy: xy[:, ::-1])
    return shapely.geometry.mapping(geom)


def _batches(store: Store, villages=None) -> dict[str, dict]:
    """One collection per batch the user has a patch in."""
    rows = sorted(list_batches(store, villages=villages), key=lambda b: (b["issued_on"], b["name"]))
    return {f"batch-{b['id']}": {"name": b["name"], "source": b["source"], "issued_on": b["issued_on"]} for b in rows}


def _collections(store: Store, villages=None) -> dict[str, str]:
    found = dict(COLLECTIONS)
    for cid, b in _batches(store, villages).items():
        found[cid] = f"批次 {b['name']} ({b['source']}, {b['issued_on']}): its patches"
    return found


def collection_page(store: Store, collection: str, as_of: date | None, filters: dict, villages=None, area=None,
          limit: int | None = None, offset: int = 0) -> tuple[int, list]:
    """(numberMatched, the page's features). Current patches are counted, filtered and paged in SQL."""
    batch = None
    if collection.startswith("batch-"):
        batch = _batches(store, villages).get(collection)
        if batch is None:
            raise NotFoundError(msg("ogc.no_collection", collection=collection))
    if collection == "patches" or batch is not None:
        query = dict(batch=batch["name"] if batch else filters.get("batch"),
                     source=batch["source"] if batch else filters.get("source"), status=filters.get("status"),
                     village=filters.get("village_code"), villages=villages,
                     bbox=area.bounds if area is not None else None, ids=filters.get("ids"))
        if as_of is None:
            matched = count_patches(store, **query)
            frame = list_patches(store, limit=limit, offset=offset, **query)
        else:
            frame = list_patches(store, as_of=as_of, **query)
            matched = len(frame)
            frame = frame.iloc[offset:offset + limit] if limit is not None else frame
        names = PATCH_PROPERTIES + EXTRA_PROPERTIES
        return matched, [(int(row.id), row.geometry, {k: plain(getattr(row, k)) for k in names})
                         for row in frame.itertuples()]
    if collection != "villages":
        raise NotFoundError(msg("ogc.no_collection_named", collection=collection, collections=", ".join(COLLECTIONS)))
    found = _villages(store, as_of, filters)
    if area is not None:
        found = [f for f in found if f[1].intersects(area)]
    return len(found), found[offset:offset + limit] if limit is not None else found[offset:]


def _villages(store: Store, as_of: date | None, filters: dict) -> list:
    units = village_units(store, valid_on=as_of)
    return [(int(u.id), u.geometry, {"code": u.code, "name": u.name, "parent_code": u.parent_code,
                                     "valid_from": u.valid_from, "valid_to": u.valid_to})
            for u in units.itertuples()
            if not filters.get("village_code") or u.code == filters["village_code"]]


router = APIRouter(prefix="/ogc", tags=["ogc"])
reader = need("read")


def base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/ogc"


def describe(request: Request, cid: str, description: str) -> dict:
    b = base(request)
    return {"id": cid, "title": cid, "description": description, "itemType": "feature",
            "crs": [CRS84, CGCS2000], "storageCrs": CGCS2000,
            "extent": {"spatial": {"bbox": [[73.0, 3.0, 136.0, 54.0]], "crs": CRS84}},
            "links": [{"href": f"{b}/collections/{cid}", "rel": "self", "type": "application/json"},
                      {"href": f"{b}/collections/{cid}/items", "rel": "items", "type": "application/geo+json"}]}


@router.get("")
def landing(request: Request, who: Caller = Depends(reader)):
    b = base(request)
    return json_response({"title": "geo_tracker", "description": "图斑 tracking: patches and villages", "links": [
        {"href": b, "rel": "self", "type": "application/json", "title": "this document"},
        {"href": str(request.base_url).rstrip("/") + "/api/v1/openapi.json", "rel": "service-desc",
         "type": "application/vnd.oai.openapi+json;version=3.0", "title": "OpenAPI"},
        {"href": f"{b}/conformance", "rel": "conformance", "type": "application/json"},
        {"href": f"{b}/collections", "rel": "data", "type": "application/json"},
    ]})


@router.get("/conformance")
def conformance(who: Caller = Depends(reader)):
    return json_response({"conformsTo": CONFORMANCE})


@router.get("/collections")
def collections(request: Request, who: Caller = Depends(reader)):
    found = _collections(who.store, who.villages)
    return json_response({"collections": [describe(request, c, d) for c, d in found.items()],
                          "links": [{"href": f"{base(request)}/collections", "rel": "self",
                                     "type": "application/json"}]})


@router.get("/collections/{cid}")
def collection(request: Request, cid: str, who: Caller = Depends(reader)):
    found = _collections(who.store, who.villages)
    if cid not in found:
        raise NotFoundError(msg("ogc.no_collection", collection=cid))
    return json_response(describe(request, cid, found[cid]))


@router.get("/collections/{cid}/items")
def items(request: Request, cid: str, limit: int = Query(default=100, ge=1, le=MAX_LIMIT),
          offset: int = Query(default=0, ge=0), bbox: str | None = None, datetime: str | None = None,
          crs: str | None = None, status: str | None = None, village_code: str | None = None,
          batch: str | None = None, source: str | None = None, who: Caller = Depends(reader)):
    out_crs = _crs(crs)
    area = _bbox(bbox, _crs(request.query_params.get("bbox-crs")))
    filters = {"status": status, "village_code": village_code, "batch": batch, "source": source}
    matched, page = collection_page(who.store, cid, _as_of(datetime), filters, who.villages, area, limit, offset)
    data = {"type": "FeatureCollection", "numberMatched": matched, "numberReturned": len(page),
            "features": [{"type": "Feature", "id": fid, "geometry": _geometry(g, out_crs), "properties": p}
                         for fid, g, p in page],
            "links": _item_links(request, cid, matched, limit, offset)}
    return json_response(data, "application/geo+json", {"Content-Crs": f"<{out_crs}>"})


def _item_links(request: Request, cid: str, matched: int, limit: int, offset: int) -> list[dict]:
    links = [{"href": str(request.url), "rel": "self", "type": "application/geo+json"}]
    if offset + limit < matched:
        query = {k: v for k, v in request.query_params.items() if k != "offset"}
        params = "&".join(f"{k}={v}" for k, v in {**query, "offset": offset + limit, "limit": limit}.items())
        links.append({"href": f"{base(request)}/collections/{cid}/items?{params}", "rel": "next",
                      "type": "application/geo+json"})
    return links


@router.get("/collections/{cid}/items/{fid}")
def item(request: Request, cid: str, fid: int = Path(ge=0, le=2**31 - 1), crs: str | None = None,
         datetime: str | None = None, who: Caller = Depends(reader)):
    out_crs = _crs(crs)
    _matched, found = collection_page(who.store, cid, _as_of(datetime), {"ids": [fid]}, who.villages)
    for feature_id, geom, props in found:
        if feature_id == fid:
            return json_response({"type": "Feature", "id": fid, "geometry": _geometry(geom, out_crs),
                                  "properties": props,
                                  "links": [{"href": str(request.url), "rel": "self", "type": "application/geo+json"}]},
                                 "application/geo+json", {"Content-Crs": f"<{out_crs}>"})
    raise NotFoundError(msg("ogc.no_feature", fid=fid, collection=cid))
