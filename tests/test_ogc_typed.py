"""The OGC API as GIS clients read it before the data: typed properties (queryables, schema, the
GeoJSON feature schema), the extents of the data, the OpenAPI document GDAL and QGIS page by,
filters the server applies instead of the client, and numberMatched at province scale.

GDAL's OAPIF driver and OWSLib talk to a real server (uvicorn in a thread, on the demo
database) whose every items request is recorded with its query and how many features it
returned, so the tests see what the clients actually asked.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import parse_qs

import geopandas as gpd
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

import bureau_files as bf
from geo_tracker.server.app import create_app
from geo_tracker.server.ogc import filters as ogc_filters
from geo_tracker.services import accounts, ogc_meta
from geo_tracker.services.batches import ImportOptions, import_batch
from geo_tracker.services.boundaries import BoundaryOptions, import_boundaries
from geo_tracker.services.demo import run_demo
from geo_tracker.services.patches import list_patches
from geo_tracker.store import open_store

PASSWORD = "a-long-test-password"


class Recorder:
    """ASGI middleware: every request's path and query, and for items how many features came back."""

    def __init__(self, app):
        self.app, self.calls = app, []

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        body = []

        async def sending(message):
            if message["type"] == "http.response.body":
                body.append(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, sending)
        call = {"path": scope["path"], "query": parse_qs(scope["query_string"].decode()), "returned": None}
        if scope["path"].endswith("/items"):
            try:
                data = json.loads(b"".join(body))
                call["returned"] = data.get("numberReturned")
                call["statuses"] = [f["properties"]["status"] for f in data.get("features", [])]
            except (ValueError, KeyError, TypeError):
                pass
        self.calls.append(call)

    def items(self, collection: str = "patches") -> list[dict]:
        return [c for c in self.calls if c["path"] == f"/ogc/collections/{collection}/items"]


