"""CQL2 filters and sortby (OGC API Features Part 3) as SQL over the current-patch query.

pygeofilter parses: its cql2-text grammar and transformer, its cql2-json walker. This module only
checks the tree it gives against :data:`QUERYABLES` and writes one WHERE fragment over the aliases
of :mod:`.patches` (p patches, b batches, i batch_imports, m patch_matches). Every value of the
filter is a bind parameter ``:cql_N``: nothing a user wrote is ever part of the SQL text.
Spatial predicates go through the store's own geometry and spatial-index SQL, as ``bbox`` does.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path

import shapely
from pygeofilter import ast, values

from ..catalogue import Message, msg
from ..core.lifecycle import OPEN_STATUSES, sql_list
from ..errors import InvalidQueryError

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CGCS2000 = "http://www.opengis.net/def/crs/EPSG/0/4490"
#: ``filter-crs`` values: CRS84 (lon, lat; the default) or CGCS2000 (EPSG:4490, lat, lon as its axes say).
FILTER_CRS = {CRS84: CRS84, "CRS84": CRS84, "OGC:CRS84": CRS84, "urn:ogc:def:crs:OGC:1.3:CRS84": CRS84,
              CGCS2000: CGCS2000, "EPSG:4490": CGCS2000, "urn:ogc:def:crs:EPSG::4490": CGCS2000}
FILTER_LANGS = ("cql2-text", "cql2-json")


# --- the queryables ---------------------------------------------------------------------

@dataclass(frozen=True)
class Queryable:
    """A property a filter or sortby may name: its CQL2 type and its SQL over p, b, i, m.
    ``state``: part of the current state, which differs at a past date."""

    type: str
    sql: str
    state: bool = False


_DEADLINE = "coalesce(p.deadline, b.deadline)"
#: When the current status began: its event's date, else (still 下发) the issue date, as the fold says.
STATUS_ON = "coalesce(p.status_on, i.issued_on, b.issued_on)"
_QUERYABLES: dict[str, Queryable] = {
    "patch_code": Queryable("string", "p.patch_code"),
    "batch": Queryable("string", "b.name"),
    "source": Queryable("string", "b.source"),
    "issued_on": Queryable("date", "coalesce(i.issued_on, b.issued_on)"),
    "area_mu": Queryable("number", "p.area_mu"),
    "issued_area_mu": Queryable("number", "p.issued_area_mu"),
    "cultivated_mu": Queryable("number", "p.cultivated_mu"),
    "cultivated_source": Queryable("string", "p.cultivated_source"),
    "forest_mu": Queryable("number", "p.forest_mu"),
    "village_code": Queryable("string", "m.village_code"),
    "village_name": Queryable("string", "m.village_name"),
    # as list_patches shows it: unknown (null) for a patch neither matched nor outside
    "outside": Queryable("boolean", "(CASE WHEN m.outside OR coalesce(m.village_code, '') <> '' "
                                    "THEN coalesce(m.outside, false) END)"),
    "straddles": Queryable("boolean", "coalesce(m.straddles, false)"),
    "nearest_code": Queryable("string", "m.nearest_code"),
    "nearest_distance_m": Queryable("number", "m.nearest_distance_m"),
    "deadline": Queryable("date", _DEADLINE),
    # the stored current state, kept by every recorded event (the fold of them: migration 0011)
    "status": Queryable("string", "p.status", state=True),
    "status_on": Queryable("date", STATUS_ON, state=True),
    "rectified_mu": Queryable("number", "p.rectified_mu", state=True),
    "rectified_cultivated_mu": Queryable("number", "p.rectified_cultivated_mu", state=True),
    "overdue": Queryable("boolean", f"({_DEADLINE} IS NOT NULL AND {_DEADLINE} < :cql_today "
                                    f"AND p.status IN ({sql_list(OPEN_STATUSES)}))", state=True),
    "geometry": Queryable("geometry", "p.geom"),
}

#: Every queryable and its type (number, integer, string, date, boolean, geometry): for /queryables.
QUERYABLES: dict[str, str] = {name: q.type for name, q in _QUERYABLES.items()}
#: What ``sortby`` takes: every queryable but the geometry.
SORTABLE = [name for name, kind in QUERYABLES.items() if kind != "geometry"]
SUPPORTED = ("=, <>, <, <=, >, >=, AND, OR, NOT, IS NULL, IN, BETWEEN, LIKE, ILIKE, CASEI, + - * /, "
             "S_INTERSECTS, S_WITHIN, S_CONTAINS, S_DISJOINT, S_TOUCHES, S_CROSSES, S_OVERLAPS, S_EQUALS, BBOX")


def _sql_of(store, name: str) -> str:
    q = _QUERYABLES[name]
    return q.sql


# --- parsing ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Filter:
    """A parsed CQL2 filter, checked against the queryables: what :func:`where` turns into SQL."""

    tree: object
    crs: str
    properties: frozenset[str]


def parse(text: str | dict | None, lang: str | None = "cql2-text", crs: str | None = None) -> Filter | None:
    """``filter`` in ``filter-lang`` with geometries in ``filter-crs``, parsed and checked (None: no filter).

    Everything that can be wrong with a filter is found here, before any query runs.
    """
    if text is None or (isinstance(text, str) and not text.strip()):
        return None
    lang = lang or "cql2-text"
    if lang not in FILTER_LANGS:
        raise InvalidQueryError(msg("filter.bad_lang", lang=lang, choices=", ".join(FILTER_LANGS)), field="filter-lang")
    axes = filter_crs(crs)
    check = _Sql(_Checking(), axes, date.today())
    try:
        tree = _parse_json(text) if lang == "cql2-json" or not isinstance(text, str) else _parse_text(text)
        check.condition(tree)
    except RecursionError:
        raise InvalidQueryError(msg("filter.too_deep"), field="filter") from None
    return Filter(tree, axes, frozenset(check.used))


def filter_crs(value: str | None) -> str:
    """CRS84 or CGCS2000 for a ``filter-crs`` value (CRS84 when not given)."""
    if not value:
        return CRS84
    if value not in FILTER_CRS:
        raise InvalidQueryError(msg("filter.bad_crs", crs=value, crs84=CRS84, cgcs2000=CGCS2000), field="filter-crs")
    return FILTER_CRS[value]


#: Fixes to pygeofilter's cql2-text grammar (0.4): (pattern, replacement), applied where the pattern is found.
_GRAMMAR_FIXES = [
    # AND binds tighter than OR, and NOT takes a parenthesised condition (CQL2's booleanTerm and
    # booleanFactor); pygeofilter reads "a OR b AND c" as "(a OR b) AND c" and refuses "NOT (a AND b)"
    (r"\?condition: condition_1.*?(?=\?predicate:)",
     '?condition: conjunction\n          | condition "OR"i conjunction -> or_\n\n'
     '?conjunction: condition_1\n            | conjunction "AND"i condition_1 -> and_\n\n'
     '?condition_1: predicate\n            | "NOT"i predicate -> not_\n'
     '            | "NOT"i "(" condition ")" -> not_\n            | "(" condition ")"\n\n'),
    # CQL2 writes a quote inside a string as two (ogcapi-features#671); pygeofilter ends the string there
    (r"""SINGLE_QUOTED: "'" /\.\*\?/ "'\"""", "SINGLE_QUOTED: /'(?:[^']|'')*'/"),
    # a property name of one letter (pygeofilter#144)
    (r"attribute: /\[a-zA-Z\]\[a-zA-Z_:0-9\.\]\+/", "attribute: /[a-zA-Z][a-zA-Z_:0-9.]*/"),
    # line breaks are white space as well
    (r"%ignore WS_INLINE", "%import common.WS\n%ignore WS"),
    # ILIKE, which its transformer has and its grammar lacks
    (r'(\| expression "NOT"i "LIKE"i expression\s+-> not_like)',
     '| expression "NOT"i "LIKE"i expression -> not_like\n'
     '          | expression "ILIKE"i expression -> ilike\n'
     '          | expression "NOT"i "ILIKE"i expression -> not_ilike'),
]


