"""Filters of the items query (OGC API Features Part 3): ``filter``, ``filter-lang``, ``filter-crs``,
``sortby`` and the queryables as ``name=value``, read into what the patch listing takes.

A conformance class is declared with a sample expression of it, which the tests parse. ``filter-lang=cql-text``, the draft name of
``cql2-text`` that GDAL's OAPIF driver (up to 3.10 at least) sends, is read as cql2-text once
GDAL's spellings are made standard: a date as ``'2023-06-30T'``, a boolean as 1 or 0.
"""

from __future__ import annotations

import json
import re
from functools import cache

from ...catalogue import msg
from ...errors import InvalidQueryError
from ...services import ogc_meta
from ...services import patches as patch_service

PART3 = "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/"
CQL2 = "http://www.opengis.net/spec/cql2/1.0/conf/"
SORTING = "http://www.opengis.net/spec/ogcapi-features-8/1.0/conf/sorting"
_SPATIAL = ("S_INTERSECTS", "S_WITHIN", "S_CONTAINS", "S_DISJOINT", "S_TOUCHES", "S_CROSSES", "S_OVERLAPS",
            "S_EQUALS")
_BOX = "POLYGON((106 29, 107 29, 107 30, 106 30, 106 29))"
#: CQL2 conformance class -> cql2-text it needs understood; a class is declared when its text parses.
CLASS_SAMPLES = {
    CQL2 + "basic-cql2": "status = 'closed' AND NOT (area_mu < 1 OR cultivated_mu IS NULL) "
                         "AND issued_on >= DATE('2023-01-01') AND overdue = FALSE",
    CQL2 + "advanced-comparison-operators": "patch_code LIKE '50%' AND area_mu BETWEEN 1 AND 2 "
                                            "AND status IN ('closed', 'legal') AND batch NOT LIKE 'x%'",
    CQL2 + "case-insensitive-comparison": "CASEI(batch) = CASEI('b')",
    CQL2 + "basic-spatial-functions": "S_INTERSECTS(geometry, POINT(106.43 29.83)) "
                                      "OR S_INTERSECTS(geometry, BBOX(106, 29, 107, 30))",
    CQL2 + "basic-spatial-functions-plus": f"S_INTERSECTS(geometry, {_BOX}) "
                                           "OR S_INTERSECTS(geometry, LINESTRING(106 29, 107 30)) "
                                           "OR S_INTERSECTS(geometry, MULTIPOINT((106 29), (107 30)))",
    CQL2 + "spatial-functions": " OR ".join(f"{op}(geometry, {_BOX})" for op in _SPATIAL),
    CQL2 + "property-property": "rectified_mu < area_mu",
    CQL2 + "arithmetic": "area_mu * 0.5 + 1 > forest_mu - 2",
}
JSON_SAMPLE = '{"op": "=", "args": [{"property": "status"}, "closed"]}'
#: What GDAL's OAPIF driver writes for ``-where "status = 'closed' AND cultivated_mu IS NOT NULL OR
#: issued_on >= '2023-01-01' AND overdue = 0"``: cql-text is offered to GDAL once this parses.
GDAL_SAMPLE = ("((status = 'closed') AND (NOT ((cultivated_mu IS NULL)))) OR "
               "((issued_on >= '2023-01-01T') AND (overdue = 0))")
#: Parameters of the items query that are never a queryable's ``name=value``.
RESERVED = {"limit", "offset", "bbox", "bbox-crs", "crs", "datetime", "filter", "filter-lang", "filter-crs", "sortby",
            "f", "lang"}


#: The filter languages taken; cql-text is GDAL's name for cql2-text (read after :func:`gdal_cql_text`).
LANGUAGES = ("cql2-text", "cql2-json", "cql-text")


def conformance() -> list[str]:
    """The Part 3 filter, CQL2 and Part 8 sorting classes implemented (each class's sample in
    :data:`CLASS_SAMPLES` is parsed by the tests, so a class is declared only while it works)."""
    return [SORTING, PART3 + "filter", PART3 + "features-filter", CQL2 + "cql2-text", CQL2 + "cql2-json",
            *CLASS_SAMPLES]


def described() -> dict:
    """For the OpenAPI document: the filter languages and ``sortby``."""
    return {"langs": list(LANGUAGES), "sortby": True}


