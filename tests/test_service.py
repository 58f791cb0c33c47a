"""The service over a real server process on both backends: API, roles and units, uploads, OGC, tiles."""

from __future__ import annotations

import io
import json
import math
import re
import os
import subprocess
import zipfile
from datetime import date, timedelta

import geopandas as gpd
import httpx
import pytest
import shapely

import bureau_files as bf
from live_server import CLI, client, form_login, running_server
from geo_tracker.services import accounts, tracking
from geo_tracker.services.batches import ImportOptions, import_batch
from geo_tracker.services.boundaries import BoundaryOptions, import_boundaries
from geo_tracker.store import open_store

OWN, OTHER = "500109107", "500109108"          # 澄江镇 and its neighbour
OWN_PATCH, OTHER_PATCH = "B/5001090001", "B/5001090005"
OWN_ISSUED, OTHER_ISSUED = "B/5001090002", "B/5001090006"
PASSWORD = "correct horse battery"


def two_townships(tmp_path):
    """石龙村 in 澄江镇 (own); 新华村 and 缙云村 in the neighbour (other). Patches 1-4 own, 5-6 other."""
    villages = bf.village_frame()
    villages["XJQYDM"] = [OWN, OTHER, OTHER]
    villages["CJQYDM"] = [OWN + "201", OTHER + "202", OTHER + "203"]
    a, b, c = villages.geometry
    towns = gpd.GeoDataFrame({"XZQDM": [OWN, OTHER], "XZQMC": ["澄江镇", "邻镇"]},
                             geometry=[a, shapely.union(b, c)], crs=4490)
    town_path = bf.write_shapefile(towns, tmp_path / "乡镇.shp", crs=4523, keep_cpg=False)
    return town_path, bf.villages_shapefile(tmp_path, villages)


@pytest.fixture
def county(db_url, tmp_path):
    """A county database: two townships, one batch, two illegal patches, users of every role."""
    with open_store(db_url) as store:
        towns, villages = two_townships(tmp_path)
        import_boundaries(store, towns, BoundaryOptions(level="township"))
        import_boundaries(store, villages, BoundaryOptions(level="village"))
        import_batch(store, bf.weipian_geojson(tmp_path), ImportOptions(source="natural-resources", batch="B",
                                                                         issued_on=date(2023, 6, 30)))
        for ref in (OWN_PATCH, OTHER_PATCH):
            tracking.verify_patch(store, ref, "illegal", date(2023, 7, 5), user="setup")
        tokens = {}
        for role in accounts.ROLES:
            accounts.add_user(store, f"{role}_own", PASSWORD, role, [OWN])
            tokens[role] = accounts.create_token(store, f"{role}_own", "tests")
        accounts.add_user(store, "county", PASSWORD, "admin", ["*"])
        tokens["county"] = accounts.create_token(store, "county", "tests")
    return db_url, tokens


@pytest.fixture
def server(county, tmp_path):
    db_url, tokens = county
    with running_server(db_url, tmp_path / "server.log") as base:
        yield base, tokens


def jpeg_bytes() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 8), "green").save(out, "JPEG")
    return out.getvalue()


def test_json_api_end_to_end(server, tmp_path):
    base, tokens = server
    anon = client(base)
    assert anon.get("/healthz").json() == {"status": "ok"}
    assert anon.get("/readyz").json()["status"] == "ready"
    refused = anon.get("/api/v1/patches")
    assert refused.status_code == 401 and refused.json()["code"] == "not_authenticated"
    assert "Bearer" in refused.headers["www-authenticate"]
    assert anon.get("/api/v1/openapi.json").status_code == 401

    enforcer, county = client(base, tokens["enforcer"]), client(base, tokens["county"])
    spec = enforcer.get("/api/v1/openapi.json").json()
    assert "/api/v1/patches/{ref}/rectify" in spec["paths"] and "/api/v1/batches" in spec["paths"]

    own = enforcer.get("/api/v1/patches").json()["features"]
    assert sorted(f["properties"]["patch_code"] for f in own) == [f"500109000{i}" for i in range(1, 5)]
    assert len(county.get("/api/v1/patches").json()["features"]) == 6

    verified = enforcer.post(f"/api/v1/patches/{OWN_ISSUED}/verify", json={"result": "illegal", "on": "2023-07-06"})
    assert verified.status_code == 200 and verified.json()["status"] == "illegal"
    shown = enforcer.get(f"/api/v1/patches/{OWN_ISSUED}").json()
    assert shown["events"][-1]["actor"] == "enforcer_own"          # the authenticated user, not the OS user
    version = shown["row_version"]

    photo = {"evidence": ("现场.jpg", jpeg_bytes(), "image/jpeg")}
    done = enforcer.post(f"/api/v1/patches/{OWN_PATCH}/rectify", files=photo,
                         data={"on": "2023-08-01", "measure": "demolition", "area_mu": "0.1"})
    assert done.status_code == 200, done.text
    assert done.json()["rectified_mu"] == pytest.approx(0.1)
    fake = enforcer.post(f"/api/v1/patches/{OWN_PATCH}/rectify",
                         files={"evidence": ("photo.jpg", b"MZ\x90\x00 not a photo", "image/jpeg")},
                         data={"on": "2023-08-02", "measure": "demolition", "area_mu": "0.1"})
    assert fake.status_code == 422 and fake.json()["code"] == "upload_type_not_allowed"
    assert fake.json()["field"] == "evidence"
    after = enforcer.get(f"/api/v1/patches/{OWN_PATCH}").json()
    assert after["rectified_mu"] == pytest.approx(0.1)               # the refused photo recorded nothing

    stale = enforcer.post(f"/api/v1/patches/{OWN_ISSUED}/rectify",
                          data={"on": "2023-08-01", "measure": "demolition", "area_mu": "0.1",
                                "expected_version": str(version - 1)})
    assert stale.status_code == 409 and stale.json()["code"] == "stale_row_version"
    early = enforcer.post(f"/api/v1/patches/{OWN_ISSUED}/close", json={"on": "2023-08-01"})
    assert early.status_code == 409 and early.json()["code"] == "transition_not_allowed"
    bad_date = enforcer.post(f"/api/v1/patches/{OWN_ISSUED}/verify", json={"result": "illegal", "on": "someday"})
    assert bad_date.status_code == 422 and bad_date.json()["field"] == "on"

    event = after["events"][-1]["id"]
    voided = enforcer.post(f"/api/v1/events/{event}/void", json={"reason": "录入错误"})
    assert voided.status_code == 200
    assert enforcer.get(f"/api/v1/patches/{OWN_PATCH}").json()["rectified_mu"] == 0

    opened = enforcer.post("/api/v1/cases", json={"case_no": "北碚自然资罚〔2023〕1号", "opened_on": "2023-07-10",
                                                  "patches": [OWN_PATCH], "violation": "非法占用土地"})
    assert opened.status_code == 201, opened.text
    no = "北碚自然资罚〔2023〕1号"
    assert enforcer.post(f"/api/v1/cases/{no}/decision", json={"on": "2023-08-10", "fine_yuan": 5000}).status_code == 200
    assert enforcer.post(f"/api/v1/cases/{no}/close", json={"on": "2023-09-10"}).status_code == 200
    assert enforcer.get(f"/api/v1/cases/{no}").json()["status"] == "closed"
    assert [c["case_no"] for c in enforcer.get("/api/v1/cases").json()] == [no]

    assert county.get("/api/v1/stats", params={"by": "village"}).json()["total"]["patches"] == 6