@dataclass
class Served:
    url: str
    base: str
    store: object
    recorder: Recorder
    password: str
    village: str
    tokens: dict = field(default_factory=dict)

    def gdal_env(self, user: str = "viewer") -> dict:
        return {**os.environ, "GDAL_HTTP_AUTH": "BASIC", "GDAL_HTTP_USERPWD": f"{user}:{self.password}"}

    def client(self, token: str = "viewer") -> TestClient:
        return TestClient(create_app(self.store), headers={"Authorization": f"Bearer {self.tokens[token]}"})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(store):
    import uvicorn

    recorder = Recorder(create_app(store))
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(recorder, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    return server, thread, recorder, f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module", params=["spatialite", pytest.param("postgis", marks=pytest.mark.postgis)])
def demo(request, tmp_path_factory):
    """The demo database served once per backend, with a viewer limited to one village besides its accounts."""
    folder = tmp_path_factory.mktemp(f"ogc_{request.param}")
    schema = None
    if request.param == "spatialite":
        url = f"sqlite:///{folder / 'demo.sqlite'}"
    else:
        pg = request.getfixturevalue("pg_database")
        schema = f"t_{uuid.uuid4().hex[:12]}"
        engine = sa.create_engine(pg)
        with engine.begin() as conn:
            conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
        url = f"{pg}?options=-csearch_path%3D{schema},public"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GEO_TRACKER_EVIDENCE_DIR", str(folder / "evidence"))
        result = run_demo(url, output_dir=None, map_path=None)
        store = open_store(url)
        village = sorted({p.village_code for p in list_patches(store).itertuples() if p.village_code})[0]
        accounts.add_user(store, "one_village", result.password, "viewer", [village])
        tokens = {name: accounts.create_token(store, name, "tests") for name in ("viewer", "one_village")}
        server, thread, recorder, base = _serve(store)
        try:
            yield Served(url, base, store, recorder, result.password, village, tokens)
        finally:
            server.should_exit = True
            thread.join(timeout=10)
            store.close()
            if schema:
                with engine.begin() as conn:
                    conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
                engine.dispose()


def _run(args, env, timeout=120):
    done = subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _extent(text: str) -> tuple[float, float, float, float]:
    found = re.search(r"Extent: \(([-\d.]+), ([-\d.]+)\) - \(([-\d.]+), ([-\d.]+)\)", text)
    assert found, text
    return tuple(float(v) for v in found.groups())


def _bounds(store, **filters) -> tuple[float, float, float, float]:
    return tuple(list_patches(store, **filters).total_bounds)


# --- GDAL -----------------------------------------------------------------------------------

def test_ogrinfo_shows_the_datas_extent_and_real_fields(demo):
    summary = _run(["ogrinfo", "-ro", "-so", f"OAPIF:{demo.base}/ogc", "patches"], demo.gdal_env())
    west, south, east, north = _extent(summary)
    assert (west, south, east, north) == pytest.approx(_bounds(demo.store), abs=2e-6)   # ogrinfo prints 6 decimals
    assert not (west < 74 and east > 135)                                               # not the whole of China
    for name, kind in (("area_mu", "Real"), ("cultivated_mu", "Real"), ("forest_mu", "Real"),
                       ("issued_area_mu", "Real"), ("rectified_mu", "Real"), ("issued_on", "Date"),
                       ("deadline", "Date"), ("overdue", "Integer(Boolean)"), ("case_numbers", "StringList"),
                       ("status", "String")):
        assert f"\n{name}: {kind} " in summary, summary
    assert "TEMPORAL_INTERVAL_MIN=" in summary


def test_a_batch_collection_and_a_one_village_login_have_their_own_extents(demo):
    client = demo.client()
    batches = [c for c in client.get("/ogc/collections").json()["collections"] if c["id"].startswith("batch-")]
    assert len(batches) == 2
    for collection in batches:
        box = collection["extent"]["spatial"]["bbox"][0]
        assert box == pytest.approx(_bounds(demo.store, batch=collection["title"]), abs=2e-7)
        first, last = collection["extent"]["temporal"]["interval"][0]
        issued = {p.issued_on for p in list_patches(demo.store, batch=collection["title"]).itertuples()}
        assert (first[:10], last[:10]) == (min(issued).isoformat(), max(issued).isoformat())
    one = demo.client("one_village").get("/ogc/collections/patches").json()
    assert one["extent"]["spatial"]["bbox"][0] == pytest.approx(_bounds(demo.store, villages=[demo.village]), abs=2e-7)
    env = {**os.environ, "GDAL_HTTP_HEADERS": f"Authorization: Bearer {demo.tokens['one_village']}"}
    summary = _run(["ogrinfo", "-ro", "-so", f"OAPIF:{demo.base}/ogc", batches[0]["id"]], env)
    assert "area_mu: Real" in summary and "Extent: (" in summary


def test_ogr2ogr_keeps_real_types_and_fetches_only_the_closed_patches(demo, tmp_path):
    closed = list_patches(demo.store, status="closed")
    assert 0 < len(closed) < len(list_patches(demo.store))
    out = tmp_path / "closed.gpkg"
    demo.recorder.calls.clear()
    _run(["ogr2ogr", "-f", "GPKG", str(out), f"OAPIF:{demo.base}/ogc", "patches", "-where", "status='closed'"],
         demo.gdal_env())
    requests = demo.recorder.items()
    filtered = [c for c in requests if c["query"].get("status") == ["closed"] or "filter" in c["query"]]
    probes = [c for c in requests if c not in filtered]
    # GDAL reads one unfiltered sample page for the schema; every other page it asks for is filtered.
    assert len(probes) <= 1 and all(c["query"].get("limit") == ["10"] for c in probes), requests
    assert sum(c["returned"] for c in filtered) == len(closed), requests
    assert all(s == "closed" for c in filtered for s in c["statuses"])
    copied = gpd.read_file(out)
    assert sorted(copied["patch_code"]) == sorted(closed["patch_code"])
    info = _run(["ogrinfo", "-ro", "-so", str(out), "patches"], os.environ)
    for name in ("area_mu", "cultivated_mu", "forest_mu", "rectified_mu"):
        assert f"\n{name}: Real " in info, info
    assert "\nissued_on: Date " in info


def test_gdal_sends_a_range_to_the_server_when_filters_are_there(demo, tmp_path):
    """With CQL2 filters GDAL sends any comparison (cql-text); without them only equality goes as
    ``name=value`` and GDAL filters the rest itself, page by page."""
    big = list_patches(demo.store)
    big = big[big["area_mu"] > 2]
    demo.recorder.calls.clear()
    out = _run(["ogrinfo", "-ro", "-q", f"OAPIF:{demo.base}/ogc", "patches", "-where", "area_mu > 2"],
               demo.gdal_env())
    assert out.count("OGRFeature(patches)") == len(big)
    requests = demo.recorder.items()
    sent = [c for c in requests if "filter" in c["query"]]
    assert sent and sum(c["returned"] for c in sent) == len(big), requests
    assert sent[0]["query"]["filter-lang"] == ["cql-text"]


# --- OWSLib -----------------------------------------------------------------------------------

def test_owslib_reads_queryables_and_schema(demo):
    from owslib.ogcapi.features import Features
    from owslib.util import Authentication

    api = Features(f"{demo.base}/ogc", auth=Authentication("viewer", demo.password))
    queryables = api.collection_queryables("patches")
    status = queryables["properties"]["status"]
    assert status["type"] == "string" and status["title"] == "状态"
    schema = api.collection_schema("patches")["properties"]
    assert schema["area_mu"] == {"title": "计算面积（亩）", "type": "number"}
    assert schema["cultivated_mu"]["type"] == schema["forest_mu"]["type"] == "number"
    assert schema["issued_on"]["format"] == "date" and schema["id"]["type"] == "integer"
    assert schema["case_numbers"]["type"] == "array" and schema["overdue"]["type"] == "boolean"
    assert schema["geometry"]["x-ogc-role"] == "primary-geometry"
    batch = next(c for c in api.feature_collections() if c.startswith("batch-"))
    assert "status" in api.collection_queryables(batch)["properties"]
    assert api.collection_schema(batch)["properties"]["area_mu"]["type"] == "number"
    villages = api.collection_schema("villages")["properties"]
    assert villages["valid_from"]["format"] == "date" and "code" in api.collection_queryables("villages")["properties"]
    assert queryables["properties"]["area_mu"]["type"] == "number"
    assert queryables["properties"]["issued_on"] == {"title": "下发日期", "type": "string", "format": "date"}
    conformance = api.conformance()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables" in conformance
    assert api.api()["paths"]["/collections/{collectionId}/items"]


def test_every_declared_filter_class_is_answered(demo):
    """A CQL2 class is declared only when the items query answers its sample; filter needs basic CQL2."""
    client = demo.client()
    declared = set(client.get("/ogc/conformance").json()["conformsTo"])
    part3 = "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/"
    assert {part3 + "filter", ogc_filters.CQL2 + "basic-cql2", ogc_filters.CQL2 + "cql2-text"} <= declared
    for name, sample in ogc_filters.CLASS_SAMPLES.items():
        assert name in declared
        answer = client.get("/ogc/collections/patches/items", params={"filter": sample})
        assert answer.status_code == 200, (name, answer.text)
    for text, lang in ((ogc_filters.JSON_SAMPLE, "cql2-json"), (ogc_filters.GDAL_SAMPLE, "cql-text")):
        answer = client.get("/ogc/collections/patches/items", params={"filter": text, "filter-lang": lang})
        assert answer.status_code == 200, (lang, answer.text)


def test_filters_sortby_and_queryables_as_parameters(demo):
    client = demo.client()
    items = "/ogc/collections/patches/items"
    every = list_patches(demo.store)
    big = client.get(items, params={"filter": "area_mu > 2", "sortby": "-area_mu", "limit": 3}).json()
    assert big["numberMatched"] == int((every["area_mu"] > 2).sum())
    areas = [f["properties"]["area_mu"] for f in big["features"]]
    assert areas == sorted(every["area_mu"], reverse=True)[:3]
    following = next(link["href"] for link in big["links"] if link["rel"] == "next")
    assert "filter=area_mu+%3E+2" in following and "sortby=-area_mu" in following
    code = every["patch_code"].iloc[0]
    as_json = {"op": "=", "args": [{"property": "patch_code"}, code]}
    one = client.get(items, params={"filter": json.dumps(as_json), "filter-lang": "cql2-json"}).json()
    assert [f["properties"]["patch_code"] for f in one["features"]] == [code]
    # a queryable without a parameter of its own, as name=value (queryables-query-parameters)
    closed = every[every["status"] == "closed"]
    with_value = client.get(items, params={"area_mu": repr(float(closed["area_mu"].iloc[0])), "status": "closed"})
    assert [f["properties"]["patch_code"] for f in with_value.json()["features"]] == [closed["patch_code"].iloc[0]]
    overdue = client.get(items, params={"overdue": "false", "limit": 1000}).json()
    assert overdue["numberMatched"] == int((~every["overdue"].astype(bool)).sum())
    refused = client.get(items, params={"filter": "status = 'closed'", "datetime": "2023-07-01"})
    assert refused.status_code == 400 and refused.json()["field"] == "filter"
    assert client.get(items, params={"filter": "nope = 1"}).json()["field"] == "filter"
    broken = client.get(items, params={"filter": "status = 'closed' AND AND"}, headers={"Accept-Language": "zh"})
    assert broken.status_code == 400 and broken.json()["code"] == "invalid_query"
    assert re.search(r"第1行第\d+列", broken.json()["message"]), broken.json()
    wrong_lang = client.get(items, params={"filter": "status = 'closed'", "filter-lang": "x"})
    assert wrong_lang.json()["field"] == "filter-lang"
    assert client.get(items, params={"sortby": "geometry"}).json()["field"] == "sortby"
    villages = client.get("/ogc/collections/villages/items", params={"filter": "code = '1'"})
    assert villages.status_code == 400 and villages.json()["field"] == "filter"
    # GDAL's cql-text, read as cql2-text
    gdal = client.get(items, params={"filter": "((issued_on >= '2023-06-01T') AND (overdue = 0))",
                                     "filter-lang": "cql-text", "limit": 1000}).json()
    expected = every[(every["issued_on"] >= date(2023, 6, 1)) & ~every["overdue"].astype(bool)]
    assert gdal["numberMatched"] == len(expected)


def test_items_carry_the_types_the_schema_says(demo):
    client = demo.client()
    schema = client.get("/ogc/collections/patches/schema").json()["properties"]
    features = client.get("/ogc/collections/patches/items", params={"limit": 1000}).json()["features"]
    python = {"number": (int, float), "integer": int, "string": str, "boolean": bool, "array": list, "object": dict}
    seen = set()
    for feature in features:
        assert isinstance(feature["id"], int)
        for name, value in feature["properties"].items():
            if value is None:
                continue
            expected = schema[name]
            assert isinstance(value, python[expected["type"]]) and not (expected["type"] == "number" and
                                                                       isinstance(value, bool)), (name, value)
            if expected.get("format") == "date":
                date.fromisoformat(value)
            seen.add(name)
    assert {"area_mu", "cultivated_mu", "rectified_mu", "issued_on"} <= seen


# --- the OpenAPI document and paging -----------------------------------------------------------

def test_the_openapi_document_gdal_pages_by(demo):
    client = demo.client()
    landing = client.get("/ogc").json()
    desc = next(link for link in landing["links"] if link["rel"] == "service-desc")
    assert desc["href"] == "http://testserver/ogc/api"
    assert desc["type"] == "application/vnd.oai.openapi+json;version=3.0"
    answer = client.get("/ogc/api")
    assert answer.headers["content-type"] == "application/vnd.oai.openapi+json;version=3.0"
    doc = answer.json()
    assert doc["openapi"].startswith("3.0") and doc["servers"] == [{"url": "http://testserver/ogc"}]
    for path in ("/collections/{collectionId}/items", "/collections/patches/items"):
        refs = [p["$ref"] for p in doc["paths"][path]["get"]["parameters"]]
        assert "#/components/parameters/limit" in refs and "#/components/parameters/q.status" in refs
    limit = doc["components"]["parameters"]["limit"]["schema"]
    assert (limit["default"], limit["maximum"]) == (100, 10_000)
    assert not any(p.startswith("/ogc") for p in doc["paths"])
    default_page = client.get("/ogc/collections/patches/items").json()["features"]
    assert len(default_page) == min(100, len(list_patches(demo.store)))


def test_a_method_the_items_do_not_take_is_405_with_allow(demo):
    """QGIS 3.40 asks OPTIONS on the items to learn whether it may edit: the answer must say what is allowed."""
    client = demo.client()
    for method in ("OPTIONS", "POST", "DELETE"):
        answer = client.request(method, "/ogc/collections/patches/items")
        assert answer.status_code == 405 and answer.json()["code"] == "method_not_allowed"
        assert answer.headers["allow"] == "GET"


def test_number_matched_is_estimated_above_the_bound_and_paging_still_reaches_every_patch(demo, monkeypatch):
    client = demo.client()
    everything = sorted(list_patches(demo.store)["patch_code"])
    monkeypatch.setattr(ogc_meta, "EXACT_UP_TO", 5)
    first = client.get("/ogc/collections/patches/items", params={"limit": 10}).json()
    estimated = demo.store.backend == "postgis"
    assert first.get("numberMatchedEstimated", False) is estimated
    assert first["numberMatched"] >= 6 if estimated else first["numberMatched"] == len(everything)
    codes, page = [], first
    while True:
        codes += [f["properties"]["patch_code"] for f in page["features"]]
        following = [link["href"] for link in page["links"] if link["rel"] == "next"]
        if not following:
            break
        page = client.get(following[0].removeprefix("http://testserver")).json()
    assert sorted(codes) == everything
    # with bound parameters (a filter, a scope) the estimate is asked for the same query
    monkeypatch.setattr(ogc_meta, "EXACT_UP_TO", 0)
    scoped = demo.client("one_village").get("/ogc/collections/patches/items",
                                            params={"filter": "area_mu > 0", "limit": 1}).json()
    assert scoped.get("numberMatchedEstimated", False) is estimated and scoped["numberReturned"] == 1
    monkeypatch.setattr(ogc_meta, "EXACT_UP_TO", 100_000)
    assert "numberMatchedEstimated" not in client.get("/ogc/collections/patches/items").json()


# --- extents follow the data ---------------------------------------------------------------------

def test_the_extent_follows_an_import(db_url, tmp_path):
    with open_store(db_url) as store:
        import_boundaries(store, bf.township_shapefile(tmp_path), BoundaryOptions(level="township"))
        import_boundaries(store, bf.villages_shapefile(tmp_path), BoundaryOptions(level="village"))
        import_batch(store, bf.weipian_geojson(tmp_path), ImportOptions(source="natural-resources", batch="B",
                                                                         issued_on=date(2023, 6, 30)))
        accounts.add_user(store, "gis", PASSWORD, "viewer", ["*"])
        token = accounts.create_token(store, "gis", "tests")
        client = TestClient(create_app(store), headers={"Authorization": f"Bearer {token}"})
        before = client.get("/ogc/collections/patches").json()["extent"]
        assert before["spatial"]["bbox"][0] == pytest.approx(_bounds(store), abs=2e-7)
        assert before["temporal"]["interval"] == [["2023-06-30T00:00:00Z", "2023-06-30T00:00:00Z"]]
        assert client.get("/ogc/collections/patches").json()["extent"] == before          # cached, unchanged
        later = bf.canonical_patches()
        later["JCBH"] = [f"600109{i:04d}" for i in range(1, 7)]
        later["geometry"] = later.translate(xoff=0.01, yoff=0.02).geometry
        path = tmp_path / "later.geojson"
        later.to_file(path, driver="GeoJSON")
        import_batch(store, path, ImportOptions(source="natural-resources", batch="C", issued_on=date(2024, 3, 1)))
        after = client.get("/ogc/collections").json()["collections"]
        patches = next(c for c in after if c["id"] == "patches")["extent"]
        assert patches["spatial"]["bbox"][0] == pytest.approx(_bounds(store), abs=2e-7)
        assert patches["spatial"]["bbox"][0][2] > before["spatial"]["bbox"][0][2] + 0.009
        assert patches["temporal"]["interval"] == [["2023-06-30T00:00:00Z", "2024-03-01T00:00:00Z"]]
        batch_c = next(c for c in after if c["title"] == "C")
        assert batch_c["extent"]["spatial"]["bbox"][0] == pytest.approx(_bounds(store, batch="C"), abs=2e-7)
        queryables = client.get(f"/ogc/collections/{batch_c['id']}/queryables").json()["properties"]
        assert queryables["status"]["type"] == "string"