@cache
def _text_parser():
    """pygeofilter's cql2-text grammar (with :data:`_GRAMMAR_FIXES`) and transformer, built on first use:
    building it costs half a second, which a command that never filters should not pay.
    Positions are kept, so an error in a value is reported where it is."""
    from lark import Lark, v_args
    from pygeofilter.parsers.cql2_text import parser as cql2_text

    logging.getLogger("lark").setLevel(logging.CRITICAL)  # pygeofilter turns lark's debug dumps on
    path = Path(cql2_text.__file__).with_name("grammar.lark")
    grammar = path.read_text(encoding="utf-8")
    for pattern, replacement in _GRAMMAR_FIXES:
        grammar = re.sub(pattern, lambda _found: replacement, grammar, count=1, flags=re.S)

    @v_args(inline=True)
    class Transformer(cql2_text.CQLTransformer):
        def SINGLE_QUOTED(self, token):
            return token[1:-1].replace("''", "'")

        # these two print what they read in pygeofilter 0.4
        def wkt__geometry_with_srid(self, srid, geometry):
            return {**geometry, "crs": {"type": "name", "properties": {"name": f"SRID={int(srid)}"}}}

        def wkt__multipoint_2(self, *coordinates):
            return {"type": "MultiPoint", "coordinates": coordinates}

    parser = Lark(grammar, source_path=str(path), import_paths=[str(path.parent.parent)], parser="lalr",
                  propagate_positions=True, maybe_placeholders=False)
    return parser, Transformer()