def test_api_figures_equal_the_cli(server, county):
    base, tokens = server
    db_url, _ = county
    api = client(base, tokens["county"]).get("/api/v1/stats", params=[("by", "village"), ("as_of", "2023-12-31")])
    cli = subprocess.run([CLI, "--db", db_url, "stats", "--format", "json", "--by", "village", "--as-of", "2023-12-31"],
                         capture_output=True, text=True, check=True)
    assert api.json() == json.loads(cli.stdout)
    scoped = client(base, tokens["viewer"]).get("/api/v1/stats").json()
    assert scoped["total"]["patches"] == 4 and scoped["total"]["illegal"] == 1


def test_downloads_report_and_exports(server):
    import docx

    base, tokens = server
    viewer = client(base, tokens["viewer"])
    report = viewer.get("/api/v1/report", params={"format": "docx", "year": 2023})
    assert report.status_code == 200 and "attachment" in report.headers["content-disposition"]
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(report.content)).paragraphs)
    stats = viewer.get("/api/v1/stats", params={"year": 2023, "by": "source"}).json()
    area = stats["groups"][0]["printed"]["area_mu"]
    assert f"{area}亩" in text
    for fmt in ("gpkg", "geojson", "xlsx", "shp"):
        got = viewer.get(f"/api/v1/exports/patches.{fmt}")
        assert got.status_code == 200, (fmt, got.text)
    features = viewer.get("/api/v1/exports/patches.geojson").json()["features"]
    assert len(features) == 4                                       # the viewer's township only
    names = zipfile.ZipFile(io.BytesIO(viewer.get("/api/v1/exports/patches.shp").content)).namelist()
    assert {"patches.shp", "patches.dbf", "patches.shx", "patches.cpg"} <= set(names)
    bad = viewer.get("/api/v1/exports/patches.pdf")
    assert bad.status_code == 422 and bad.json()["field"] == "fmt"


def test_batch_upload_dry_run_then_import_and_bad_files(server, tmp_path):
    base, tokens = server
    liaison = client(base, tokens["county"])          # a county-wide delivery: a county account imports it
    sample = bf.weipian_geojson(tmp_path)
    form = {"source": "natural-resources", "batch": "B", "issued_on": "2023-10-31"}
    changed = gpd.read_file(sample)
    changed = changed[changed["JCBH"] != "5001090006"]
    changed.to_file(tmp_path / "reissue.geojson", driver="GeoJSON")
    content = (tmp_path / "reissue.geojson").read_bytes()
    dry = liaison.post("/api/v1/batches", data={**form, "dry_run": "true"},
                       files={"file": ("reissue.geojson", content, "application/geo+json")})
    assert dry.status_code == 200, dry.text
    assert dry.json()["diff_codes"]["withdrawn"] == ["5001090006"]
    viewer = client(base, tokens["county"])
    assert len(viewer.get("/api/v1/patches").json()["features"]) == 6   # a dry run stores nothing
    real = liaison.post("/api/v1/batches", data=form, files={"file": ("reissue.geojson", content, "application/json")})
    assert real.status_code == 200 and real.json()["accepted"] == 5
    assert len(viewer.get("/api/v1/patches").json()["features"]) == 5
    assert viewer.get("/api/v1/batches/B").json()["name"] == "B"

    again = liaison.post("/api/v1/batches", data={**form, "batch": "B（重发）"},
                         files={"file": ("重发.geojson", content, "application/json")}, headers={"Accept-Language": "en"})
    assert again.status_code == 409 and again.json()["code"] == "duplicate_delivery"
    assert "by county as batch 'B'" in again.json()["message"]
    looked = liaison.post("/api/v1/batches", data={**form, "batch": "B（重发）", "dry_run": "true"},
                          files={"file": ("重发.geojson", content, "application/json")}).json()
    assert looked["needs_accept_duplicates"] and len(looked["duplicates"]) == 5
    assert looked["duplicate_of"]["batch"] == "B" and looked["duplicate_of"]["imported_by"] == "county"
    assert len(viewer.get("/api/v1/patches").json()["features"]) == 5

    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("../../escape.shp", b"x")
    unsafe = liaison.post("/api/v1/batches", data={**form, "batch": "C"},
                          files={"file": ("卫片.zip", zipped.getvalue(), "application/zip")})
    assert unsafe.status_code == 422 and unsafe.json()["code"] == "unsafe_archive"
    missing = liaison.post("/api/v1/batches", data={"batch": "C", "issued_on": "2023-10-31"},
                           files={"file": ("reissue.geojson", content)})
    assert missing.status_code == 422 and missing.json()["field"] == "source"
    enforcer = client(base, tokens["enforcer"])
    denied = enforcer.post("/api/v1/batches", data=form, files={"file": ("reissue.geojson", content)})
    assert denied.status_code == 403 and denied.json()["code"] == "forbidden"


