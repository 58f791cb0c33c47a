"""OGC API Features (Part 1 Core + GeoJSON + OpenAPI 3.0, Part 2 CRS, Part 3 queryables and
filters, Part 5 draft schemas) for GIS clients: QGIS, ArcGIS, GDAL, OWSLib.

Collections ``patches``, ``villages`` and one per batch (``batch-<id>``, that batch's
patches); ``datetime`` gives the state as of a date. Every request needs a login
(Bearer token or HTTP Basic, which QGIS, ArcGIS and GDAL all send), and a user
sees only the patches of their admin units.
Coordinates default to CRS84 (lon, lat); ``crs=EPSG:4490`` returns CGCS2000 in its
authority axis order (lat, lon), as Part 2 requires.

What clients learn before reading (see :mod:`.documents`): the OpenAPI description at
``/ogc/api`` (the landing page's ``service-desc``; ``limit`` defaults to 100, at most
10 000), per collection its extent from the data, ``/queryables``, ``/schema`` and the
GeoJSON feature schema (``describedby``) with the properties' real types.

``numberMatched`` is exact up to 100 000 matching patches; above that PostGIS answers the
planner's estimate and the page says ``"numberMatchedEstimated": true`` (GDAL and QGIS read
``numberMatched`` for the feature count and progress only; paging follows the ``next`` links).
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from ...catalogue import msg
from ...errors import NotFoundError
from ..deps import Caller, need
from ..responses import json_response
from . import filters
from .collections import (CGCS2000, CRS84, DEFAULT_LIMIT, MAX_LIMIT, base, collection_items, collection_page,
                          describe, extents_by_collection, geometries_json, parse_as_of, parse_bbox, parse_crs,
                          visible_batches, visible_collections)
from .documents import OPENAPI_MEDIA, SCHEMA_MEDIA, feature_document, openapi_document, queryables_document, \
    schema_document

__all__ = ["router", "collection_page", "collection_items", "CRS84", "CGCS2000"]

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-features-5/1.0/conf/schemas",
    "http://www.opengis.net/spec/ogcapi-features-5/1.0/conf/core-roles-features",
]

router = APIRouter(prefix="/ogc", tags=["ogc"])
reader = need("read")
COLLECTION_ID = Path(alias="collectionId", description="patches, villages or batch-<id>")


@router.get("")
def landing(request: Request, who: Caller = Depends(reader)):
    b = base(request)
    return json_response({"title": "geo_tracker", "description": "图斑 tracking: patches and villages", "links": [
        {"href": b, "rel": "self", "type": "application/json", "title": "this document"},
        {"href": f"{b}/api", "rel": "service-desc", "type": OPENAPI_MEDIA, "title": "OpenAPI 3.0"},
        {"href": f"{b}/conformance", "rel": "conformance", "type": "application/json"},
        {"href": f"{b}/collections", "rel": "data", "type": "application/json"},
    ]})


@router.get("/conformance")
def conformance(who: Caller = Depends(reader)):
    return json_response({"conformsTo": CONFORMANCE + filters.conformance()})


@router.get("/api")
def api(request: Request, who: Caller = Depends(reader)):
    """This OGC API's own OpenAPI 3.0 description, its paths relative to the landing page."""
    found = visible_collections(who.store, who.villages)
    return json_response(openapi_document(base(request), found, filters.described()), OPENAPI_MEDIA)


@router.get("/collections")
def collections(request: Request, who: Caller = Depends(reader)):
    batches = visible_batches(who.store, who.villages)
    found = visible_collections(who.store, who.villages, batches)
    extents = extents_by_collection(who.store, who.villages, batches)
    return json_response({"collections": [describe(request, c, t, d, extents.get(c)) for c, (t, d) in found.items()],
                          "links": [{"href": f"{base(request)}/collections", "rel": "self",
                                     "type": "application/json"}]})


def _collection(who: Caller, cid: str, batches: dict | None = None) -> tuple[str, str]:
    found = visible_collections(who.store, who.villages, batches)
    if cid not in found:
        raise NotFoundError(msg("ogc.no_collection", collection=cid))
    return found[cid]


@router.get("/collections/{collectionId}")
def collection(request: Request, cid: str = COLLECTION_ID, who: Caller = Depends(reader)):
    batches = visible_batches(who.store, who.villages)
    title, description = _collection(who, cid, batches)
    extent = extents_by_collection(who.store, who.villages, batches).get(cid)
    return json_response(describe(request, cid, title, description, extent))


@router.get("/collections/{collectionId}/queryables")
def collection_queryables(request: Request, cid: str = COLLECTION_ID, who: Caller = Depends(reader)):
    """The properties a filter or a ``name=value`` parameter can ask about, as JSON Schema (Part 3)."""
    title, _ = _collection(who, cid)
    return json_response(queryables_document(str(request.url), cid, title), SCHEMA_MEDIA)


