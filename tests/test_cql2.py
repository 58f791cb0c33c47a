"""CQL2 filters and sortby run in SQL on both backends and select exactly what the same condition
selects on the listing itself (pandas, shapely), on the demo database's 27 patches."""

from __future__ import annotations

import json
import uuid
from datetime import date

import pytest
import shapely
import sqlalchemy as sa

from geo_tracker.errors import InvalidValueError
from geo_tracker.services.boundaries import village_units
from geo_tracker.services.demo import run_demo
from geo_tracker.services.patches import (EXTRA_PROPERTIES, PATCH_PROPERTIES, QUERYABLES, count_patches,
                                          list_patches, parse_filter, parse_sortby)
from geo_tracker.store import open_store

#: A day between the demo's events, for the as-of listing.
PAST = date(2023, 8, 1)


@pytest.fixture(scope="module", params=["spatialite", pytest.param("postgis", marks=pytest.mark.postgis)])
def demo(request, tmp_path_factory):
    """The demo database on each backend, built once for this module: (store, every patch listed)."""
    folder = tmp_path_factory.mktemp("cql2")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GEO_TRACKER_EVIDENCE_DIR", str(folder / "evidence"))
        if request.param == "spatialite":
            url, drop = f"sqlite:///{folder / 'demo.sqlite'}", None
        else:
            server = request.getfixturevalue("pg_database")
            schema = f"t_{uuid.uuid4().hex[:12]}"
            drop = sa.create_engine(server)
            with drop.begin() as conn:
                conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
            url = f"{server}?options=-csearch_path%3D{schema},public"
        run_demo(url)
        with open_store(url) as store:
            yield store, list_patches(store)
        if drop is not None:
            with drop.begin() as conn:
                conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
            drop.dispose()


def ids(frame) -> set[int]:
    return set(int(i) for i in frame["id"])


def selected(store, cql2, **kwargs) -> set[int]:
    """The ids a filter selects, after checking that the count in SQL agrees with the listing."""
    found = list_patches(store, cql2=cql2, **kwargs)
    if "as_of" not in kwargs:
        assert count_patches(store, cql2=cql2) == len(found)
    return ids(found)


# --- every operator class against pandas ------------------------------------------------