def test_sessions_cookies_and_csrf(server):
    base, _ = server
    browser = client(base)
    wrong = browser.post("/api/v1/login", data={"username": "enforcer_own", "password": "nope"})
    assert wrong.status_code == 401
    login = browser.post("/api/v1/login", data={"username": "enforcer_own", "password": PASSWORD})
    assert login.status_code == 200
    cookie = login.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    csrf = login.json()["csrf_token"]
    assert browser.get("/api/v1/me").json()["role"] == "enforcer"
    body = {"result": "illegal", "on": "2023-07-06"}
    forged = browser.post(f"/api/v1/patches/{OWN_ISSUED}/verify", json=body)
    assert forged.status_code == 403 and forged.json()["code"] == "csrf_token_missing"
    ok = browser.post(f"/api/v1/patches/{OWN_ISSUED}/verify", json=body, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 200
    assert browser.post("/api/v1/logout", headers={"X-CSRF-Token": csrf}).status_code == 200
    assert browser.get("/api/v1/me").status_code == 401


def test_users_tokens_and_disable(server):
    base, tokens = server
    admin = client(base, tokens["county"])
    made = admin.post("/api/v1/users", json={"username": "lisi", "password": PASSWORD, "role": "viewer",
                                             "units": [OWN]})
    assert made.status_code == 201 and made.json()["units"] == [OWN]
    unknown = admin.post("/api/v1/users", json={"username": "wangwu", "password": PASSWORD, "role": "viewer",
                                                "units": ["999"]})
    assert unknown.status_code == 422 and unknown.json()["field"] == "units"
    basic = client(base, auth=("lisi", PASSWORD))
    assert basic.get("/api/v1/me").json()["username"] == "lisi"
    assert admin.post("/api/v1/users/lisi/disable").json()["disabled"] is True
    assert basic.get("/api/v1/me").status_code == 401
    assert client(base, tokens["viewer"]).get("/api/v1/users").status_code == 403


def test_tiles_are_versioned_by_writes(server):
    import mapbox_vector_tile

    base, tokens = server
    enforcer = client(base, tokens["enforcer"])
    n = 2 ** 14
    x = int((bf.LON0 + 0.003 + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(bf.LAT0 + 0.002))) / math.pi) / 2 * n)
    first = enforcer.get(f"/tiles/14/{x}/{y}.pbf")
    assert first.status_code == 200
    layers = mapbox_vector_tile.decode(first.content)
    assert {"patches", "villages"} <= set(layers)
    codes = {f["properties"]["patch_code"] for f in layers["patches"]["features"]}
    assert codes and codes <= {f"500109000{i}" for i in range(1, 5)}   # only the own township's patches
    assert {f["properties"]["batch"] for f in layers["patches"]["features"]} == {"B"}   # for the link to its page
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "private, no-cache"
    assert enforcer.get(f"/tiles/14/{x}/{y}.pbf", headers={"If-None-Match": etag}).status_code == 304
    county = client(base, tokens["county"])                 # a write in the other township: not in this scope
    assert county.post(f"/api/v1/patches/{OTHER_ISSUED}/verify",
                       json={"result": "legal", "on": "2023-07-06"}).status_code == 200
    assert enforcer.get(f"/tiles/14/{x}/{y}.pbf", headers={"If-None-Match": etag}).status_code == 304
    enforcer.post(f"/api/v1/patches/{OWN_ISSUED}/verify", json={"result": "legal", "on": "2023-07-06"})
    assert enforcer.get(f"/tiles/14/{x}/{y}.pbf", headers={"If-None-Match": etag}).status_code == 200


def test_security_headers(county):
    from fastapi.testclient import TestClient

    from geo_tracker.server.app import create_app
    from geo_tracker.config import ServiceSettings

    db_url, tokens = county
    with open_store(db_url) as store:
        plain = TestClient(create_app(store))
        login = plain.get("/login")
        csp = login.headers["content-security-policy"]
        assert "script-src 'self' 'nonce-" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
        assert "frame-ancestors 'self'" in csp and "strict-transport-security" not in login.headers
        assert plain.get("/lib/leaflet/leaflet.js").headers.get("cache-control") != "no-store"
        api = TestClient(create_app(store), headers={"Authorization": f"Bearer {tokens['viewer']}"})
        assert api.get("/api/v1/patches").headers["cache-control"] == "no-store"
        nonces = {api.get("/login").headers["content-security-policy"] for _ in range(2)}
        assert len(nonces) == 2                                   # a fresh nonce per answer
        secure = TestClient(create_app(store, ServiceSettings(cookie_secure=True)))
        assert secure.get("/login").headers["strict-transport-security"].startswith("max-age=")


def test_upload_size_limit(county, tmp_path):
    db_url, tokens = county
    with running_server(db_url, tmp_path / "small.log", max_upload_mb=0.05) as base:
        liaison = client(base, tokens["liaison"])
        big = b"0" * 100_000
        declared = liaison.post("/api/v1/batches", data={"source": "forestry", "batch": "F", "issued_on": "2023-01-01"},
                                files={"file": ("big.zip", big)})
        assert declared.status_code == 413 and declared.json()["code"] == "upload_too_large"

        def chunks():
            for _ in range(10):
                yield b"x" * 10_000
        streamed = liaison.post("/api/v1/batches", content=chunks(),
                                headers={"Content-Type": "multipart/form-data; boundary=zzz"})
        assert streamed.status_code == 413
        assert liaison.get("/healthz").status_code == 200


# --- authorisation matrix: endpoint × role × own/other township ----------------------------
ROLES = ("viewer", "enforcer", "liaison", "admin", "reviewer")
EVERYONE = {r: (200, 404) for r in ROLES}