def listing_options(cid: str, query_params, text: str | None, lang: str | None, crs: str | None,
                    sortby: str | None) -> dict:
    """Keywords for :func:`~geo_tracker.services.patches.list_patches`: ``cql2`` (the filter and the
    queryables given as ``name=value``, parsed) and ``sortby``. The villages take neither."""
    if cid == "villages":
        if text or sortby:
            raise InvalidQueryError(msg("ogc.no_filter", collection=cid), field="filter" if text else "sortby")
        return {}
    equal = [(k, v) for k, v in query_params.multi_items()
             if k not in RESERVED and k not in ogc_meta.PATCH_PARAMETERS and k in _typed_queryables()]
    lang = lang or "cql2-text"
    if lang == "cql-text":
        text, lang = gdal_cql_text(text), "cql2-text"
    if lang not in LANGUAGES:
        raise InvalidQueryError(msg("filter.bad_lang", lang=lang, choices=", ".join(LANGUAGES)),
                                field="filter-lang")
    combined = _with_equalities(text, lang, equal)
    found = {}
    if combined is not None:
        found["cql2"] = patch_service.parse_filter(combined, lang, crs)
    # Without sortby, id order: stable across pages, and a first page of a province costs a page.
    found["sortby"] = patch_service.parse_sortby(sortby) if sortby else ()
    return found


@cache
def _typed_queryables() -> dict[str, dict]:
    return {name: schema for name, schema in ogc_meta.queryables("patches").items()
            if schema.get("type") in ("string", "number", "integer", "boolean")}


_NUMBER = re.compile(r"-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _literal(schema: dict, value: str):
    """``value`` of a ``name=value`` parameter as a CQL2 literal of the queryable's type: (text, JSON).
    A value that is not of the type stays a string, which the filter then refuses as a mismatch."""
    kind = schema.get("type")
    if kind in ("number", "integer") and _NUMBER.fullmatch(value):
        number = float(value) if kind == "number" else int(float(value))
        return repr(number), number
    if kind == "boolean" and value.lower() in ("true", "false", "1", "0"):
        flag = value.lower() in ("true", "1")
        return ("TRUE" if flag else "FALSE"), flag
    if schema.get("format") == "date" and _DAY.fullmatch(value):
        return f"DATE('{value}')", {"date": value}
    return "'" + value.replace("'", "''") + "'", value


def _with_equalities(text: str | None, lang: str, equal: list[tuple[str, str]]):
    """The filter AND every ``name=value`` (as ``name = value``), in the filter's language; None if neither."""
    if not equal:
        return text if text and text.strip() else None
    schemas = _typed_queryables()
    literals = [(name, _literal(schemas[name], value)) for name, value in equal]
    if lang == "cql2-json":
        nodes = [{"op": "=", "args": [{"property": name}, js]} for name, (_, js) in literals]
        if text and text.strip():
            try:
                nodes.insert(0, json.loads(text))
            except json.JSONDecodeError:
                return text                                   # the parser says where it is wrong
        return json.dumps(nodes[0] if len(nodes) == 1 else {"op": "and", "args": nodes}, ensure_ascii=False)
    parts = [f"{name} = {cql}" for name, (cql, _) in literals]
    if text and text.strip():
        parts.insert(0, f"({text})")
    return " AND ".join(parts)


_GDAL_DAY = re.compile(r"'(\d{4}-\d{2}-\d{2})T'")
_GDAL_MOMENT = re.compile(r"'(\d{4}-\d{2}-\d{2})T(\d{2})(?::(\d{2}))?(?::(\d{2}))?Z'")


def gdal_cql_text(text: str | None) -> str | None:
    """GDAL's cql-text as cql2-text: ``'2023-06-30T'`` is DATE('2023-06-30'), ``'…T10:30Z'`` a TIMESTAMP,
    and a boolean queryable compared with 1 or 0 (GDAL's booleans are integers) with TRUE or FALSE."""
    if not text:
        return text
    text = _GDAL_DAY.sub(lambda m: f"DATE('{m[1]}')", text)
    text = _GDAL_MOMENT.sub(lambda m: f"TIMESTAMP('{m[1]}T{m[2]}:{m[3] or '00'}:{m[4] or '00'}Z')", text)
    flags = [n for n, s in _typed_queryables().items() if s.get("type") == "boolean"]
    if flags:
        pattern = re.compile(r"\b(" + "|".join(map(re.escape, flags)) + r")\s*(=|<>)\s*([01])\b")
        text = pattern.sub(lambda m: f"{m[1]} {m[2]} {'TRUE' if m[3] == '1' else 'FALSE'}", text)
    return text