CASES = {
    "area_mu > 4": lambda f: f.area_mu > 4,
    "area_mu <= 3": lambda f: f.area_mu <= 3,
    "4 < area_mu": lambda f: f.area_mu > 4,
    "issued_area_mu = 4.96": lambda f: f.issued_area_mu == 4.96,
    "issued_area_mu <> 4.96": lambda f: f.issued_area_mu != 4.96,
    "status = 'closed'": lambda f: f.status == "closed",
    "status <> 'closed'": lambda f: f.status != "closed",
    "village_name = '双凤村' AND area_mu > 3": lambda f: (f.village_name == "双凤村") & (f.area_mu > 3),
    "source = 'forestry' OR overdue = true": lambda f: (f.source == "forestry") | f.overdue,
    "NOT (status = 'rectified')": lambda f: f.status != "rectified",
    "source = 'forestry' OR area_mu > 4 AND status = 'closed'":  # AND binds tighter than OR
        lambda f: (f.source == "forestry") | ((f.area_mu > 4) & (f.status == "closed")),
    "NOT (source = 'forestry' OR status = 'closed') AND area_mu > 3":
        lambda f: ~((f.source == "forestry") | (f.status == "closed")) & (f.area_mu > 3),
    "cultivated_mu IS NULL": lambda f: f.cultivated_mu.isna(),
    "cultivated_mu IS NOT NULL AND cultivated_mu > 1": lambda f: f.cultivated_mu > 1,
    "status IN ('closed', 'case_filed')": lambda f: f.status.isin(["closed", "case_filed"]),
    "village_code NOT IN ('500109107002', '500109107210')":
        lambda f: ~f.village_code.isin(["500109107002", "500109107210"]),
    "area_mu BETWEEN 3 AND 4": lambda f: f.area_mu.between(3, 4),
    "area_mu NOT BETWEEN 3 AND 4": lambda f: ~f.area_mu.between(3, 4),
    "patch_code LIKE 'LC2023-1_'": lambda f: f.patch_code.str.fullmatch(r"LC2023-1."),
    "patch_code LIKE '%0_1'": lambda f: f.patch_code.str.fullmatch(r".*0.1"),
    "patch_code LIKE 'LC2023_%'": lambda f: f.patch_code.str.startswith("LC2023"),
    "patch_code LIKE 'LC2023\\_%'": lambda f: f.patch_code.str.startswith("LC2023_"),
    "patch_code LIKE 'lc%'": lambda f: f.patch_code.str.startswith("lc"),
    "patch_code NOT LIKE 'LC%'": lambda f: ~f.patch_code.str.startswith("LC"),
    "CASEI(patch_code) LIKE CASEI('lc2023-0%')": lambda f: f.patch_code.str.lower().str.startswith("lc2023-0"),
    "patch_code ILIKE 'lc2023-0%'": lambda f: f.patch_code.str.lower().str.startswith("lc2023-0"),
    "CASEI(patch_code) = 'lc2023-01'": lambda f: f.patch_code.str.lower() == "lc2023-01",
    "issued_on >= DATE('2023-06-01')": lambda f: f.issued_on >= date(2023, 6, 1),
    "issued_on > '2023-05-15'": lambda f: f.issued_on > date(2023, 5, 15),
    "issued_on = TIMESTAMP('2023-05-15T00:00:00Z')": lambda f: f.issued_on == date(2023, 5, 15),
    "issued_on < TIMESTAMP('2023-05-15T08:00:00Z')": lambda f: f.issued_on <= date(2023, 5, 15),
    "deadline < DATE('2023-12-31')": lambda f: f.deadline < date(2023, 12, 31),
    "status_on > DATE('2023-11-01')": lambda f: f.status_on > date(2023, 11, 1),
    "rectified_mu < area_mu": lambda f: f.rectified_mu < f.area_mu,
    "rectified_mu > 4.5": lambda f: f.rectified_mu > 4.5,
    "rectified_cultivated_mu > 0": lambda f: f.rectified_cultivated_mu > 0,
    "area_mu - rectified_mu > 1": lambda f: f.area_mu - f.rectified_mu > 1,
    "overdue = true": lambda f: f.overdue,
    "straddles = false AND outside = false AND area_mu > 4":
        lambda f: ~f.straddles & (f.outside == False) & (f.area_mu > 4),  # noqa: E712
}


@pytest.mark.parametrize("text", list(CASES))
def test_each_operator_selects_in_sql_what_pandas_selects_on_the_listing(demo, text):
    store, every = demo
    expected = ids(every[CASES[text](every).fillna(False).astype(bool).to_numpy()])
    assert selected(store, text) == expected


def test_the_cases_are_not_vacuous(demo):
    _store, every = demo
    sizes = [int(CASES[t](every).fillna(False).astype(bool).sum()) for t in CASES]
    assert sum(0 < n < len(every) for n in sizes) == len(CASES) - 2  # the escaped _ and lower-case 'lc%'
    assert len(every) == 27


def test_no_filter_lists_everything_as_before(demo):
    store, every = demo
    assert parse_filter(None) is None and parse_filter("   ") is None and parse_sortby("") is None
    again = list_patches(store, cql2=None, sortby=None)
    assert list(again["id"]) == list(every["id"]) and count_patches(store) == 27


def test_a_filter_with_a_past_date_filters_what_does_not_change_and_refuses_the_state(demo):
    store, _every = demo
    then = list_patches(store, as_of=PAST)
    assert selected(store, "area_mu > 4 AND source = 'natural-resources'", as_of=PAST) == \
        ids(then[(then.area_mu > 4) & (then.source == "natural-resources")])
    with pytest.raises(InvalidValueError) as caught:
        list_patches(store, as_of=PAST, cql2="status = 'closed'")
    assert caught.value.field == "filter" and "status" in caught.value.text("zh", "api")