def trackers(own_status: int) -> dict:
    """Enforcers and admins get through (then ``own_status``); the others are refused before any lookup."""
    return {"viewer": (403, 403), "enforcer": (own_status, 404), "liaison": (403, 403), "admin": (own_status, 404),
            "reviewer": (403, 403)}


def reviewers(own_status: int) -> dict:
    """Only reviewers get through (then ``own_status``); the township's own roles never review."""
    return {**{r: (403, 403) for r in ROLES}, "reviewer": (own_status, 404)}


def importers(status: int, other: int | None = None) -> dict:
    """Liaisons and admins get through (then ``status``; ``other`` for the other township's data)."""
    other = status if other is None else other
    return {"viewer": (403, 403), "enforcer": (403, 403), "liaison": (status, other), "admin": (status, other),
            "reviewer": (403, 403)}


def field_kit() -> dict:
    return {**trackers(200), "enforcer": (200, 200), "admin": (200, 200)}


def all_roles(status: int) -> dict:
    return {r: (status, status) for r in ROLES}


DAY = {"on": "2023-07-06"}
#: (name, method, path, request keywords, {role: (status on own township, status on the other)}).
#: ``{patch}``, ``{event}``, ``{case}``, ``{fid}`` and ``{n}`` are filled per cell.
MATRIX = [
    ("show patch", "GET", "/api/v1/patches/{patch}", {}, EVERYONE),
    ("verify", "POST", "/api/v1/patches/{patch}/verify", {"json": {"result": "illegal", **DAY}},
     trackers(409)),                                        # allowed, but the patch is verified already
    ("rectify", "POST", "/api/v1/patches/{patch}/rectify",
     {"data": {"on": "2023-08-01", "measure": "demolition", "area_mu": "0.001"}}, trackers(200)),
    ("close", "POST", "/api/v1/patches/{patch}/close", {"json": DAY}, trackers(409)),
    ("submit", "POST", "/api/v1/patches/{patch}/submit", {"data": DAY}, trackers(409)),   # no review policy here
    ("review", "POST", "/api/v1/patches/{patch}/review", {"json": {"decision": "approve", **DAY}},
     reviewers(409)),                                       # allowed, but nothing was submitted
    ("review queue", "GET", "/api/v1/review/queue", {}, all_roles(200)),
    ("returned", "GET", "/api/v1/review/returned", {}, all_roles(200)),
    ("set review policy", "PUT", "/api/v1/review/policies/forestry", {"json": {"levels": "county"}},
     {**all_roles(403)}),                                   # admins of every unit only
    ("void", "POST", "/api/v1/events/{event}/void", {"json": {"reason": " "}},
     {**trackers(422), "reviewer": (422, 404)}),            # reviewers void the county's answers (not this one)
    ("show case", "GET", "/api/v1/cases/{case}", {}, EVERYONE),
    ("open case", "POST", "/api/v1/cases",
     {"json": {"case_no": "案{n}", "opened_on": "2023-07-10", "patches": ["{patch}"]}},
     trackers(409)),                                        # allowed, but the patch has its case already
    ("decide case", "POST", "/api/v1/cases/{case}/decision", {"json": {"on": "2023-08-10", "fine_yuan": 100}},
     trackers(200)),
    ("execute case early", "POST", "/api/v1/cases/{case}/execution", {"json": {"on": "2023-08-01"}},
     trackers(422)),                                        # allowed, but before the decision of 2023-08-10
    ("close case early", "POST", "/api/v1/cases/{case}/close", {"json": {"on": "2023-01-01"}}, trackers(422)),
    ("OGC item", "GET", "/ogc/collections/patches/items/{fid}", {}, EVERYONE),
    ("list patches", "GET", "/api/v1/patches", {}, all_roles(200)),
    ("stats", "GET", "/api/v1/stats", {}, all_roles(200)),
    ("cases", "GET", "/api/v1/cases", {}, all_roles(200)),
    ("boundaries", "GET", "/api/v1/boundaries", {}, all_roles(200)),
    ("batches", "GET", "/api/v1/batches", {}, all_roles(200)),
    ("OGC collections", "GET", "/ogc/collections", {}, all_roles(200)),
    ("report", "GET", "/api/v1/report", {"params": {"format": "md"}}, all_roles(200)),
    ("export", "GET", "/api/v1/exports/patches.geojson", {}, all_roles(200)),
    # Writes by import stay in the importer's units: the other township's patches or villages are refused.
    ("import dry run", "POST", "/api/v1/batches",
     {"data": {"source": "natural-resources", "batch": "B", "issued_on": "2023-10-31", "dry_run": "true"},
      "files": "batch"}, importers(200, 403)),
    ("re-issue", "POST", "/api/v1/batches",
     {"data": {"source": "natural-resources", "batch": "B", "issued_on": "2023-10-31"}, "files": "batch"},
     importers(200, 403)),
    ("import boundaries", "POST", "/api/v1/boundaries", {"data": {"level": "village"}, "files": "garbage"},
     importers(422)),                                       # allowed, then the file is refused
    ("redraw villages", "POST", "/api/v1/boundaries", {"data": {"level": "village", "valid_from": "{day}"},
                                                        "files": "villages"}, importers(200, 403)),
    # Users are managed only by admins of every unit: a township admin could widen anyone's scope.
    ("users", "GET", "/api/v1/users", {}, all_roles(403)),
    ("add user", "POST", "/api/v1/users",
     {"json": {"username": "u{n}", "password": PASSWORD, "role": "admin", "units": ["*"]}}, all_roles(403)),
    ("batch", "GET", "/api/v1/batches/B", {}, all_roles(200)),
    # The field kit: a package and a sync answer 200 inside the user's scope and hold nothing outside it
    # (test_field_sync.py checks what they hold); only those who track may take one.
    ("field package", "GET", "/api/v1/field/package", {}, field_kit()),
    ("field sync", "POST", "/api/v1/field/sync", {"json": {"actions": []}}, field_kit()),
    ("field imagery", "GET", "/api/v1/field/imagery", {}, field_kit()),
    # Imagery (影像): a patch's pair only through a patch the user may see; the list is cut to their units
    # (test_imagery.py checks what it holds and the tiles' scope).
    ("patch imagery", "GET", "/api/v1/patches/{patch}/imagery", {}, EVERYONE),
    ("imagery", "GET", "/api/v1/imagery", {}, all_roles(200)),
]