def _parse_text(text: str):
    from lark.exceptions import UnexpectedInput, VisitError

    parser, transformer = _text_parser()
    try:
        return transformer.transform(parser.parse(text))
    except UnexpectedInput as e:
        raise _syntax_error(e, text) from None
    except VisitError as e:  # a value the grammar took and the transformer did not (DATE('2023-02-30'))
        meta = getattr(e.obj, "meta", e.obj)
        line, column = getattr(meta, "line", 1), getattr(meta, "column", 1)
        shown = text[getattr(meta, "start_pos", 0):getattr(meta, "end_pos", len(text))]
        raise InvalidQueryError(msg("filter.bad_literal", line=line, column=column, text=shown),
                                field="filter") from None


def _syntax_error(error, text: str) -> InvalidQueryError:
    """The place lark stopped at, and what it found there (or that the text ended)."""
    token = getattr(error, "token", None)
    if token is None or token.type in ("$END", "<EOF>"):
        lines = text.split("\n")
        line, column, near = len(lines), len(lines[-1]) + 1, msg("filter.near_end")
    else:
        line, column = error.line, error.column
        near = msg("filter.near_text", text=str(token) if token is not None else error.char)
    return InvalidQueryError(msg("filter.syntax", line=line, column=column, near=near), field="filter")


def _parse_json(text: str | dict):
    if isinstance(text, str):
        try:
            text = json.loads(text)
        except json.JSONDecodeError as e:
            raise InvalidQueryError(msg("filter.json_syntax", line=e.lineno, column=e.colno, pos=e.pos + 1),
                                    field="filter") from None
    node = _standard_json(text)
    try:
        return _walk_json(node)
    except _JSON_ERRORS:
        shown = json.dumps(_failing_node(node), ensure_ascii=False, default=str)
        raise InvalidQueryError(msg("filter.json_node", node=shown[:160]), field="filter") from None


_JSON_ERRORS = (ValueError, TypeError, KeyError, IndexError, AttributeError)


def _walk_json(node):
    from pygeofilter.parsers.cql2_json import parser as cql2_json

    return cql2_json.walk_cql_json(node)


