"""The HTTP service's first slice: JSON API and OGC API Features, read by GDAL's OAPIF driver."""

from __future__ import annotations

import re

import functools
import json
import os
import socket
import subprocess
import threading
import time
from datetime import date

import pytest
from fastapi.testclient import TestClient

import bureau_files as bf
from geo_tracker.server.app import create_app
from geo_tracker.services import accounts, tracking
from geo_tracker.services.batches import ImportOptions, import_batch
from geo_tracker.services.boundaries import BoundaryOptions, import_boundaries


@pytest.fixture
def served(store, tmp_path):
    import_boundaries(store, bf.township_shapefile(tmp_path), BoundaryOptions(level="township"))
    import_boundaries(store, bf.villages_shapefile(tmp_path), BoundaryOptions(level="village"))
    import_batch(store, bf.weipian_geojson(tmp_path), ImportOptions(source="natural-resources", batch="B",
                                                                     issued_on=date(2023, 6, 30)))
    tracking.verify_patch(store, "5001090001", "illegal", date(2023, 7, 5))
    accounts.add_user(store, "gis", "secret-password", "viewer", ["*"])
    store.test_token = accounts.create_token(store, "gis", "tests")
    return store


def client_for(store) -> TestClient:
    return TestClient(create_app(store), headers={"Authorization": f"Bearer {store.test_token}"})


def test_json_api_and_errors(served):
    client = client_for(served)
    patches = client.get("/api/v1/patches", params={"status": "illegal"}).json()
    assert [f["properties"]["patch_code"] for f in patches["features"]] == ["5001090001"]
    early = client.get("/api/v1/patches", params={"as_of": "2023-07-01", "status": "illegal"}).json()
    assert early["features"] == []
    shown = client.get("/api/v1/patches/B/5001090001").json()
    assert shown["status"] == "illegal" and shown["batch"] == "B"
    missing = client.get("/api/v1/patches/nope")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    bad = client.get("/api/v1/stats", params={"by": "colour"}, headers={"Accept-Language": "en"})
    assert bad.status_code == 422 and "is not one of" in bad.json()["message"]
    assert bad.json()["code"] == "invalid_value"
    chinese = client.get("/api/v1/stats", params={"by": "colour"})             # Chinese unless English is asked
    assert chinese.json()["code"] == "invalid_value" and "colour" in chinese.json()["message"]
    assert re.search(r"[\u4e00-\u9fff]", chinese.json()["message"])
    stats = client.get("/api/v1/stats", params={"by": "village"}).json()
    assert stats["total"]["patches"] == 6 and stats["total"]["illegal"] == 1