def _fill(value, names: dict):
    if isinstance(value, str):
        return value.format(**names)
    if isinstance(value, dict):
        return {k: _fill(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, names) for v in value]
    return value


def test_authorisation_matrix(server, tmp_path):
    base, tokens = server
    county = client(base, tokens["county"])
    targets = {}
    for side, ref in (("own", OWN_PATCH), ("other", OTHER_PATCH)):
        patch = county.get(f"/api/v1/patches/{ref}").json()
        case_no = f"{side}案"
        assert county.post("/api/v1/cases", json={"case_no": case_no, "opened_on": "2023-07-10",
                                                  "patches": [ref]}).status_code == 201
        items = county.get("/ogc/collections/patches/items").json()["features"]
        fid = next(f["id"] for f in items if f["properties"]["patch_code"] == ref.split("/")[1])
        targets[side] = {"patch": ref, "event": patch["events"][0]["id"], "case": case_no, "fid": fid}
    patches = gpd.read_file(bf.weipian_geojson(tmp_path))
    sides = {"own": [f"500109000{i}" for i in range(1, 5)], "other": ["5001090005", "5001090006"]}
    files = {"garbage": {side: {"file": ("村界.geojson", b"{not json")} for side in sides}, "batch": {}, "villages": {}}
    villages = two_townships(tmp_path)[1]
    village_frame = gpd.read_file(villages, encoding="GBK")
    for side, codes in sides.items():
        path = tmp_path / f"{side}.geojson"
        patches[patches["JCBH"].isin(codes)].to_file(path, driver="GeoJSON")
        files["batch"][side] = {"file": (path.name, path.read_bytes())}
        town = OWN if side == "own" else OTHER
        shp = bf.villages_shapefile(tmp_path / side, village_frame[village_frame["XJQYDM"] == town])
        files["villages"][side] = [("file", (f.name, f.read_bytes())) for f in shp.parent.glob(f"{shp.stem}.*")]

    anonymous = client(base)
    failures, n = [], 0
    for name, method, path, keywords, expected in MATRIX:
        for role in ROLES:
            for side, want in zip(("own", "other"), expected[role]):
                n += 1
                names = {**targets[side], "n": n, "day": (date(2024, 1, 1) + timedelta(days=n)).isoformat()}
                kw = _fill({k: v for k, v in keywords.items() if k != "files"}, names)
                if "files" in keywords:
                    kw["files"] = files[keywords["files"]][side]
                got = client(base, tokens[role]).request(method, _fill(path, names), **kw)
                if got.status_code != want:
                    failures.append(f"{name} as {role} on {side}: {got.status_code} != {want}: {got.text[:160]}")
        names = {**targets["own"], "n": 0, "day": "2024-01-01"}
        kw = _fill({k: v for k, v in keywords.items() if k != "files"}, names)
        if "files" in keywords:
            kw["files"] = files[keywords["files"]]["own"]
        got = anonymous.request(method, _fill(path, names), **kw)
        if got.status_code != 401:
            failures.append(f"{name} anonymously: {got.status_code} != 401")
    assert not failures, "\n".join(failures)
    # A county user (units *) reaches the other township's patch that a township user cannot.
    assert county.get(f"/api/v1/patches/{OTHER_PATCH}").status_code == 200


# --- generated inputs ----------------------------------------------------------------------
EXAMPLES_PER_OPERATION = 12


def test_no_server_error_on_generated_inputs(server):
    """Schemathesis generates requests from our OpenAPI document: whatever it sends, no 500."""
    import schemathesis
    from hypothesis import HealthCheck, given, settings

    base, tokens = server
    auth = {"Authorization": f"Bearer {tokens['county']}"}
    schema = schemathesis.openapi.from_dict(httpx.get(f"{base}/api/v1/openapi.json", headers=auth).json())
    failures, calls = [], 0
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def run(case):
            nonlocal calls
            calls += 1
            response = case.call(base_url=base, headers=auth, timeout=60)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} {case.query} {case.body!r:.200}: "
                                f"{response.status_code} {response.text[:300]}")
        run()
    assert calls > 100
    assert not failures, "\n".join(failures[:20])


def test_gdal_reads_ogc_with_a_township_login(server):
    """QGIS and ArcGIS connect like GDAL's OAPIF driver: HTTP Basic with the user's name and password."""
    base, _ = server
    env = {**os.environ, "GDAL_HTTP_AUTH": "BASIC", "GDAL_HTTP_USERPWD": f"viewer_own:{PASSWORD}"}
    url = f"OAPIF:{base}/ogc"
    listing = subprocess.run(["ogrinfo", "-ro", url], capture_output=True, text=True, timeout=60, env=env)
    assert "patches" in listing.stdout and "batch-" in listing.stdout, listing.stdout + listing.stderr
    summary = subprocess.run(["ogrinfo", "-ro", "-so", url, "patches"], capture_output=True, text=True, timeout=60,
                             env=env)
    assert "Feature Count: 4" in summary.stdout, summary.stdout + summary.stderr   # own township only
    # GDAL 3.6 (Debian 12) predates OAPIF Part 2, so it asks for CRS84: lon/lat on the WGS 84 datum,
    # which CGCS2000 coordinates are within centimetres of. Newer GDAL and QGIS can ask for EPSG:4490.
    assert 'ID["EPSG",4326]' in summary.stdout and "Data axis to CRS axis mapping: 2,1" in summary.stdout
    one = subprocess.run(["ogrinfo", "-ro", url, "patches", "-where", "patch_code = '5001090001'"],
                         capture_output=True, text=True, timeout=60, env=env).stdout
    first = one.split("POLYGON")[1].lstrip(" (").split(",")[0].split()
    assert abs(float(first[0]) - bf.LON0) < 0.01 and abs(float(first[1]) - bf.LAT0) < 0.01, one
    denied = subprocess.run(["ogrinfo", "-ro", url], capture_output=True, text=True, timeout=60,
                            env={**env, "GDAL_HTTP_USERPWD": "viewer_own:wrong"})
    assert denied.returncode != 0 and "401" in denied.stdout + denied.stderr