def _standard_json(node):
    """CQL2 JSON as pygeofilter 0.4 reads it: ``between`` with three arguments as [x, [low, high]], and a
    ``{"bbox": [...]}`` as its polygon (pygeofilter takes its numbers in another order)."""
    if isinstance(node, list):
        return [_standard_json(n) for n in node]
    if not isinstance(node, dict):
        return node
    if set(node) == {"bbox"} and isinstance(node["bbox"], list) and len(node["bbox"]) in (4, 6):
        b = node["bbox"]
        x1, y1, x2, y2 = (b[0], b[1], b[2], b[3]) if len(b) == 4 else (b[0], b[1], b[3], b[4])
        return shapely.geometry.mapping(shapely.box(x1, y1, x2, y2))
    node = {k: _standard_json(v) for k, v in node.items()}
    args = node.get("args")
    if node.get("op") == "between" and isinstance(args, list) and len(args) == 3:
        node["args"] = [args[0], [args[1], args[2]]]
    return node


def _failing_node(node):
    """The innermost operation of a CQL2 JSON filter that pygeofilter cannot read: where the error is."""
    for arg in node.get("args", []) if isinstance(node, dict) and isinstance(node.get("args"), list) else []:
        if isinstance(arg, dict) and "op" in arg:
            try:
                _walk_json(arg)
            except _JSON_ERRORS:
                return _failing_node(arg)
    return node


# --- the translation --------------------------------------------------------------------

@dataclass(frozen=True)
class _Expr:
    """A side of a predicate that is SQL: a queryable, CASEI of one, or arithmetic on them."""

    sql: str
    type: str
    name: str


@dataclass(frozen=True)
class _Lit:
    value: object


class _Checking:
    """Stands in for the store while a filter is only checked (at parse time): any SQL will do."""

    like_ignores_case = False
    code_point_collation = ""

    def json_number(self, column: str, key: str) -> str:
        return "0"

    def geometry_from_wkb(self, param: str, kind: str = "MultiPolygon") -> str:
        return f":{param}"

    def bbox_condition(self, table: str, alias: str | None = None) -> str:
        return "1 = 1"

    def timestamp_param(self, moment):
        return moment


_NUMERIC = ("number", "integer")
_SPATIAL = {"INTERSECTS": "ST_Intersects", "DISJOINT": "ST_Disjoint", "CONTAINS": "ST_Contains",
            "WITHIN": "ST_Within", "TOUCHES": "ST_Touches", "CROSSES": "ST_Crosses", "OVERLAPS": "ST_Overlaps",
            "EQUALS": "ST_Equals"}
_MULTI = {"Point": "MultiPoint", "MultiPoint": "MultiPoint", "LineString": "MultiLinestring",
          "MultiLineString": "MultiLinestring", "Polygon": "MultiPolygon", "MultiPolygon": "MultiPolygon"}