def test_ogc_api_features_core_and_crs(served):
    client = client_for(served)
    assert {link["rel"] for link in client.get("/ogc").json()["links"]} >= {"self", "service-desc", "conformance", "data"}
    assert "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs" in client.get("/ogc/conformance").json()["conformsTo"]
    ids = [c["id"] for c in client.get("/ogc/collections").json()["collections"]]
    assert ids[:2] == ["patches", "villages"] and len(ids) == 3 and ids[2].startswith("batch-")
    assert client.get(f"/ogc/collections/{ids[2]}/items").json()["numberMatched"] == 6
    page = client.get("/ogc/collections/patches/items", params={"limit": 4})
    data = page.json()
    assert page.headers["content-type"].startswith("application/geo+json")
    assert data["numberMatched"] == 6 and data["numberReturned"] == 4
    assert any(link["rel"] == "next" for link in data["links"])
    rest = client.get("/ogc/collections/patches/items", params={"limit": 4, "offset": 4}).json()
    assert rest["numberReturned"] == 2 and not any(link["rel"] == "next" for link in rest["links"])
    lonlat = data["features"][0]["geometry"]["coordinates"][0][0][0]
    latlon = client.get("/ogc/collections/patches/items", params={"limit": 4, "crs": "EPSG:4490"})
    assert latlon.headers["content-crs"] == "<http://www.opengis.net/def/crs/EPSG/0/4490>"
    assert latlon.json()["features"][0]["geometry"]["coordinates"][0][0][0] == lonlat[::-1]
    illegal = client.get("/ogc/collections/patches/items", params={"status": "illegal"}).json()
    assert [f["properties"]["patch_code"] for f in illegal["features"]] == ["5001090001"]
    before = client.get("/ogc/collections/patches/items", params={"datetime": "2023-07-01", "status": "illegal"}).json()
    assert before["numberMatched"] == 0
    box = f"{bf.LON0 - 0.0001},{bf.LAT0 - 0.0001},{bf.LON0 + 0.0005},{bf.LAT0 + 0.0005}"
    assert client.get("/ogc/collections/patches/items", params={"bbox": box}).json()["numberMatched"] == 1
    fid = data["features"][0]["id"]
    assert client.get(f"/ogc/collections/patches/items/{fid}").json()["id"] == fid
    assert client.get("/ogc/collections/villages/items").json()["numberMatched"] == 3
    assert client.get("/ogc/collections/nope/items").status_code == 404


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_gdal_reads_the_collections_over_oapif(served):
    import uvicorn

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(served), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(100):
        if server.started:
            break
        time.sleep(0.05)
    try:
        url = f"OAPIF:http://127.0.0.1:{port}/ogc"
        env = {**os.environ, "GDAL_HTTP_HEADERS": f"Authorization: Bearer {served.test_token}"}
        run = functools.partial(subprocess.run, capture_output=True, text=True, timeout=60, env=env)
        listing = run(["ogrinfo", "-ro", url])
        assert "patches" in listing.stdout and "villages" in listing.stdout, listing.stdout + listing.stderr
        summary = run(["ogrinfo", "-ro", "-so", url, "patches"])
        assert "Feature Count: 6" in summary.stdout, summary.stdout + summary.stderr
        full = run(["ogrinfo", "-ro", url, "patches", "-where", "patch_code = '5001090001'"])
        assert "status (String) = illegal" in full.stdout, full.stdout + full.stderr
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_vector_tiles_and_their_map_page_from_the_service(served):
    import math

    import mapbox_vector_tile

    client = client_for(served)
    z = 14
    n = 2 ** z
    x = int((bf.LON0 + 0.003 + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(bf.LAT0 + 0.002))) / math.pi) / 2 * n)
    response = client.get(f"/tiles/{z}/{x}/{y}.pbf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    assert mapbox_vector_tile.decode(response.content)["patches"]["features"]
    before = client.get(f"/tiles/{z}/{x}/{y}.pbf?as_of=1999-01-01")
    assert before.status_code == 200 and "patches" not in mapbox_vector_tile.decode(before.content)
    assert before.headers["etag"] != response.headers["etag"]
    assert client.get(f"/tiles/{z}/{x}/{y}.pbf?as_of=2023-13-01").status_code == 422
    assert client.get("/tiles/3/9/0.pbf").status_code == 422
    page = client.get("/map/tiles").text
    assert 'src="/lib/leaflet/leaflet.js"' in page and "/tiles/{z}/{x}/{y}.pbf" in page
    assert client.get("/lib/leaflet/leaflet.js").status_code == 200


def test_pages_are_cut_in_sql_and_agree_with_the_whole_list(served):
    client = client_for(served)
    everything = [f["properties"]["patch_code"] for f in client.get("/api/v1/patches").json()["features"]]
    page = client.get("/api/v1/patches", params={"limit": 2, "offset": 1}).json()["features"]
    assert [f["properties"]["patch_code"] for f in page] == everything[1:3]
    past = client.get("/api/v1/patches", params={"limit": 2, "offset": 1, "as_of": "2023-12-31"}).json()
    assert [f["properties"]["patch_code"] for f in past["features"]] == everything[1:3]
    ogc = [f["properties"]["patch_code"] for offset in (0, 2, 4) for f in client.get(
        "/ogc/collections/patches/items", params={"limit": 2, "offset": offset}).json()["features"]]
    assert ogc == everything
    box = f"{bf.LON0 - 0.001},{bf.LAT0 - 0.001},{bf.LON0 + 0.0025},{bf.LAT0 + 0.0025}"
    now = client.get("/ogc/collections/patches/items", params={"bbox": box}).json()
    then = client.get("/ogc/collections/patches/items", params={"bbox": box, "datetime": "2023-12-31"}).json()
    assert now["numberMatched"] == then["numberMatched"] == 3
    assert {f["id"] for f in now["features"]} == {f["id"] for f in then["features"]}
    fid = now["features"][0]["id"]
    assert client.get(f"/ogc/collections/patches/items/{fid}").json()["id"] == fid
    assert client.get("/ogc/collections/patches/items/999999").status_code == 404


def test_a_part_drawn_on_the_map_counts_where_it_covers_the_patch(served):
    client = client_for(served)
    accounts.add_user(served, "field", "secret-password", "enforcer", ["*"])
    enforcer = TestClient(create_app(served), headers={
        "Authorization": f"Bearer {accounts.create_token(served, 'field', 'tests')}"})
    lon, lat, d = bf.LON0, bf.LAT0, 0.0004          # patch 1 is the square LON0..+0.0008, LAT0..+0.0008
    half = {"type": "Polygon", "coordinates": [[[lon - d, lat - d], [lon + d, lat - d], [lon + d, lat + 0.002],
                                                [lon - d, lat + 0.002], [lon - d, lat - d]]]}
    form = {"on": "2023-08-01", "measure": "demolition"}
    done = enforcer.post("/api/v1/patches/5001090001/rectify", data={**form, "drawn": json.dumps(half)})
    assert done.status_code == 200, done.text
    area = client.get("/api/v1/patches/5001090001").json()["area_mu"]
    assert done.json()["rectified_mu"] == pytest.approx(area / 2, rel=0.01)   # only the half over the patch
    away = {**half, "coordinates": [[[x + 0.01, y] for x, y in half["coordinates"][0]]]}
    refused = enforcer.post("/api/v1/patches/5001090001/rectify", data={**form, "drawn": json.dumps(away)})
    assert refused.status_code == 422 and refused.json()["field"] == "drawn"
    garbage = enforcer.post("/api/v1/patches/5001090001/rectify", data={**form, "drawn": "{not json"})
    assert garbage.status_code == 422 and garbage.json()["field"] == "drawn"