def test_the_demo_database_is_served_with_its_printed_accounts(db_url, tmp_path):
    from geo_tracker.services.demo import run_demo

    result = run_demo(db_url)
    assert {a["username"] for a in result.accounts} == {"admin", "liaison", "enforcer", "viewer", "reviewer"}
    with running_server(db_url, tmp_path / "demo.log") as base:
        browser = client(base)
        login = browser.post("/api/v1/login", data={"username": "enforcer", "password": result.password})
        assert login.status_code == 200 and login.json()["user"]["units"] != ["*"]
        stats = browser.get("/api/v1/stats", params={"year": 2023, "by": "source"}).json()
        assert stats["total"]["patches"] > 0
        assert browser.get("/map").status_code == 200
        env = {**os.environ, "GDAL_HTTP_AUTH": "BASIC", "GDAL_HTTP_USERPWD": f"viewer:{result.password}"}
        listing = subprocess.run(["ogrinfo", "-ro", "-so", f"OAPIF:{base}/ogc", "patches"], capture_output=True,
                                 text=True, timeout=60, env=env)
        assert f"Feature Count: {len(result.patches)}" in listing.stdout, listing.stdout + listing.stderr


def test_settings_from_file_then_environment(tmp_path):
    from geo_tracker.config import load_settings
    from geo_tracker.errors import ConfigurationError

    path = tmp_path / "geo_tracker.toml"
    path.write_text("[service]\nmax_upload_mb = 500\nsession_hours = 8\npublic_docs = true\n", encoding="utf-8")
    settings = load_settings(path, environ={"GEO_TRACKER_SESSION_HOURS": "2"})
    assert (settings.max_upload_mb, settings.session_hours, settings.public_docs) == (500, 2, True)
    assert settings.max_upload_bytes == 500 * 1024 * 1024
    assert load_settings(environ={}).max_upload_mb == 200
    with pytest.raises(ConfigurationError, match="max_upload_mb"):
        load_settings(environ={"GEO_TRACKER_MAX_UPLOAD_MB": "lots"})
    path.write_text("[service]\nmax_upload = 1\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="unknown setting"):
        load_settings(path, environ={})


def test_cli_users_and_tokens(county):
    from click.testing import CliRunner

    from geo_tracker.cli import cli

    db_url, _ = county
    runner = CliRunner()
    added = runner.invoke(cli, ["--db", db_url, "users", "add", "zhangsan", "--role", "enforcer", "--unit", OWN,
                                "--name", "张三", "--password", PASSWORD])
    assert added.exit_code == 0 and "zhangsan (enforcer; units 500109107)" in added.output
    twice = runner.invoke(cli, ["--db", db_url, "users", "add", "zhangsan", "--role", "viewer", "--unit", OWN,
                                "--password", PASSWORD])
    assert twice.exit_code == 2 and "exists already" in twice.output
    weak = runner.invoke(cli, ["--db", db_url, "users", "add", "lisi", "--role", "viewer", "--unit", OWN,
                               "--password", "short"])
    assert weak.exit_code == 2 and "at least 8 characters" in weak.output
    token = runner.invoke(cli, ["--db", db_url, "tokens", "create", "zhangsan", "--days", "30"]).output.strip()
    with open_store(db_url) as store:
        assert accounts.token_principal(store, token).username == "zhangsan"
        assert runner.invoke(cli, ["--db", db_url, "users", "disable", "zhangsan"]).exit_code == 0
        with pytest.raises(Exception, match="unknown, revoked or expired"):
            accounts.token_principal(store, token)
    listed = runner.invoke(cli, ["--db", db_url, "users", "list"]).output
    assert "zhangsan" in listed and "yes" in listed



def test_scope_holds_for_batches_cases_shared_codes_and_staging(county, tmp_path):
    """What a review of the service found; each stays fixed."""
    from urllib.parse import quote

    from fastapi.testclient import TestClient

    from geo_tracker.server.app import create_app
    from geo_tracker.maps.builder import script_json

    db_url, tokens = county
    with open_store(db_url) as store:
        # A forestry batch whose patch shares its code with an own patch but lies in the other township.
        other = bf.canonical_patches().iloc[[4]].copy()
        other["JCBH"] = ["5001090001"]
        path = tmp_path / "other.geojson"
        other.to_file(path, driver="GeoJSON")
        import_batch(store, path, ImportOptions(source="forestry", batch="F", issued_on=date(2023, 6, 30),
                                                accept_duplicates=True))
        county_admin = TestClient(create_app(store), headers={"Authorization": f"Bearer {tokens['county']}"})
        assert county_admin.post("/api/v1/cases", json={"case_no": "共案", "opened_on": "2023-07-10",
                                                        "patches": [OWN_PATCH, OTHER_PATCH]}).status_code == 201
        enforcer = TestClient(create_app(store), headers={"Authorization": f"Bearer {tokens['enforcer']}"})

        batch = enforcer.get("/api/v1/batches/B").json()
        assert sorted(p["patch_code"] for p in batch["patch_list"]) == [f"500109000{i}" for i in range(1, 5)]
        assert batch["patches"] == 4 and all("report" not in i for i in batch["imports"])
        listed = {b["name"]: b["patches"] for b in enforcer.get("/api/v1/batches").json()}
        assert listed == {"B": 4}                                  # F holds none of theirs: not even its name
        hidden = enforcer.get("/api/v1/batches/F")
        assert hidden.status_code == 404 and hidden.json()["code"] == "batch_not_found"
        collections = [c["id"] for c in enforcer.get("/ogc/collections").json()["collections"]]
        assert len([c for c in collections if c.startswith("batch-")]) == 1

        shared = enforcer.get("/api/v1/cases/共案").json()
        assert shared["patches"] == ["5001090001"]                  # not the other township's 5001090005

        # The bare code names the own patch; the other township's twin neither blocks nor leaks.
        done = enforcer.post("/api/v1/patches/5001090001/rectify",
                             data={"on": "2023-08-01", "measure": "demolition", "area_mu": "0.01"})
        assert done.status_code == 200 and done.json()["patch"] == OWN_PATCH
        assert enforcer.get("/api/v1/patches/F/5001090001").status_code == 404

        township_admin = TestClient(create_app(store), headers={"Authorization": f"Bearer {tokens['admin']}"})
        assert township_admin.post("/api/v1/users/county/disable").status_code == 403

        browser = TestClient(create_app(store), headers={"Accept": "text/html"})
        form_login(browser, "liaison_own", PASSWORD)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', browser.get("/import").text).group(1)
        for token in ("..", ".", "../x", "a" * 22 + "/.."):
            escaped = browser.post("/import/confirm", data={"csrf_token": csrf, "token": token})
            assert escaped.status_code == 410, token
        assert browser.get("/dashboard?year=%C2%B2").status_code == 200
        assert browser.get("/dashboard?as_of=9999-12-31").status_code == 422
        assert county_admin.get("/api/v1/report", params={"format": "md", "as_of": "9999-12-31"}).status_code == 422
        assert enforcer.get(f"/patches/{quote(OWN_PATCH)}").headers["x-content-type-options"] == "nosniff"

    text = script_json({"name": "温泉<!--<script>x</script>&"})
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == {"name": "温泉<!--<script>x</script>&"}


def test_a_scoped_liaison_writes_only_inside_their_units(county, tmp_path):
    """The two high findings of the attack run: a township liaison could withdraw another
    township's patches by re-issuing a county-wide batch, and redraw its boundaries."""
    from fastapi.testclient import TestClient

    from geo_tracker.server.app import create_app

    db_url, tokens = county
    with open_store(db_url) as store:
        liaison = TestClient(create_app(store), headers={"Authorization": f"Bearer {tokens['liaison']}",
                                                               "Accept-Language": "en"})  # it reads English messages
        county_admin = TestClient(create_app(store), headers={"Authorization": f"Bearer {tokens['county']}"})
        current = lambda: sorted(f["properties"]["patch_code"]  # noqa: E731
                                 for f in county_admin.get("/api/v1/patches").json()["features"])
        before = current()
        form = {"source": "natural-resources", "batch": "B", "issued_on": "2023-10-31"}
        patches = gpd.read_file(bf.weipian_geojson(tmp_path))

        one = patches[patches["JCBH"] == "5001090001"]
        one.to_file(tmp_path / "one.geojson", driver="GeoJSON")
        content = (tmp_path / "one.geojson").read_bytes()
        dry = liaison.post("/api/v1/batches", data={**form, "dry_run": "true"}, files={"file": ("one.geojson", content)})
        assert dry.status_code == 200, dry.text
        assert dry.json()["diff_codes"]["withdrawn"] == ["5001090002", "5001090003", "5001090004"]
        done = liaison.post("/api/v1/batches", data=form, files={"file": ("one.geojson", content)}).json()
        assert done["diff"]["withdrawn"] == 3
        assert current() == ["5001090001", "5001090005", "5001090006"]     # the neighbour's patches stay

        foreign = patches[patches["JCBH"].isin(["5001090001", "5001090005"])]
        foreign.to_file(tmp_path / "foreign.geojson", driver="GeoJSON")
        refused = liaison.post("/api/v1/batches", data={**form, "batch": "C"},
                               files={"file": ("foreign.geojson", (tmp_path / "foreign.geojson").read_bytes())})
        assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
        assert "5001090005" in refused.json()["message"]
        assert [p["patch_code"] for p in refused.json()["problems"]] == ["5001090005"]
        assert current() == ["5001090001", "5001090005", "5001090006"]
        assert before != current()

        villages = bf.village_frame()
        villages["XJQYDM"] = [OTHER, OTHER, OTHER]
        villages["CJQYDM"] = [OTHER + "301", OTHER + "302", OTHER + "303"]
        path = bf.villages_shapefile(tmp_path / "a", villages)
        upload = [("file", (f.name, f.read_bytes())) for f in path.parent.glob(f"{path.stem}.*")]
        towns_before = county_admin.get("/api/v1/boundaries", params={"level": "village"}).json()
        foreign_parent = liaison.post("/api/v1/boundaries", data={"level": "village", "valid_from": "2024-01-01"},
                                      files=upload)
        assert foreign_parent.status_code == 403 and "parent 500109108 is not one of your units" in foreign_parent.text

        villages = villages.drop(columns=["XJQYDM"]).assign(SJDM=[OWN] * 3)   # an explicit parent field
        villages["CJQYDM"] = [OWN + "201", OTHER + "202", OTHER + "203"]     # the neighbour's villages, moved in
        path = bf.villages_shapefile(tmp_path / "b", villages)
        upload = [("file", (f.name, f.read_bytes())) for f in path.parent.glob(f"{path.stem}.*")]
        taken = liaison.post("/api/v1/boundaries", data={"level": "village", "valid_from": "2024-01-01"}, files=upload)
        assert taken.status_code == 403 and "500109108202 belongs to 500109108" in taken.text
        assert county_admin.get("/api/v1/boundaries", params={"level": "village"}).json() == towns_before
        enforcer_sees = TestClient(create_app(store), headers={"Authorization": f"Bearer {tokens['enforcer']}"})
        assert sorted(f["properties"]["patch_code"] for f in enforcer_sees.get("/api/v1/patches").json()["features"]) \
            == ["5001090001"]

    # The same rule on the command line when --user names the scoped account.
    cli = subprocess.run([CLI, "--db", db_url, "batches", "import", str(tmp_path / "foreign.geojson"),
                          "--source", "natural-resources", "--batch", "D", "--issued-on", "2023-11-01",
                          "--user", "liaison_own"], capture_output=True, text=True)
    assert cli.returncode == 2 and "outside your units: 5001090005" in cli.stderr
    cli = subprocess.run([CLI, "--db", db_url, "boundaries", "import", str(tmp_path / "a" / "村界.shp"),
                          "--level", "village", "--valid-from", "2024-02-01", "--user", "liaison_own"],
                         capture_output=True, text=True)
    assert cli.returncode == 2 and "parent 500109108 is not one of your units" in cli.stderr


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_logins_are_throttled_on_every_path_and_recover(county, monkeypatch):
    import base64

    from fastapi.testclient import TestClient

    from geo_tracker.server.app import create_app
    from geo_tracker.services.logins import LoginGuard

    db_url, tokens = county
    clock = FakeClock()
    monkeypatch.setattr(accounts, "GUARD", LoginGuard(clock))
    monkeypatch.setattr("geo_tracker.server.errors.TARPIT_S", 0.0)
    monkeypatch.setattr("geo_tracker.server.pages.account.TARPIT_S", 0.0)
    with open_store(db_url) as store:
        app = TestClient(create_app(store))
        wrong = {"username": "viewer_own", "password": "not the password"}
        for _ in range(10):
            assert app.post("/api/v1/login", data=wrong).status_code == 401
        eleventh = app.post("/api/v1/login", data=wrong)
        assert eleventh.status_code == 429 and eleventh.json()["code"] == "too_many_attempts"
        assert int(eleventh.headers["retry-after"]) >= 1
        right = {"username": "viewer_own", "password": PASSWORD}
        assert app.post("/api/v1/login", data=right).status_code == 429           # the account waits
        basic = base64.b64encode(f"viewer_own:{PASSWORD}".encode()).decode()
        assert app.get("/api/v1/me", headers={"Authorization": f"Basic {basic}"}).status_code == 429
        clock.now += 61
        assert app.post("/api/v1/login", data=right).status_code == 200          # after the window
        notices = TestClient(create_app(store), headers={"Authorization": f"Bearer {tokens['county']}"}) \
            .get("/api/v1/users/lockouts").json()
        assert notices[0]["username"] == "viewer_own"

        # The login page: the same limit, said in Chinese, and a form token against login CSRF.
        page = TestClient(create_app(store))
        token = lambda html: re.search(r'name="login_token" value="([^"]+)"', html).group(1)  # noqa: E731
        form = page.get("/login").text
        for _ in range(10):
            answer = page.post("/login", data={"username": "enforcer_own", "password": "x", "login_token": token(form)})
            assert answer.status_code == 401
            form = answer.text
        throttled = page.post("/login", data={"username": "enforcer_own", "password": "x",
                                              "login_token": token(form)})
        assert throttled.status_code == 429 and "登录失败次数过多" in throttled.text
        assert "retry-after" in throttled.headers
        forged = TestClient(create_app(store)).post("/login", data={"username": "admin_own", "password": PASSWORD})
        assert forged.status_code == 403 and "登录页已过期" in forged.text
        cross = page.post("/api/v1/login", data=right, headers={"Sec-Fetch-Site": "cross-site"})
        assert cross.status_code == 403

        # One address guessing many names waits too; a correct login just checked still passes.
        clock.now += 61
        good = base64.b64encode(f"liaison_own:{PASSWORD}".encode()).decode()
        assert app.get("/api/v1/me", headers={"Authorization": f"Basic {good}"}).status_code == 200
        for i in range(30):
            guess = base64.b64encode(f"user{i}:guess".encode()).decode()
            assert app.get("/api/v1/me", headers={"Authorization": f"Basic {guess}"}).status_code == 401
        guess = base64.b64encode(b"user99:guess").decode()
        assert app.get("/api/v1/me", headers={"Authorization": f"Basic {guess}"}).status_code == 429
        assert app.get("/api/v1/me", headers={"Authorization": f"Basic {good}"}).status_code == 200


def test_a_password_change_ends_sessions_and_tokens(county):
    from fastapi.testclient import TestClient

    from geo_tracker.server.app import create_app

    db_url, tokens = county
    with open_store(db_url) as store:
        with_token = TestClient(create_app(store), headers={"Authorization": f"Bearer {tokens['enforcer']}"})
        assert with_token.get("/api/v1/me").status_code == 200
        changed = with_token.post("/api/v1/me/password", data={"old_password": PASSWORD,
                                                               "new_password": "a new long secret"})
        assert changed.status_code == 200 and changed.json()["tokens_revoked"] == 1
        assert with_token.get("/api/v1/me").status_code == 401


def test_the_back_off_keeps_growing_past_the_window():
    from geo_tracker.errors import TooManyAttemptsError
    from geo_tracker.services.logins import MAX_WAIT_S, LoginGuard

    clock = FakeClock()
    guard = LoginGuard(clock)
    waits = []
    for _ in range(20):
        try:
            guard.check("viewer", "10.0.0.9")
        except TooManyAttemptsError as e:
            clock.now += e.retry_after                   # a patient guesser waits each time
        guard.failed("viewer", "10.0.0.9")
        waits.append(guard.locked().get("viewer", 0))
    assert max(waits) >= 256 and waits[-1] == MAX_WAIT_S
    guard.succeeded("viewer", "10.0.0.9")
    assert guard.locked() == {}


def test_a_strange_login_token_is_refused_not_a_bug(county):
    from fastapi.testclient import TestClient

    from geo_tracker.server.app import create_app

    db_url, _tokens = county
    with open_store(db_url) as store:
        page = TestClient(create_app(store))
        page.get("/login")
        answer = page.post("/login", data={"username": "viewer_own", "password": PASSWORD, "login_token": "é"})
        assert answer.status_code == 403 and "登录页已过期" in answer.text
