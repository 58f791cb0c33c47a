#!/usr/bin/env python
"""Benchmark the field kit's work package: its size, and opening it offline against the online map.

    python scripts/bench_field.py                      # SpatiaLite, 2 000 patches, 5 repeats
    python scripts/bench_field.py --postgis --repeat 9 # also on a throw-away PostGIS database

Why: an enforcer downloads the package (工作包) over a weak signal and opens it where there
is none (issue #23). Two figures matter: the bytes of the download (goal ≤ 3 MB, before
basemap tiles) and how long /field takes to open from the phone's own storage, which
should be no slower than what the office already accepts, opening the online map page.

Per backend: a fresh ledger with ``--villages`` Voronoi villages tiling the benchmark area
(the sample boundaries cover only 澄江镇, a corner of it), bench_import.py's ``generate``
batch of ``--patches`` (GBK shapefile, zone-35 coordinates), an enforcer with every unit,
and ``geo-tracker serve`` on a free port (tests/live_server.py). Then:

- package: GET /api/v1/field/package as that enforcer; the bytes as served (and whether the
  server compresses them), gzip -6 of the same bytes (what a compressing proxy would send),
  the /field/choices preview, and which keys the bytes go to.
- opening: Debian's Chromium at the phone viewport (360x740, touch), every non-local request
  blocked, logs in, opens /field, taps 下载 and waits for every patch. Then --repeat times,
  interleaved after one untimed warm-up each: offline, load /field until every patch is
  drawn (``fieldApp.patchCount()`` and ``fieldApp.dotCount()``, each patch being a dot at
  the overview); online, load /map until its frame has drawn every patch
  (``geoTracker.ready`` and ``geoTracker.patchCount``). Each time runs from the top page's
  navigation start to the animation frame after the one in which the page was complete.

Ratio last: median offline /field open / median online /map open (the floor). Nothing is
asserted beyond every patch being served and drawn; the exit status is 0.
"""

from __future__ import annotations

import argparse
import gzip
import json
import shlex
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "tests"))

from bench_import import generate  # noqa: E402
from benchlib import PG_SERVER, scratch_postgres  # noqa: E402
from live_server import form_login, running_server  # noqa: E402

USERNAME, PASSWORD = "field", "bench-field-1"
PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
GOAL_MB = 3.0
#: The benchmark area (bench_import.generate scatters patches over 106.2–106.8, 29.6–30.2), padded.
AREA = (106.15, 29.55, 106.85, 30.25)
#: In every frame of every page: the time (epoch ms) of the animation frame after the one in
#: which the page had drawn all __N__ patches, as window.__drawnAt.
DRAWN_JS = """(function () {
  var want = __N__;
  function complete() {
    var f = window.fieldApp, g = window.geoTracker;
    if (f) return f.ready && f.patchCount() === want && f.dotCount() === want;
    return !!(g && g.ready && g.patchCount === want);
  }
  function tick() {
    var done = false;
    try { done = complete(); } catch (notYet) { /* the page is still starting */ }
    if (!done) return requestAnimationFrame(tick);
    requestAnimationFrame(function () { window.__drawnAt = performance.timeOrigin + performance.now(); });
  }
  requestAnimationFrame(tick);
}());"""


def make_villages(path: Path, n: int, seed: int = 11) -> None:
    """``n`` Voronoi villages tiling AREA (as bench_match.py does), 12-digit codes, in EPSG:4490."""
    import geopandas as gpd
    import numpy as np
    import shapely

    rng = np.random.default_rng(seed)
    box = shapely.box(*AREA)
    seeds = shapely.points(rng.uniform(AREA[0], AREA[2], n), rng.uniform(AREA[1], AREA[3], n))
    cells = shapely.intersection(shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(seeds),
                                                                            extend_to=box)), box)
    gpd.GeoDataFrame({"CJQYDM": [f"500109{100 + i // 700:03d}{200 + i % 700:03d}" for i in range(len(cells))],
                      "CJQYMC": [f"村{i}" for i in range(len(cells))]},
                     geometry=cells, crs=4490).to_file(path, driver="GPKG")


def build_ledger(url: str, folder: Path, n: int, villages: int) -> dict:
    """Villages, then the generated batch (matched to them on import), then the enforcer."""
    from geo_tracker.services import accounts
    from geo_tracker.services.batches import ImportOptions, import_batch
    from geo_tracker.services.boundaries import BoundaryOptions, import_boundaries
    from geo_tracker.services.database import init_database
    from geo_tracker.store import open_store

    make_villages(folder / "villages.gpkg", villages)
    shp = folder / "bench.shp"
    generate(shp, n)
    start = time.perf_counter()
    init_database(url)
    with open_store(url) as store:
        import_boundaries(store, folder / "villages.gpkg", BoundaryOptions(level="village", tolerance_m2=1e12))
        report = import_batch(store, shp, ImportOptions(source="natural-resources", batch="bench",
                                                        issued_on=date(2023, 6, 30)))
        accounts.add_user(store, USERNAME, PASSWORD, "enforcer", ["*"], display_name="外业基准")
    assert report.accepted == n, f"{report.accepted} of {n} patches accepted"
    return {"accepted": report.accepted, "setup_s": time.perf_counter() - start}