# --- spatial ----------------------------------------------------------------------------

def _village(store, name: str):
    villages = village_units(store)
    return shapely.from_wkt(shapely.to_wkt(villages[villages["name"] == name].geometry.iloc[0], rounding_precision=7))


def test_s_intersects_a_village_selects_the_patches_shapely_says_intersect_it(demo):
    store, every = demo
    village = _village(store, "双凤村")
    expected = ids(every[every.geometry.intersects(village).to_numpy()])
    assert 0 < len(expected) < len(every)
    assert selected(store, f"S_INTERSECTS(geometry, {village.wkt})") == expected
    assert selected(store, f"S_INTERSECTS({village.wkt}, geometry)") == expected
    assert selected(store, f"NOT S_INTERSECTS(geometry, {village.wkt})") == ids(every) - expected
    as_json = {"op": "s_intersects", "args": [{"property": "geometry"}, shapely.geometry.mapping(village)]}
    assert selected(store, parse_filter(json.dumps(as_json), "cql2-json")) == expected


def test_epsg_4490_takes_latitude_first_and_gives_the_same_patches(demo):
    store, every = demo
    village = _village(store, "双凤村")
    expected = ids(every[every.geometry.intersects(village).to_numpy()])
    swapped = shapely.transform(village, lambda xy: xy[:, ::-1])
    for crs in ("EPSG:4490", "http://www.opengis.net/def/crs/EPSG/0/4490"):
        assert selected(store, parse_filter(f"S_INTERSECTS(geometry, {swapped.wkt})", crs=crs)) == expected
    west, south, east, north = village.bounds
    in_box = ids(every[every.geometry.intersects(shapely.box(west, south, east, north)).to_numpy()])
    assert selected(store, parse_filter(f"S_INTERSECTS(geometry, BBOX({south}, {west}, {north}, {east}))",
                                        crs="EPSG:4490")) == in_box
    box_json = {"op": "s_intersects", "args": [{"property": "geometry"}, {"bbox": [west, south, east, north]}]}
    assert selected(store, parse_filter(box_json, "cql2-json")) == in_box
    with pytest.raises(InvalidValueError) as caught:  # lon, lat under EPSG:4490: latitude 106 is no latitude
        parse_filter(f"S_INTERSECTS(geometry, {village.wkt})", crs="EPSG:4490")
    assert "EPSG:4490" in caught.value.text("zh", "api") and caught.value.field == "filter"


def test_within_and_contains_agree_with_shapely(demo):
    store, every = demo
    around = shapely.box(*_village(store, "温泉社区").buffer(0.002).bounds)
    within = ids(every[every.geometry.within(around).to_numpy()])
    assert 0 < len(within) < len(every)
    assert selected(store, f"S_WITHIN(geometry, {around.wkt})") == within
    inside = every.geometry.iloc[5].representative_point()
    point = shapely.Point(round(inside.x, 9), round(inside.y, 9))
    contains = ids(every[every.geometry.contains(point).to_numpy()])
    assert len(contains) == 1
    assert selected(store, f"S_CONTAINS(geometry, {point.wkt})") == contains
    assert selected(store, f"S_INTERSECTS(geometry, {point.wkt})") == contains


# --- CQL2 JSON --------------------------------------------------------------------------

JSON_TWINS = {
    "area_mu BETWEEN 3 AND 4 AND status IN ('closed', 'rectified')":
        {"op": "and", "args": [{"op": "between", "args": [{"property": "area_mu"}, 3, 4]},
                               {"op": "in", "args": [{"property": "status"}, ["closed", "rectified"]]}]},
    "CASEI(patch_code) LIKE CASEI('LC2023-0%') OR cultivated_mu IS NULL":
        {"op": "or", "args": [{"op": "like", "args": [{"op": "casei", "args": [{"property": "patch_code"}]},
                                                      {"op": "casei", "args": ["LC2023-0%"]}]},
                              {"op": "isNull", "args": [{"property": "cultivated_mu"}]}]},
    "issued_on >= DATE('2023-06-01') AND NOT (status = 'closed')":
        {"op": "and", "args": [{"op": ">=", "args": [{"property": "issued_on"}, {"date": "2023-06-01"}]},
                               {"op": "not", "args": [{"op": "=", "args": [{"property": "status"}, "closed"]}]}]},
    "overdue = true": {"property": "overdue"},
}