class _Sql:
    """One translation of a filter tree: the WHERE text, its parameters and the properties it names."""

    def __init__(self, store, crs: str, today: date):
        self.store, self.crs, self.today = store, crs, today
        self.params: dict = {}
        self.used: set[str] = set()
        self._names = itertools.count()

    def bind(self, value) -> str:
        name = f"cql_{next(self._names)}"
        self.params[name] = value
        return name

    # conditions

    def condition(self, node) -> str:
        if isinstance(node, (ast.And, ast.Or)):
            return f"({self.condition(node.lhs)} {node.op.value} {self.condition(node.rhs)})"
        if isinstance(node, ast.Not):
            return f"NOT ({self.condition(node.sub_node)})"
        if isinstance(node, (ast.Include, bool)):
            return "1 = 1" if node is True or isinstance(node, ast.Include) and not node.not_ else "1 = 0"
        for kind, translate in ((ast.Comparison, self.comparison), (ast.Between, self.between), (ast.In, self.in_),
                                (ast.IsNull, self.is_null), (ast.Like, self.like), (ast.BBox, self.bbox),
                                (ast.SpatialComparisonPredicate, self.spatial), (ast.Attribute, self.flag)):
            if isinstance(node, kind):
                return translate(node)
        raise _unsupported(node)

    def comparison(self, node) -> str:
        op = node.op.value
        lhs, rhs = self.side(node.lhs, op), self.side(node.rhs, op)
        typed = self.typed(op, lhs, rhs)
        if typed.type == "geometry":
            raise self.mismatch(typed, rhs if lhs is typed else lhs, op)
        return f"{self.operand(lhs, typed, op)} {op} {self.operand(rhs, typed, op)}"

    def between(self, node) -> str:
        sides = [self.side(n, "BETWEEN") for n in (node.lhs, node.low, node.high)]
        typed = self.typed("BETWEEN", *sides)
        a, low, high = (self.operand(s, typed, "BETWEEN") for s in sides)
        return f"{a} {'NOT ' if node.not_ else ''}BETWEEN {low} AND {high}"

    def in_(self, node) -> str:
        items = node.sub_nodes if isinstance(node.sub_nodes, list) else [node.sub_nodes]
        lhs, sides = self.side(node.lhs, "IN"), [self.side(n, "IN") for n in items]
        typed = self.typed("IN", lhs, *sides)
        if not sides:
            return "1 = 1" if node.not_ else "1 = 0"
        marks = ", ".join(self.operand(s, typed, "IN") for s in sides)
        return f"{self.operand(lhs, typed, 'IN')} {'NOT ' if node.not_ else ''}IN ({marks})"

    def is_null(self, node) -> str:
        lhs = self.side(node.lhs, "IS NULL")
        if not isinstance(lhs, _Expr):
            raise InvalidQueryError(msg("filter.needs_property", operator="IS NULL"), field="filter")
        return f"{lhs.sql} IS {'NOT ' if node.not_ else ''}NULL"

    def flag(self, node) -> str:
        """A boolean queryable standing alone (``{"property": "overdue"}`` in CQL2 JSON)."""
        lhs = self.attribute(node.name)
        if lhs.type != "boolean":
            raise self.mismatch(lhs, True, "=")
        return f"{lhs.sql} = :{self.bind(True)}"

    def like(self, node) -> str:
        """CQL2 LIKE: ``%`` any run, ``_`` one character, ``\\`` takes the next literally; case-sensitive
        unless ILIKE (or CASEI on both sides, which lowers both)."""
        pattern = node.pattern
        if isinstance(pattern, dict):  # pygeofilter leaves a CQL2 JSON pattern such as CASEI('a%') unread
            try:
                pattern = _walk_json(pattern)
            except _JSON_ERRORS:
                raise InvalidQueryError(msg("filter.json_node", node=json.dumps(pattern, ensure_ascii=False)[:160]),
                                        field="filter") from None
        lhs, pat = self.side(node.lhs, "LIKE"), self.side(pattern, "LIKE")
        if not isinstance(lhs, _Expr) or not isinstance(pat, _Lit):
            raise InvalidQueryError(msg("filter.needs_property", operator="LIKE"), field="filter")
        if lhs.type != "string" or not isinstance(pat.value, str):
            raise self.mismatch(lhs, pat.value, "LIKE")
        if node.nocase:
            sql = f"lower({lhs.sql}) LIKE :{self.bind(_like(_like_tokens(pat.value.lower())))} ESCAPE '!'"
        elif self.store.like_ignores_case:  # then GLOB matches case-sensitively
            sql = f"{lhs.sql} GLOB :{self.bind(_glob(_like_tokens(pat.value)))}"
        else:
            sql = f"{lhs.sql} LIKE :{self.bind(_like(_like_tokens(pat.value)))} ESCAPE '!'"
        return f"NOT ({sql})" if node.not_ else sql

    def spatial(self, node, crs: str | None = None) -> str:
        op = f"S_{node.op.value}"
        sides = [self.side(n, op) for n in (node.lhs, node.rhs)]
        exprs = [s for s in sides if isinstance(s, _Expr)]
        if not exprs:
            raise InvalidQueryError(msg("filter.needs_property", operator=op), field="filter")
        for s in exprs:
            if s.type != "geometry":
                raise self.mismatch(s, msg("filter.type_geometry"), op)
        geoms = [None if isinstance(s, _Expr) else self.geometry(s.value, crs or self.crs, op) for s in sides]
        a, b = (s.sql if g is None else self.geometry_sql(g) for s, g in zip(sides, geoms))
        sql = f"{_SPATIAL[node.op.value]}({a}, {b})"
        literal = next((g for g in geoms if g is not None), None)
        if literal is not None and node.op.value != "DISJOINT":
            sql = f"{self.index(literal.bounds)} AND {sql}"
        return f"({sql})"

    def bbox(self, node) -> str:
        """BBOX(geometry, minx, miny, maxx, maxy[, crs]): intersects that box."""
        box = shapely.box(node.minx, node.miny, node.maxx, node.maxy)
        return self.spatial(ast.GeometryIntersects(node.lhs, box), filter_crs(node.crs) if node.crs else None)

    # sides of predicates

    def side(self, node, op: str) -> _Expr | _Lit:
        if isinstance(node, ast.Attribute):
            return self.attribute(node.name)
        if isinstance(node, ast.Function):
            return self.function(node)
        if isinstance(node, ast.Arithmetic):
            return self.arithmetic(node)
        if isinstance(node, (ast.Node, values.Interval, list)):
            raise _unsupported(node)
        return _Lit(node)

    def attribute(self, name: str) -> _Expr:
        if name not in _QUERYABLES:
            raise InvalidQueryError(msg("filter.unknown_property", property=name, choices=", ".join(QUERYABLES)),
                                    field="filter")
        self.used.add(name)
        sql = _sql_of(self.store, name)
        if ":cql_today" in sql:
            self.params["cql_today"] = self.today
        return _Expr(sql, _QUERYABLES[name].type, name)

    def function(self, node) -> _Expr | _Lit:
        """CASEI (pygeofilter's ``lower``) of text, and BBOX(minx, miny, maxx, maxy) as a geometry."""
        name, args = node.name.lower(), node.arguments
        if name == "lower" and len(args) == 1:
            inner = self.side(args[0], "CASEI")
            if isinstance(inner, _Expr) and inner.type == "string":
                return _Expr(f"lower({inner.sql})", "string", inner.name)
            if isinstance(inner, _Lit) and isinstance(inner.value, str):
                return _Lit(inner.value.lower())
            if isinstance(inner, _Expr):
                raise self.mismatch(inner, msg("filter.type_string"), "CASEI")
            raise self.mismatch(_Expr("", "string", "CASEI"), inner.value, "CASEI")
        if name == "bbox" and len(args) in (4, 6) and all(_is_number(a) for a in args):
            return _Lit(shapely.box(*(args if len(args) == 4 else (args[0], args[1], args[3], args[4]))))
        raise _unsupported(node)

    def arithmetic(self, node) -> _Expr:
        op = node.op.value
        sides = [self.side(n, op) for n in (node.lhs, node.rhs)]
        number = _Expr("", "number", op)
        for s in sides:
            if isinstance(s, _Expr) and s.type not in _NUMERIC:
                raise self.mismatch(s, msg("filter.type_number"), op)
        a, b = (self.operand(s, s if isinstance(s, _Expr) else number, op) for s in sides)
        if op == "/":  # never integer division, and no error on a zero
            a, b = f"CAST({a} AS DOUBLE PRECISION)", f"NULLIF(CAST({b} AS DOUBLE PRECISION), 0)"
        name = next((s.name for s in sides if isinstance(s, _Expr)), op)
        return _Expr(f"({a} {op} {b})", "number", name)

    def typed(self, op: str, *sides) -> _Expr:
        """The queryable side that gives the predicate its type; every other queryable side must agree."""
        exprs = [s for s in sides if isinstance(s, _Expr)]
        if not exprs:
            raise InvalidQueryError(msg("filter.needs_property", operator=op), field="filter")
        for other in exprs[1:]:
            if other.type != exprs[0].type and not {other.type, exprs[0].type} <= set(_NUMERIC):
                raise self.mismatch(exprs[0], other, op)
        return exprs[0]

    def operand(self, side, typed: _Expr, op: str) -> str:
        return side.sql if isinstance(side, _Expr) else f":{self.bind(self.value(side.value, typed, op))}"

    def value(self, value, typed: _Expr, op: str):
        """A literal as the parameter compared with ``typed``; dates also from ISO text and timestamps."""
        kind = typed.type
        if kind in _NUMERIC and _is_number(value) and math.isfinite(value):
            return value
        if kind == "string" and isinstance(value, str) or kind == "boolean" and isinstance(value, bool):
            return value
        if kind == "date":
            moment = _as_moment(value)
            if moment is not None:
                return moment if not isinstance(moment, datetime) else self.store.timestamp_param(moment)
        raise self.mismatch(typed, value, op)

    def mismatch(self, typed: _Expr, value, op: str) -> InvalidQueryError:
        value = value.value if isinstance(value, _Lit) else value
        shown = value.name if isinstance(value, _Expr) else value if isinstance(value, Message) else _shown(value)
        return InvalidQueryError(msg("filter.type_mismatch", property=typed.name, type=msg(f"filter.type_{typed.type}"),
                                     value=shown, operator=op), field="filter")

    # geometry

    def geometry(self, value, crs: str, op: str):
        """A geometry literal in storage axis order (lon, lat), valid, within lon/lat range."""
        if isinstance(value, (values.Geometry, values.Envelope)):
            found = value.geometry
            srid = (found.get("crs") or {}).get("properties", {}).get("name") if isinstance(found, dict) else None
            if srid:  # EWKT's SRID=…, which writes x (longitude) first whatever the CRS
                crs = {"SRID=4326": CRS84, "SRID=4490": CRS84}.get(srid) or FILTER_CRS.get(srid)
                if crs is None:
                    raise InvalidQueryError(msg("filter.bad_srid", srid=srid), field="filter")
            try:
                value = shapely.geometry.shape(found)
            except (ValueError, TypeError, AttributeError, shapely.errors.GEOSException) as e:
                raise InvalidQueryError(msg("filter.bad_geometry", reason=str(e)), field="filter") from None
        if not isinstance(value, shapely.Geometry):
            raise self.mismatch(_Expr("", "geometry", "geometry"), value, op)
        geom = shapely.transform(value, lambda xy: xy[:, ::-1]) if crs == CGCS2000 else value
        if geom.is_empty or not geom.is_valid:
            reason = "empty" if geom.is_empty else shapely.is_valid_reason(geom)
            raise InvalidQueryError(msg("filter.bad_geometry", reason=reason), field="filter")
        for (x, y), (lon, lat) in zip(shapely.get_coordinates(value), shapely.get_coordinates(geom)):
            if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                raise InvalidQueryError(msg("filter.out_of_range", x=x, y=y), field="filter")
        return geom

    def geometry_sql(self, geom) -> str:
        return self.store.geometry_from_wkb(self.bind(shapely.to_wkb(geom)), _MULTI.get(geom.geom_type,
                                                                                        "GeometryCollection"))

    def index(self, bounds) -> str:
        """The store's index-assisted box condition (as for ``bbox``) around a literal, with its own parameters."""
        sql = self.store.bbox_condition("patches", alias="p")
        for key, value in zip(("xmin", "ymin", "xmax", "ymax"), bounds):
            sql = re.sub(rf":{key}\b", f":{self.bind(float(value))}", sql)
        return sql


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _as_moment(value) -> date | datetime | None:
    """A date, or a naive datetime off midnight: a stored date has no zone, so a timestamp counts by
    the wall-clock date and time it was written with."""
    if isinstance(value, str):
        for parse_as in (date.fromisoformat, datetime.fromisoformat):
            try:
                return _as_moment(parse_as(value))
            except ValueError:
                continue
        return None
    if isinstance(value, datetime):
        moment = value.replace(tzinfo=None)
        return moment.date() if moment.time() == datetime.min.time() else moment
    return value if isinstance(value, date) else None