def json_bytes(value) -> int:
    """Bytes of ``value`` as the server writes JSON (responses.json_response)."""
    return len(json.dumps(value, ensure_ascii=False, default=str).encode())


def breakdown(package: dict) -> list[tuple[str, int]]:
    """Bytes per top-level key, and per field of the patches (key, value and separator), largest first."""
    sizes = {k: json_bytes(v) for k, v in package.items() if k != "patches"}
    for patch in package["patches"]:
        for key, value in patch.items():
            # {"key": value}: its two braces count for the ", " between fields
            sizes[f"patches[].{key}"] = sizes.get(f"patches[].{key}", 0) + json_bytes({key: value})
    return sorted(sizes.items(), key=lambda kv: -kv[1])


def geometry_stats(package: dict) -> str:
    """Coordinates in the patches' geometries and the characters each takes, as sent (a JSON string)."""
    import shapely

    text = [p["geometry"] for p in package["patches"]]
    coords = int(shapely.get_num_coordinates(shapely.from_geojson(text)).sum())
    chars = sum(len(t) for t in text)
    escaped = sum(json_bytes(t) for t in text)
    return (f"{coords} coordinates, {chars / coords:.1f} characters per coordinate in the GeoJSON "
            f"({escaped - chars} more bytes escaping it as a JSON string)")


def measure_package(base: str, n: int) -> dict:
    """The package as the enforcer downloads it, its gzip size and the /field/choices preview."""
    with httpx.Client(base_url=base, timeout=300, headers={"Accept": "application/json"}) as client:
        assert form_login(client, USERNAME, PASSWORD).status_code == 303, "login refused"
        start = time.perf_counter()
        answer = client.get("/api/v1/field/package")
        took = time.perf_counter() - start
        answer.raise_for_status()
        preview = client.get("/api/v1/field/choices").json()["package"]
    package = answer.json()
    assert len(package["patches"]) == n, f"{len(package['patches'])} of {n} patches in the package"
    return {"bytes": len(answer.content), "wire": answer.num_bytes_downloaded,
            "encoding": answer.headers.get("content-encoding") or "none",
            "header": answer.headers.get("x-package-bytes"), "gzip": len(gzip.compress(answer.content, 6)),
            "get_s": took, "preview": preview, "patches": len(package["patches"]),
            "villages": len(package["villages"]), "breakdown": breakdown(package),
            "geometry": geometry_stats(package)}


def open_ms(page, url: str, frame: str | None = None) -> float:
    """Navigate to ``url``; ms from the top page's navigation start until it (or the iframe whose
    URL contains ``frame``) has drawn every patch (window.__drawnAt, set by DRAWN_JS)."""
    page.goto(url, wait_until="commit", timeout=120_000)
    target = page
    if frame:
        target = page.wait_for_selector(f'iframe[src*="{frame}"]', timeout=120_000).content_frame()
    drawn_at = target.wait_for_function("() => window.__drawnAt", timeout=120_000, polling=50).json_value()
    return drawn_at - page.evaluate("performance.timeOrigin")


def login(page, base: str) -> None:
    """As tests/test_web.py's Tab.login: the login form the dashboard redirects to."""
    import re

    page.goto(f"{base}/dashboard")
    page.get_by_label("用户名").fill(USERNAME)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r".*/dashboard"))


def download(page, base: str, n: int) -> float:
    """Open /field, tap 下载 in the menu, wait until every patch is on the phone; seconds."""
    page.goto(f"{base}/field")
    page.wait_for_function("() => window.fieldApp && window.fieldApp.ready", timeout=60_000)
    panel = page.locator("#field-panel")
    if panel.is_hidden():
        page.locator("#field-menu").click()
    start = time.perf_counter()
    panel.get_by_role("button", name="下载", exact=True).click()
    page.wait_for_function(f"() => fieldApp.patchCount() === {n}", timeout=300_000)
    took = time.perf_counter() - start
    page.wait_for_function("() => fieldApp.offlineReady()", timeout=60_000)
    return took