@router.get("/collections/{collectionId}/schema")
def collection_schema(request: Request, cid: str = COLLECTION_ID, who: Caller = Depends(reader)):
    """Every property of the collection's features with its type and Chinese title (Part 5 draft)."""
    title, _ = _collection(who, cid)
    return json_response(schema_document(str(request.url), cid, title), SCHEMA_MEDIA)


@router.get("/collections/{collectionId}/schema/feature")
def collection_feature_schema(request: Request, cid: str = COLLECTION_ID, who: Caller = Depends(reader)):
    """The JSON Schema of one GeoJSON feature of the collection (its ``describedby`` link)."""
    title, _ = _collection(who, cid)
    return json_response(feature_document(str(request.url), cid, title), SCHEMA_MEDIA)


@router.get("/collections/{collectionId}/items")
def items(request: Request, cid: str = COLLECTION_ID, limit: int = Query(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
          offset: int = Query(default=0, ge=0), bbox: str | None = None, datetime: str | None = None,
          crs: str | None = None, status: str | None = None, village_code: str | None = None,
          batch: str | None = None, source: str | None = None, patch_code: str | None = None,
          filter: str | None = None, filter_lang: str | None = Query(default=None, alias="filter-lang"),
          filter_crs: str | None = Query(default=None, alias="filter-crs"), sortby: str | None = None,
          who: Caller = Depends(reader)):
    """A page of features. Besides Part 1's parameters: ``filter`` (CQL2, with ``filter-lang`` and
    ``filter-crs``), ``sortby``, and any queryable as ``name=value``."""
    out_crs = parse_crs(crs)
    area = parse_bbox(bbox, parse_crs(request.query_params.get("bbox-crs"), "bbox-crs"))
    as_of = parse_as_of(datetime)
    wanted = {"status": status, "village_code": village_code, "batch": batch, "source": source,
              "codes": [patch_code] if patch_code else None,
              **{k: v for k, v in request.query_params.items() if k in ("code", "name", "parent_code")}}
    extra = filters.listing_options(cid, request.query_params, filter, filter_lang, filter_crs, sortby)
    page = collection_items(who.store, cid, as_of, wanted, who.villages, area, limit, offset, **extra)
    head = {"type": "FeatureCollection", "numberMatched": page.matched, "numberReturned": len(page.features),
            **({"numberMatchedEstimated": True} if page.estimated else {})}
    body = features_json(head, page.features, out_crs, _item_links(request, cid, page, limit, offset))
    return Response(body, media_type="application/geo+json", headers={"Content-Crs": f"<{out_crs}>"})


def features_json(head: dict, features: list, crs: str, links: list[dict]) -> str:
    """The FeatureCollection as text, each geometry written by GEOS in one pass
    (:func:`.collections.geometries_json`) and spliced in, not rebuilt as Python lists."""
    geometries = geometries_json([g for _fid, g, _p in features], crs) if features else []
    items = ",".join(f'{{"type":"Feature","id":{int(fid)},"geometry":{g},"properties":{_dumps(p)}}}'
                     for (fid, _g, p), g in zip(features, geometries))
    return f'{_dumps(head)[:-1]},"features":[{items}],"links":{_dumps(links)}}}'


def _dumps(data) -> str:
    return json.dumps(data, ensure_ascii=False, default=str, separators=(",", ":"))


def _item_links(request: Request, cid: str, page, limit: int, offset: int) -> list[dict]:
    """``self``, and ``next`` while more may follow: known from an exact count, else from a full page."""
    links = [{"href": str(request.url), "rel": "self", "type": "application/geo+json"}]
    more = len(page.features) == limit and (page.estimated or offset + limit < page.matched)
    if more:
        query = [(k, v) for k, v in request.query_params.multi_items() if k not in ("offset", "limit")]
        params = urlencode([*query, ("offset", offset + limit), ("limit", limit)])
        links.append({"href": f"{base(request)}/collections/{cid}/items?{params}", "rel": "next",
                      "type": "application/geo+json"})
    return links


@router.get("/collections/{collectionId}/items/{featureId}")
def item(request: Request, cid: str = COLLECTION_ID, fid: int = Path(alias="featureId", ge=0, le=2**31 - 1),
         crs: str | None = None, datetime: str | None = None, who: Caller = Depends(reader)):
    out_crs = parse_crs(crs)
    _matched, found = collection_page(who.store, cid, parse_as_of(datetime), {"ids": [fid]}, who.villages)
    for feature_id, geom, props in found:
        if feature_id == fid:
            return json_response({"type": "Feature", "id": fid,
                                  "geometry": json.loads(geometries_json([geom], out_crs)[0]),
                                  "properties": props,
                                  "links": [{"href": str(request.url), "rel": "self", "type": "application/geo+json"}]},
                                 "application/geo+json", {"Content-Crs": f"<{out_crs}>"})
    raise NotFoundError(msg("ogc.no_feature", fid=fid, collection=cid))