@pytest.mark.parametrize("text", list(JSON_TWINS))
def test_cql2_json_selects_what_its_text_twin_selects(demo, text):
    store, _every = demo
    expected = selected(store, text)
    assert expected
    assert selected(store, parse_filter(json.dumps(JSON_TWINS[text]), "cql2-json")) == expected
    assert selected(store, parse_filter(JSON_TWINS[text], "cql2-json")) == expected


# --- values stay values -----------------------------------------------------------------

@pytest.mark.parametrize("attempt", [
    "patch_code = 'x'' OR 1=1 --'",
    "patch_code = ''' OR ''1''=''1'",
    "patch_code LIKE '%'' OR 1=1 --'",
    "patch_code = '''; DROP TABLE patches; --'",
    {"op": "=", "args": [{"property": "patch_code"}, "x' OR 1=1 --"]},
])
def test_sql_in_a_string_literal_is_only_a_string(demo, attempt):
    store, _every = demo
    flt = parse_filter(attempt, "cql2-json" if isinstance(attempt, dict) else "cql2-text")
    assert selected(store, flt) == set()
    assert count_patches(store) == 27


def test_a_quote_inside_a_literal_is_one_quote(demo):
    store, every = demo
    code = every.patch_code.iloc[0]
    assert selected(store, f"patch_code = '{code}' OR patch_code = 'it''s'") == {int(every.id.iloc[0])}


# --- errors name their place --------------------------------------------------------------

@pytest.mark.parametrize("text, lang, en, zh", [
    ("area_mu > 1 AND\n  status = 'a' 'b'", "cql2-text", "line 2, column 16", "第2行第16列"),
    ("area_mu >", "cql2-text", "line 1, column 10", "第1行第10列"),
    ("area_mu > 1 ANDD status = 'x'", "cql2-text", "line 1, column 18 (at 'status')", "第1行第18列（“status”处）"),
    ("issued_on = DATE('2023-02-30')", "cql2-text", "line 1, column 19", "第1行第19列"),
    ('{"op": "=", "args": [{"property": "area_mu"}, 1]', "cql2-json", "line 1, column 49", "第1行第49列"),
    ('{"op": "and", "args": [{"op": "=", "args": [{"property": "area_mu"}, 1]}, {"op": "nope", "args": [1]}]}',
     "cql2-json", '{"op": "nope", "args": [1]}', '{"op": "nope", "args": [1]}'),
])
def test_a_filter_that_does_not_parse_names_the_place_in_both_languages(text, lang, en, zh):
    with pytest.raises(InvalidValueError) as caught:
        parse_filter(text, lang)
    error = caught.value
    assert error.field == "filter"
    assert en in error.text("en", "api") and zh in error.text("zh", "api")


def test_a_filter_nested_beyond_reason_is_refused_not_crashed():
    deep = '{"op": "not", "args": [' * 5000 + '{"op": "=", "args": [{"property": "area_mu"}, 1]}' + "]}" * 5000
    assert parse_filter("(" * 5000 + "area_mu > 1" + ")" * 5000) is not None  # brackets alone nest nothing
    for text, lang in (("NOT (" * 5000 + "area_mu > 1" + ")" * 5000, "cql2-text"), (deep, "cql2-json")):
        with pytest.raises(InvalidValueError) as caught:
            parse_filter(text, lang)
        assert caught.value.field == "filter"