def browse(base: str, n: int, repeat: int) -> dict:
    """Download at the phone viewport, then time offline /field and online /map, interleaved."""
    from playwright.sync_api import sync_playwright

    remote: list[str] = []

    def local_only(route):
        if route.request.url.startswith(base) or route.request.url.startswith("data:"):
            route.continue_()
        else:
            remote.append(route.request.url)
            route.abort()

    times: dict[str, list[float]] = {"field": [], "map": []}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(**PHONE)
        context.route("**/*", local_only)
        context.add_init_script(DRAWN_JS.replace("__N__", str(n)))
        page = context.new_page()
        login(page, base)
        download_s = download(page, base, n)
        for i in range(repeat + 1):              # the first round warms both up and is not counted
            context.set_offline(True)
            field = open_ms(page, f"{base}/field")
            context.set_offline(False)
            online = open_ms(page, f"{base}/map", frame="/map/frame")
            if i:
                times["field"].append(field)
                times["map"].append(online)
        browser.close()
    return {"download_s": download_s, "remote": remote, **times}


def measure(url: str, label: str, args) -> dict:
    with tempfile.TemporaryDirectory(prefix="geo_tracker_bench_field_") as tmp:
        folder = Path(tmp)
        print(f"{label}: building {args.patches} patches over {args.villages} villages ...", flush=True)
        built = build_ledger(url, folder, args.patches, args.villages)
        with running_server(url, folder / "server.log") as base:
            print(f"{label}: geo-tracker --db {url} serve --port {base.rsplit(':', 1)[1]}", flush=True)
            sized = measure_package(base, args.patches)
            opened = browse(base, args.patches, args.repeat)
    return {**built, **sized, **opened}


def report(label: str, r: dict, args) -> None:
    mb = r["bytes"] / 1024 / 1024
    print(f"{label} package, {r['patches']} patches and {r['villages']} village boundaries "
          f"(ledger built in {r['setup_s']:.1f} s; GET took {r['get_s'] * 1000:.0f} ms):")
    print(f"  as served {mb:.2f} MB ({r['bytes']} bytes; Content-Encoding: {r['encoding']}, "
          f"{r['wire']} bytes on the wire; X-Package-Bytes {r['header']}); "
          f"goal <= {GOAL_MB:g} MB: {'met' if mb <= GOAL_MB else 'NOT met'}")
    print(f"  gzip -6 of it {r['gzip'] / 1024 / 1024:.2f} MB ({r['bytes'] / r['gzip']:.1f}x smaller); "
          f"/field/choices previews {r['preview']['patches']} patches, {r['preview']['bytes']} bytes")
    print(f"  patch geometries: {r['geometry']}")
    print("  bytes by key (largest first):")
    for key, size in r["breakdown"]:
        if size >= 0.001 * r["bytes"]:
            print(f"    {key:36s} {size / 1024 / 1024:6.2f} MB  {100 * size / r['bytes']:5.1f} %")
    field, online = statistics.median(r["field"]), statistics.median(r["map"])
    print(f"{label} opening at 360x740 in Chromium, median/fastest of {args.repeat} (after one warm-up each; "
          f"download over loopback took {r['download_s']:.1f} s; requests blocked off the server: "
          f"{len(r['remote'])}):")
    print(f"  offline /field until all {args.patches} patches drawn  {field:7.0f} / {min(r['field']):7.0f} ms")
    print(f"  online  /map   until all {args.patches} patches drawn  {online:7.0f} / {min(r['map']):7.0f} ms (floor)")
    print(f"  ratio offline /field / online /map (medians): {field / online:.2f}x "
          f"(fastest: {min(r['field']) / min(r['map']):.2f}x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patches", type=int, default=2000)
    parser.add_argument("--villages", type=int, default=600,
                        help="Voronoi villages over the area (600: about 6 km² each, like the sample villages)")
    parser.add_argument("--repeat", type=int, default=5, help="timed opens of each page")
    parser.add_argument("--postgis", action="store_true", help="also on a throw-away PostGIS database")
    parser.add_argument("--no-spatialite", dest="spatialite", action="store_false")
    parser.add_argument("--pg", default=PG_SERVER)
    args = parser.parse_args()
    print("command: " + shlex.join([Path(sys.executable).name, *sys.argv]))
    print(f"browser: {CHROMIUM} {' '.join(CHROMIUM_ARGS)} (Playwright, viewport 360x740, touch)", flush=True)
    results = {}
    with tempfile.TemporaryDirectory(prefix="geo_tracker_bench_") as tmp:
        if args.spatialite:
            results["spatialite"] = measure(f"sqlite:///{tmp}/field.sqlite", "spatialite", args)
        if args.postgis:
            with scratch_postgres(args.pg, prefix="geo_tracker_bench_field") as url:
                results["postgis"] = measure(url, "postgis", args)
    for label, r in results.items():
        report(label, r, args)


if __name__ == "__main__":
    main()
