"""The documents that describe the OGC API rather than its data: its own OpenAPI 3.0 description,
and per collection the queryables (Part 3), the schema of its properties (Part 5 draft,
"returnables") and the JSON Schema of one of its GeoJSON features (what GDAL reads for types).

The OpenAPI paths are relative to the landing page (``servers`` is the landing page's URL):
``/collections/{collectionId}/items`` is where GDAL and QGIS look for ``limit`` and for the
properties they may send as ``name=value``; the user's collections are listed as concrete paths
too, since newer GDAL looks the page size up under ``/collections/patches/items`` itself.
"""

from __future__ import annotations

from ...services.ogc_meta import ID_FIELD, fields, queryables
from .collections import CGCS2000, CRS84, DEFAULT_LIMIT, MAX_LIMIT, kind_of

OPENAPI_MEDIA = "application/vnd.oai.openapi+json;version=3.0"
SCHEMA_MEDIA = "application/schema+json"
JSON_SCHEMA = "https://json-schema.org/draft/2020-12/schema"
GEOMETRY = {"title": "图斑范围", "format": "geometry-multipolygon"}
VILLAGE_GEOMETRY = {"title": "村界", "format": "geometry-multipolygon"}


def _geometry(kind: str) -> dict:
    return dict(GEOMETRY if kind == "patches" else VILLAGE_GEOMETRY)


def queryables_document(url: str, cid: str, title: str) -> dict:
    """``/collections/{cid}/queryables``: what a filter (or ``name=value``) can ask about, typed."""
    kind = kind_of(cid)
    return {"$schema": JSON_SCHEMA, "$id": url, "type": "object", "title": f"{title}：可查询属性",
            "properties": dict(queryables(kind)), "additionalProperties": False}


def schema_document(url: str, cid: str, title: str) -> dict:
    """``/collections/{cid}/schema``: every property a feature carries, with its type and role."""
    kind = kind_of(cid)
    properties = {"id": {**ID_FIELD, "x-ogc-role": "id"},
                  "geometry": {**_geometry(kind), "x-ogc-role": "primary-geometry"}, **fields(kind)}
    if kind == "patches":
        properties["issued_on"] = {**properties["issued_on"], "x-ogc-role": "primary-instant"}
    return {"$schema": JSON_SCHEMA, "$id": url, "type": "object", "title": title, "properties": properties,
            "additionalProperties": False}


def feature_document(url: str, cid: str, title: str) -> dict:
    """``/collections/{cid}/schema/feature``: the JSON Schema of one GeoJSON feature of the collection
    (``describedby``), from which GDAL's OAPIF driver types its fields: numbers as Real, dates as Date."""
    kind = kind_of(cid)
    return {"$schema": JSON_SCHEMA, "$id": url, "title": title, "type": "object",
            "required": ["type", "geometry", "properties"],
            "properties": {"type": {"type": "string", "enum": ["Feature"]}, "id": dict(ID_FIELD),
                           "geometry": {"$ref": "https://geojson.org/schema/MultiPolygon.json"},
                           "properties": {"type": "object", "properties": dict(fields(kind))}}}


def _parameter(name: str, description: str, schema: dict, where: str = "query", **more) -> dict:
    return {"name": name, "in": where, "description": description, "schema": schema, **more}


def _parameters(filters: dict | None) -> dict:
    """The parameters every path refers to, by name under ``#/components/parameters``."""
    found = {
        "collectionId": _parameter("collectionId", "图层编号：patches、villages 或 batch-<批次编号>", {"type": "string"},
                                   "path", required=True),
        "featureId": _parameter("featureId", "要素编号", {"type": "integer"}, "path", required=True),
        "limit": _parameter("limit", "每页要素数", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT,
                                                  "default": DEFAULT_LIMIT}, style="form", explode=False),
        "offset": _parameter("offset", "跳过的要素数", {"type": "integer", "minimum": 0, "default": 0}),
        "bbox": _parameter("bbox", "范围：西,南,东,北（bbox-crs 为 EPSG:4490 时为 南,西,北,东）",
                           {"type": "array", "minItems": 4, "maxItems": 4, "items": {"type": "number"}},
                           style="form", explode=False),
        "bbox-crs": _parameter("bbox-crs", "bbox 的坐标系", {"type": "string", "enum": [CRS84, CGCS2000]}),
        "crs": _parameter("crs", "返回坐标的坐标系", {"type": "string", "enum": [CRS84, CGCS2000]}),
        "datetime": _parameter("datetime", "某日的状态（日期，或时间段取其终点）", {"type": "string"}),
    }
    if filters is not None:
        found["filter"] = _parameter("filter", "CQL2 筛选条件", {"type": "string"})
        found["filter-lang"] = _parameter("filter-lang", "筛选条件的语言（cql-text 为 cql2-text 的草案名称）",
                                          {"type": "string", "enum": filters["langs"], "default": "cql2-text"})
        found["filter-crs"] = _parameter("filter-crs", "筛选条件中坐标的坐标系",
                                         {"type": "string", "enum": [CRS84, CGCS2000]})
        if filters.get("sortby"):
            found["sortby"] = _parameter("sortby", "排序：属性名，前加 - 为降序，逗号分隔",
                                         {"type": "array", "items": {"type": "string"}}, style="form", explode=False)
    return found