def _shown(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, datetime):
        return f"TIMESTAMP('{value.isoformat()}')"
    if isinstance(value, date):
        return f"DATE('{value.isoformat()}')"
    if isinstance(value, (values.Geometry, values.Envelope, shapely.Geometry)):
        return msg("filter.type_geometry")
    return str(value)[:60]


def _unsupported(node) -> InvalidQueryError:
    if isinstance(node, ast.TemporalPredicate):
        name = "T_" + node.op.value.replace(" ", "_")
    elif isinstance(node, ast.Function):
        name = node.name.upper()
    elif isinstance(node, ast.ArrayPredicate):
        name = "A_" + node.op.value[1:]
    elif isinstance(node, (ast.Node, values.Interval)):
        op = getattr(node, "op", None)
        name = op.value if op is not None else type(node).__name__.upper()
    else:
        name = type(node).__name__
    return InvalidQueryError(msg("filter.unsupported", operator=name, supported=SUPPORTED), field="filter")


def _like_tokens(pattern: str) -> list[tuple[bool, str]]:
    """(is a wildcard, character) for each character of a CQL2 LIKE pattern."""
    found, chars = [], iter(pattern)
    for c in chars:
        found.append((False, next(chars, "\\")) if c == "\\" else (c in "%_", c))
    return found