@pytest.mark.parametrize("text, lang, crs, field, words", [
    ("colour = 'red'", "cql2-text", None, "filter", ["colour", "area_mu"]),
    ("area_mu = 'big'", "cql2-text", None, "filter", ["area_mu", "'big'", "="]),
    ("issued_on > 5", "cql2-text", None, "filter", ["issued_on", "5"]),
    ("status LIKE 5", "cql2-text", None, "filter", ["status", "LIKE"]),
    ("S_INTERSECTS(area_mu, POINT(106 29))", "cql2-text", None, "filter", ["area_mu", "S_INTERSECTS"]),
    ("ACCENTI(village_name) = 'x'", "cql2-text", None, "filter", ["ACCENTI"]),
    ('{"op": "a_contains", "args": [{"property": "status"}, ["closed"]]}', "cql2-json", None, "filter",
     ["A_CONTAINS"]),
    ("S_INTERSECTS(geometry, POLYGON((0 0, 1 1, 1 0, 0 1, 0 0)))", "cql2-text", None, "filter", ["Self-intersection"]),
    ("area_mu > 1", "cql-text", None, "filter-lang", ["cql-text", "cql2-json"]),
    ("area_mu > 1", "cql2-text", "EPSG:3857", "filter-crs", ["EPSG:3857", "CRS84"]),
])
def test_a_filter_that_cannot_be_right_names_what_is_wrong(text, lang, crs, field, words):
    with pytest.raises(InvalidValueError) as caught:
        parse_filter(text, lang, crs)
    assert caught.value.field == field
    for lang_ in ("zh", "en"):
        shown = caught.value.text(lang_, "api")
        assert all(w in shown for w in words), shown


# --- sortby -------------------------------------------------------------------------------

@pytest.mark.parametrize("sortby, keys, ascending", [
    ("-area_mu", ["area_mu"], [False]),
    ("village_name,-area_mu", ["village_name", "area_mu"], [True, False]),
    ("+overdue, -rectified_mu,patch_code", ["overdue", "rectified_mu", "patch_code"], [True, False, True]),
    ("cultivated_mu", ["cultivated_mu"], [True]),
])
def test_sortby_orders_as_pandas_does_and_pages_in_that_order(demo, sortby, keys, ascending):
    store, every = demo
    expected = list(every.sort_values(keys + ["id"], ascending=ascending + [True], na_position="last")["id"])
    assert list(list_patches(store, sortby=sortby)["id"]) == expected
    assert list(list_patches(store, sortby=sortby, limit=5, offset=5)["id"]) == expected[5:10]
    then = list_patches(store, as_of=PAST)
    past = list(then.sort_values(keys + ["id"], ascending=ascending + [True], na_position="last")["id"])
    assert list(list_patches(store, as_of=PAST, sortby=sortby, limit=5, offset=2)["id"]) == past[2:7]


def test_sortby_and_filter_together(demo):
    store, every = demo
    keep = every[every.source == "forestry"].sort_values(["area_mu", "id"], ascending=[False, True])
    assert list(list_patches(store, cql2="source = 'forestry'", sortby="-area_mu")["id"]) == list(keep["id"])


@pytest.mark.parametrize("sortby", ["colour", "geometry", "area_mu,-nope"])
def test_sortby_on_what_is_not_sortable_is_refused(sortby):
    with pytest.raises(InvalidValueError) as caught:
        parse_sortby(sortby)
    assert caught.value.field == "sortby"
    assert "area_mu" in caught.value.text("zh", "api") and "area_mu" in caught.value.text("en", "api")


def test_the_queryables_are_properties_of_the_listed_patches():
    assert set(QUERYABLES) - {"geometry"} <= set(PATCH_PROPERTIES + EXTRA_PROPERTIES)
    assert QUERYABLES["geometry"] == "geometry" and QUERYABLES["area_mu"] == "number"
    assert set(QUERYABLES.values()) <= {"number", "integer", "string", "date", "boolean", "geometry"}


def test_parsing_writes_nothing_to_the_console(capsys):
    parse_filter("S_INTERSECTS(geometry, MULTIPOINT((106 29), (107 30))) OR "
                 "S_INTERSECTS(geometry, SRID=4490;POINT(106 29))")
    with pytest.raises(InvalidValueError):
        parse_filter("area_mu >")
    assert capsys.readouterr() == ("", "")