def _items_get(cid: str | None, parameter_names: list[str], queryable_names: list[str], summary: str) -> dict:
    refs = ([{"$ref": "#/components/parameters/collectionId"}] if cid is None else []) + \
        [{"$ref": f"#/components/parameters/{n}"} for n in parameter_names] + \
        [{"$ref": f"#/components/parameters/q.{n}"} for n in queryable_names]
    return {"get": {"summary": summary, "operationId": f"items.{cid or 'collection'}", "tags": ["要素"],
                    "parameters": refs,
                    "responses": {"200": {"description": "要素（GeoJSON FeatureCollection）",
                                          "content": {"application/geo+json": {}}},
                                  "400": {"$ref": "#/components/responses/invalid"},
                                  "404": {"$ref": "#/components/responses/not_found"}}}}


def _simple(summary: str, media: str, operation: str, with_collection: bool = False,
            with_feature: bool = False) -> dict:
    refs = ([{"$ref": "#/components/parameters/collectionId"}] if with_collection else []) + \
        ([{"$ref": "#/components/parameters/featureId"}] if with_feature else [])
    return {"get": {"summary": summary, "operationId": operation, "parameters": refs,
                    "responses": {"200": {"description": summary, "content": {media: {}}},
                                  "404": {"$ref": "#/components/responses/not_found"}}}}


def openapi_document(landing: str, collections: dict[str, tuple[str, str]], filters: dict | None) -> dict:
    """The OpenAPI 3.0 description of this OGC API for one user (their collections), paths relative
    to ``landing``. ``filters``: the filter languages (``langs``) and whether ``sortby`` is taken,
    or None where no filter is available."""
    parameters = _parameters(filters)
    common = ["limit", "offset", "bbox", "bbox-crs", "crs", "datetime"] + \
        [n for n in ("filter", "filter-lang", "filter-crs", "sortby") if n in parameters]
    by_kind = {kind: list(queryables(kind)) for kind in ("patches", "villages")}
    for kind, names in by_kind.items():
        for name, schema in queryables(kind).items():
            if "type" in schema and schema["type"] in ("string", "number", "integer", "boolean"):
                parameters[f"q.{name}"] = _parameter(name, f"{schema.get('title', name)}等于此值",
                                                     {k: v for k, v in schema.items() if k != "title"})
        by_kind[kind] = [n for n in names if f"q.{n}" in parameters]
    paths = {
        "/": _simple("登陆页", "application/json", "landing"),
        "/conformance": _simple("符合的标准", "application/json", "conformance"),
        "/api": _simple("本文档", OPENAPI_MEDIA, "api"),
        "/collections": _simple("图层列表", "application/json", "collections"),
        "/collections/{collectionId}": _simple("图层", "application/json", "collection", True),
        "/collections/{collectionId}/items": _items_get(None, common, by_kind["patches"], "要素"),
        "/collections/{collectionId}/items/{featureId}": _simple("一个要素", "application/geo+json", "item", True, True),
        "/collections/{collectionId}/queryables": _simple("可查询属性", SCHEMA_MEDIA, "queryables", True),
        "/collections/{collectionId}/schema": _simple("属性及类型", SCHEMA_MEDIA, "schema", True),
        "/collections/{collectionId}/schema/feature": _simple("GeoJSON要素的JSON Schema", SCHEMA_MEDIA,
                                                              "feature_schema", True),
    }
    for cid, (title, _description) in collections.items():
        paths[f"/collections/{cid}/items"] = _items_get(cid, common, by_kind[kind_of(cid)], f"{title}：要素")
    error = {"content": {"application/json": {"schema": {"type": "object", "properties": {
        "code": {"type": "string"}, "message": {"type": "string"}}}}}}
    return {
        "openapi": "3.0.3",
        "info": {"title": "geo_tracker OGC API Features", "version": "1.0",
                 "description": "图斑与行政村（OGC API Features 第1、2、3部分）。每次请求都需登录：HTTP Basic 或 Bearer 令牌。"},
        "servers": [{"url": landing}],
        "security": [{"basic": []}, {"bearer": []}],
        "paths": paths,
        "components": {
            "parameters": parameters,
            "responses": {"invalid": {"description": "参数无效", **error}, "not_found": {"description": "不存在", **error}},
            "securitySchemes": {"basic": {"type": "http", "scheme": "basic"},
                                "bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