def _like(tokens) -> str:
    """The pattern for SQL LIKE ... ESCAPE '!'."""
    return "".join(c if wild else ("!" + c if c in "!%_" else c) for wild, c in tokens)


def _glob(tokens) -> str:
    """The pattern for SQLite's GLOB (case-sensitive): * and ? for the wildcards, [x] for a literal *, ? or [."""
    return "".join({"%": "*", "_": "?"}[c] if wild else (f"[{c}]" if c in "*?[" else c) for wild, c in tokens)


# --- the SQL ----------------------------------------------------------------------------

def where(store, flt: Filter, *, past: bool = False, today: date | None = None) -> tuple[str, dict]:
    """``flt`` as a WHERE fragment over p, b, i, m with its ``:cql_*`` parameters.

    ``past``: the state is folded for an earlier date after the query, so the current state
    (status, rectified area, overdue …) cannot be filtered on in SQL, and is refused.
    """
    if past:
        state = sorted(n for n in flt.properties if _QUERYABLES[n].state)
        if state:
            raise InvalidQueryError(msg("filter.state_in_past", property=state[0]), field="filter")
    sql = _Sql(store, flt.crs, today or date.today())
    return sql.condition(flt.tree), sql.params


@dataclass(frozen=True)
class SortKey:
    name: str
    descending: bool = False


def parse_sortby(text: str | None) -> tuple[SortKey, ...] | None:
    """``sortby``: ``prop,-prop2,+prop3`` (``-`` descending) over :data:`SORTABLE`; None when empty."""
    if text is None or not text.strip():
        return None
    keys = []
    for part in (p.strip() for p in text.split(",")):
        name = part.lstrip("+-").strip()
        if not part:
            continue
        if name not in SORTABLE:
            raise InvalidQueryError(msg("sortby.unknown", property=name, choices=", ".join(SORTABLE)), field="sortby")
        keys.append(SortKey(name, part.startswith("-")))
    return tuple(keys) or None


def order_by(store, keys, state: dict[str, str] | None = None) -> tuple[str, dict]:
    """ORDER BY text for ``keys``: nulls last either way, text by code point on both backends, then p.id;
    ``state``: the SQL of the state properties as of a date, in place of the stored current state."""
    parts, params = [], {}
    for key in keys:
        sql = state[key.name] if state and key.name in state else _sql_of(store, key.name)
        if ":cql_today" in sql:
            params["cql_today"] = date.today()
        collate = store.code_point_collation if QUERYABLES[key.name] == "string" else ""
        parts.append(f"{sql}{collate}{' DESC' if key.descending else ''} NULLS LAST")
    return ", ".join(parts + ["p.id"]), params
