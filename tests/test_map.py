"""The rectification map in a real browser (Debian's Chromium via Playwright), offline."""

from __future__ import annotations

import math
import os
import re
import shutil
from datetime import date

import pytest

import bureau_files as bf
from test_web import Tab, shots  # noqa: F401  (shots is a fixture used here)
from geo_tracker.services import tracking
from geo_tracker.services.batches import ImportOptions, import_batch
from geo_tracker.services.boundaries import BoundaryOptions, import_boundaries
from geo_tracker.services.maps import make_map
from geo_tracker.services.patches import list_patches

XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture
def mapped(store, tmp_path):
    import_boundaries(store, bf.township_shapefile(tmp_path), BoundaryOptions(level="township"))
    import_boundaries(store, bf.villages_shapefile(tmp_path), BoundaryOptions(level="village"))
    frame = bf.canonical_patches()
    frame.loc[2, "BZ"] = XSS
    path = tmp_path / "patches.geojson"
    frame.to_file(path, driver="GeoJSON")
    import_batch(store, path, ImportOptions(source="natural-resources", batch="2023年第2批",
                                            issued_on=date(2023, 6, 30), deadline=date(2023, 11, 30)))
    tracking.verify_patch(store, "5001090001", "illegal", date(2023, 7, 5))
    tracking.rectify_patch(store, "5001090001", date(2023, 8, 1), "demolition", area_mu=1.5)
    output = tmp_path / "maps" / "test.html"
    result = make_map(store, output)
    return store, output, result


def test_map_html_references_only_local_assets(mapped):
    _store, output, result = mapped
    page = output.read_text(encoding="utf-8")
    assert result["patches"] == 6
    assert not re.search(r'(src|href)="(https?:)?//', page), "a CDN or remote asset is referenced"
    for asset in ("lib/leaflet/leaflet.js", "lib/leaflet/leaflet.css", "lib/geo_tracker_map.js"):
        assert f'"{asset}"' in page and (output.parent / asset).exists()
    assert (output.parent / "lib" / "leaflet" / "LICENSE").exists()
    assert XSS not in page.replace("<\\/", "</").split('id="gt-data">')[0]


def test_map_in_chromium_offline(browser, mapped, tmp_path):
    store, output, _ = mapped
    page = browser.new_page(viewport={"width": 1200, "height": 800})
    requests, errors, dialogs = [], [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

    def route(r):
        requests.append(r.request.url)
        r.continue_() if r.request.url.startswith("file://") else r.abort()

    page.route("**/*", route)
    page.goto(output.as_uri())
    page.wait_for_function("window.geoTracker && window.geoTracker.ready", timeout=15000)
    assert [u for u in requests if not u.startswith("file://")] == []
    assert errors == []
    assert page.evaluate("geoTracker.patchCount") == 6
    legend = page.locator(".gt-legend")
    assert legend.is_visible() and "图斑状态" in legend.inner_text()
    assert "石龙村" in page.locator(".gt-village-label").all_inner_texts()

    area = list_patches(store, codes=["5001090001"]).iloc[0]["area_mu"]
    page.evaluate("geoTracker.open('5001090001')")
    page.evaluate("document.querySelector('.leaflet-popup-close-button') && document.querySelector('.leaflet-popup-close-button').click()")
    point = page.evaluate("geoTracker.pointOf('5001090001')")
    page.mouse.click(point["x"], point["y"])
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for(timeout=5000)
    text = popup.inner_text()
    assert "5001090001" in text and f"{area:.4f} 亩" in text and "1.5000 亩" in text

    page.evaluate("geoTracker.open('5001090003')")
    second = page.locator(".leaflet-popup-content", has_text="5001090003")
    second.wait_for(timeout=5000)
    assert XSS in second.inner_text()
    assert page.evaluate("document.querySelectorAll('img[src=\"x\"]').length") == 0
    page.wait_for_timeout(300)
    assert dialogs == []
    shot = tmp_path / "map.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
    artifacts = os.environ.get("GEO_TRACKER_TEST_ARTIFACTS")
    if artifacts:
        shutil.copy(shot, os.path.join(artifacts, f"map-{store.backend}.png"))
    page.close()


def test_timeline_slider_shows_status_by_month(browser, store, tmp_path):
    import_batch(store, bf.weipian_geojson(tmp_path), ImportOptions(
        source="natural-resources", batch="B", issued_on=date(2023, 6, 30)))
    tracking.verify_patch(store, "5001090001", "illegal", date(2023, 7, 5))
    tracking.rectify_patch(store, "5001090001", date(2023, 9, 10), "demolition", full=True)
    output = tmp_path / "timeline.html"
    make_map(store, output, as_of=date(2023, 10, 31), timeline=True)
    page = browser.new_page()
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file://") else r.abort())
    page.goto(output.as_uri())
    page.wait_for_function("window.geoTracker && window.geoTracker.ready")
    months = page.evaluate("JSON.parse(document.getElementById('gt-data').textContent).timeline.months")
    assert months == ["2023-06-30", "2023-07-31", "2023-08-31", "2023-09-30", "2023-10-31"]
    colors = {}
    for i in range(len(months)):
        page.evaluate(f"geoTracker.showMonth({i})")
        colors[months[i]] = page.evaluate("geoTracker.styleOf('5001090001').color")
    from geo_tracker.maps.builder import COLORS

    assert colors["2023-06-30"] == COLORS["issued"]
    assert colors["2023-07-31"] == COLORS["illegal"] == colors["2023-08-31"]
    assert colors["2023-09-30"] == COLORS["rectified"]
    assert page.locator(".gt-timeline input[type=range]").is_visible()
    page.close()


# --- vector tiles ------------------------------------------------------------------------


def _tile_for(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    import math

    n = 2 ** z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return z, x, y


def test_vector_tiles_carry_the_patches_on_both_backends(store, tmp_path):
    import mapbox_vector_tile

    from geo_tracker.errors import InvalidValueError
    from geo_tracker.services.tiles import patch_tile

    import_batch(store, bf.weipian_geojson(tmp_path), ImportOptions(
        source="natural-resources", batch="B", issued_on=date(2023, 6, 30)))
    tracking.verify_patch(store, "5001090001", "illegal", date(2023, 7, 5))
    import shapely

    from geo_tracker.core.tiles import tile_bounds_lonlat

    z, x, y = _tile_for(bf.LON0 + 0.003, bf.LAT0 + 0.002, 14)
    tile = mapbox_vector_tile.decode(patch_tile(store, z, x, y))
    features = tile["patches"]["features"]
    codes = sorted(f["properties"]["patch_code"] for f in features)
    frame = bf.canonical_patches()
    box = shapely.box(*tile_bounds_lonlat(z, x, y))
    expected = sorted(c for c, g in zip(frame.JCBH, frame.geometry) if g.intersects(box))
    assert len(expected) >= 4 and codes == expected
    status = {f["properties"]["patch_code"]: f["properties"]["status"] for f in features}
    assert status["5001090001"] == "illegal" and status["5001090002"] == "issued"
    assert all(f["geometry"]["type"] in ("Polygon", "MultiPolygon") for f in features)
    west, south, east, north = tile_bounds_lonlat(z, x, y)
    drawn = shapely.geometry.shape(next(f["geometry"] for f in features
                                        if f["properties"]["patch_code"] == "5001090001"))
    lonlat = shapely.transform(drawn, lambda xy: xy / 4096 * [east - west, north - south] + [west, south])
    issued = frame.geometry[list(frame.JCBH).index("5001090001")]   # where it is and how big, to a pixel or so
    assert lonlat.is_valid and lonlat.centroid.distance(issued.centroid) < (east - west) / 1000
    assert lonlat.area == pytest.approx(issued.area, rel=0.05)
    assert patch_tile(store, *_tile_for(bf.LON0 + 30, bf.LAT0, 14)) in (b"", None) or \
        not mapbox_vector_tile.decode(patch_tile(store, *_tile_for(bf.LON0 + 30, bf.LAT0, 14)))
    with pytest.raises(InvalidValueError, match="tile 3/9/0 does not exist"):
        patch_tile(store, 3, 9, 0)


def test_a_tile_as_of_a_date_draws_what_was_issued_then_with_its_status_then(store, tmp_path):
    import mapbox_vector_tile

    from geo_tracker.services.tiles import patch_tile

    import_batch(store, bf.weipian_geojson(tmp_path), ImportOptions(
        source="natural-resources", batch="B", issued_on=date(2023, 6, 30)))
    tracking.verify_patch(store, "5001090001", "illegal", date(2023, 7, 5))
    tracking.rectify_patch(store, "5001090001", date(2023, 8, 1), "demolition", area_mu=0.5)
    tracking.verify_patch(store, "5001090002", "legal", date(2023, 7, 20))
    tile = _tile_for(bf.LON0 + 0.003, bf.LAT0 + 0.002, 14)

    def drawn(as_of):
        layers = mapbox_vector_tile.decode(patch_tile(store, *tile, as_of=as_of) or b"")
        return {f["properties"]["patch_code"]: f["properties"]["status"]
                for f in layers.get("patches", {}).get("features", [])}

    assert drawn(date(2023, 6, 29)) == {}
    for day in (date(2023, 6, 30), date(2023, 7, 10), date(2023, 7, 25), date(2023, 8, 2)):
        listed = list_patches(store, as_of=day)
        folded = dict(zip(listed.patch_code, listed.status))
        on_tile = drawn(day)
        assert len(on_tile) >= 4 and on_tile == {c: folded[c] for c in on_tile}, day
    assert drawn(date(2023, 7, 1))["5001090001"] == "issued"
    assert drawn(date(2023, 7, 10))["5001090001"] == "illegal"
    assert drawn(date(2023, 8, 2))["5001090001"] == "rectifying"
    assert drawn(date(2023, 7, 10))["5001090002"] == "issued" and drawn(date(2023, 7, 25))["5001090002"] == "legal"
    assert drawn(None) == drawn(date.today())


def test_tile_server_map_in_chromium(browser, db_url, tmp_path):
    import threading
    import urllib.request

    from geo_tracker.server.tileserver import make_server
    from geo_tracker.store import open_store

    with open_store(db_url) as store:
        import_batch(store, bf.weipian_geojson(tmp_path), ImportOptions(
            source="natural-resources", batch="B", issued_on=date(2023, 6, 30)))
    store = open_store(db_url)
    server = make_server(store, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        z, x, y = _tile_for(bf.LON0 + 0.003, bf.LAT0 + 0.002, 15)
        with urllib.request.urlopen(f"{base}/tiles/{z}/{x}/{y}.pbf") as response:
            assert response.headers["Content-Type"] == "application/vnd.mapbox-vector-tile"
            assert len(response.read()) > 50
        page = browser.new_page()
        outside, errors = [], []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(base) else
                   (outside.append(r.request.url), r.abort()))
        page.goto(base + "/")
        page.wait_for_function("window.geoTracker && window.geoTracker.tilesLoaded > 0", timeout=15000)
        assert outside == [] and errors == []
        page.close()
    finally:
        server.shutdown()
        server.server_close()
        store.close()


def test_filters_by_status_source_and_batch(browser, mapped):
    _store, output, _ = mapped
    page = browser.new_page()
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file://") else r.abort())
    page.goto(output.as_uri())
    page.wait_for_function("window.geoTracker && window.geoTracker.ready")
    assert page.evaluate("geoTracker.visibleCount()") == 6
    page.locator('input[data-filter="status"][value="issued"]').uncheck()
    assert page.evaluate("geoTracker.visibleCount()") == 1  # the one being rectified
    page.locator('input[data-filter="batch"][value="2023年第2批"]').uncheck()
    assert page.evaluate("geoTracker.visibleCount()") == 0
    page.locator('input[data-filter="batch"][value="2023年第2批"]').check()
    page.locator('input[data-filter="status"][value="issued"]').check()
    assert page.evaluate("geoTracker.visibleCount()") == 6
    assert "卫片执法" in page.locator(".gt-filters").inner_text()
    page.close()


def test_patrol_tracks_and_findings_on_the_map(browser, store, tmp_path):
    from geo_tracker.services import patrols

    import_boundaries(store, bf.township_shapefile(tmp_path), BoundaryOptions(level="township"))
    import_boundaries(store, bf.villages_shapefile(tmp_path), BoundaryOptions(level="village"))
    track = tmp_path / "t.gpx"
    track.write_text('<?xml version="1.0"?><gpx version="1.1" creator="t" xmlns="http://www.topografix.com/GPX/1/1">'
                     f'<trk><trkseg><trkpt lat="{bf.LAT0}" lon="{bf.LON0}"/><trkpt lat="{bf.LAT0 + 0.002}" '
                     f'lon="{bf.LON0 + 0.004}"/></trkseg></trk></gpx>', encoding="utf-8")
    patrols.add_patrol(store, date(2024, 3, 5), track=track, members="张三")
    patrols.record_finding(store, 1, category="违法占地", point=(bf.LON0 + 0.001, bf.LAT0 + 0.001))
    output = tmp_path / "patrol.html"
    make_map(store, output, as_of=date(2024, 3, 31))
    page = browser.new_page()
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file://") else r.abort())
    page.goto(output.as_uri())
    page.wait_for_function("window.geoTracker && window.geoTracker.ready")
    assert page.evaluate("geoTracker.patchCount") == 1
    assert "巡查轨迹（1）" in page.locator(".leaflet-control-layers").first.inner_text()
    assert "巡查" in page.locator(".gt-filters").inner_text()
    page.close()


def test_village_outlines_are_simplified_as_a_coverage():
    import numpy as np
    import shapely

    from geo_tracker.maps.builder import simplify_coverage

    frame = bf.village_frame()
    # Densify the shared edges with tiny wiggles that simplification should remove together.
    wiggly = np.array([shapely.segmentize(g, 0.0002) for g in frame.geometry], dtype=object)
    simplified = simplify_coverage(wiggly)
    assert sum(shapely.get_num_coordinates(simplified)) < sum(shapely.get_num_coordinates(wiggly))
    union = shapely.union_all(simplified)
    assert union.geom_type == "Polygon" and len(union.interiors) == 0  # neighbours still meet: no gaps
    overlaps = shapely.area(shapely.intersection(simplified[0], simplified[1]))
    assert overlaps < 1e-12


# --- the online map page on a phone ------------------------------------------------------

PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}   # as tests/test_field_app.py


@pytest.fixture
def served_demo(db_url, tmp_path):
    """The demo township's year behind a real `geo-tracker serve`; the demo's password."""
    from live_server import running_server
    from geo_tracker.services.demo import run_demo

    result = run_demo(db_url)
    with running_server(db_url, tmp_path / "server.log") as base:
        yield base, result.password


def open_map(tab, query: str = ""):
    tab.page.goto(f"{tab.base}/map{query}")
    frame = tab.page.frame(url=re.compile(r".*/map/frame.*"))
    frame.wait_for_function("window.geoTracker && window.geoTracker.ready", timeout=15000)
    return frame


def map_layout(page) -> dict:
    return page.evaluate("""() => { const r = document.querySelector('iframe.map-frame').getBoundingClientRect();
        const w = Math.min(r.right, innerWidth) - Math.max(r.left, 0), h = Math.min(r.bottom, innerHeight) - Math.max(r.top, 0);
        return {share: (w * h) / (innerWidth * innerHeight), scroll: document.scrollingElement.scrollWidth,
                width: innerWidth, top: r.top, left: r.left}; }""")


def panels(frame) -> dict[str, dict]:
    """Each folding panel (图层, 筛选, 图例): open or not, and its share of the map."""
    return frame.evaluate("""() => { const m = document.querySelector('.leaflet-container').getBoundingClientRect();
        return Object.fromEntries(Array.from(document.querySelectorAll('.gt-panel')).map(p => {
          const r = p.getBoundingClientRect();
          return [p.querySelector('.gt-toggle').textContent.replace(/（.*/, ''),
                  {open: !p.classList.contains('gt-closed'), share: r.width * r.height / (m.width * m.height)}]; })); }""")


def checkboxes(frame) -> dict[str, bool]:
    return frame.evaluate("""() => Object.fromEntries(Array.from(document.querySelectorAll('input[data-filter]'))
        .map(i => [i.getAttribute('data-filter') + ':' + i.value, i.checked]))""")


def lone_patch(frame, away: float = 30) -> tuple[str, tuple[float, float]]:
    """At the opening zoom, the patch whose dot stands farthest from every other (inside the map's
    middle), and a step of ``away`` pixels off it that comes no nearer another patch's dot."""
    codes = frame.evaluate("Array.from(new Set(JSON.parse(document.getElementById('gt-data').textContent)"
                           ".patches.features.map(f => f.properties.patch_code)))")
    where = {c: (p["x"], p["y"]) for c, p in zip(codes, frame.evaluate("cs => cs.map(c => geoTracker.pointOf(c))", codes))}
    width, height = frame.evaluate("[innerWidth, innerHeight]")
    inner = [c for c, (x, y) in where.items() if 60 < x < width - 60 and 120 < y < height - 100]

    def room(code, dx=0, dy=0):
        x, y = where[code]
        return min(math.dist((x + dx, y + dy), p) for o, p in where.items() if o != code)
    code = max(inner, key=room)
    step = max(((away, 0), (-away, 0), (0, away), (0, -away)), key=lambda d: room(code, *d))
    assert room(code) > away and room(code, *step) > away + 12, f"no patch stands alone at the opening zoom: {where}"
    return code, step


def finger(page, layout: dict, x: float, y: float):
    """A tap at a point of the map frame, slower than a double tap (which zooms)."""
    page.wait_for_timeout(700)
    page.touchscreen.tap(layout["left"] + x, layout["top"] + y)


def test_the_online_map_on_a_phone(browser, served_demo, shots):  # noqa: F811
    base, password = served_demo
    tab = Tab(browser, base, **PHONE)
    page = tab.page
    tab.login("enforcer", password)
    frame = open_map(tab)
    layout = map_layout(page)
    assert layout["share"] >= 0.70, layout                      # the map starts high and takes the screen
    assert layout["scroll"] <= layout["width"], layout          # nothing scrolls sideways
    assert page.locator("details.map-filters").get_attribute("open") is None   # the page's filters: one line
    assert page.get_by_text("筛选条件", exact=True).is_visible()

    folded = panels(frame)
    assert sorted(folded) == ["图例", "图层", "筛选"], folded
    assert all(not p["open"] and p["share"] <= 0.15 for p in folded.values()), folded
    assert frame.locator(".gt-filters input").first.is_hidden() and frame.locator(".gt-swatch").first.is_hidden()
    before = checkboxes(frame)
    assert before and all(before.values())
    for name, inside in (("筛选", ".gt-filters input"), ("图层", ".leaflet-control-layers-list"), ("图例", ".gt-swatch")):
        frame.get_by_role("button", name=name).tap()
        assert frame.locator(inside).first.is_visible(), name
        assert [n for n, p in panels(frame).items() if p["open"]] == [name]   # one panel at a time
        frame.get_by_role("button", name=name).tap()
        assert frame.locator(inside).first.is_hidden(), name
        assert all(p["share"] <= 0.15 for p in panels(frame).values())

    # At the opening zoom every patch is a dot a finger can hit; the tap opens its popup, not a control.
    assert frame.evaluate("geoTracker.dotCount()") == frame.evaluate("geoTracker.patchCount") > 0
    code, (dx, dy) = lone_patch(frame)
    x, y = frame.evaluate(f"() => {{ const p = geoTracker.pointOf({code!r}); return [p.x, p.y]; }}")
    finger(page, layout, x, y)
    frame.wait_for_function(f"() => geoTracker.openCode() === {code!r}", timeout=5000)
    popup = frame.locator(".leaflet-popup-content")
    assert code in popup.inner_text() and popup.locator(".gt-patch-link").is_visible()
    close = frame.locator(".leaflet-popup-close-button")
    assert close.get_attribute("aria-label") == "关闭"
    page.wait_for_timeout(600)                                     # the popup's fade and the map's pan end
    frame.wait_for_function("""() => { const r = document.querySelector('.leaflet-popup-close-button').getBoundingClientRect();
        const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
        return hit && hit.closest('.leaflet-popup-close-button'); }""", timeout=5000)   # not under a control
    page.screenshot(path=str(shots / "map-phone.png"))
    close.tap()
    frame.wait_for_function("() => geoTracker.openCode() === null", timeout=5000)

    x, y = frame.evaluate(f"() => {{ const p = geoTracker.pointOf({code!r}); return [p.x, p.y]; }}")  # the popup panned the map
    finger(page, layout, x + dx, y + dy)                           # a finger's width off still picks it
    frame.wait_for_function(f"() => geoTracker.openCode() === {code!r}", timeout=5000)
    assert checkboxes(frame) == before                            # no tap landed on a batch checkbox
    assert frame.evaluate("geoTracker.visibleCount()") == frame.evaluate("geoTracker.patchCount")

    scale = frame.locator(".leaflet-control-scale-line")
    assert scale.count() == 1 and re.fullmatch(r"\d+ k?m", scale.inner_text().strip())   # metric only
    assert frame.locator(".leaflet-control-zoom-in").get_attribute("title") == "放大"
    for f in page.frames:
        assert f.evaluate("window.__csp || []") == [], f.url
    tab.check_clean()
    tab.close()


def test_the_online_map_on_a_desktop_keeps_its_filters_open(browser, served_demo):
    base, password = served_demo
    tab = Tab(browser, base, viewport={"width": 1280, "height": 900})
    page = tab.page
    tab.login("enforcer", password)
    frame = open_map(tab, "?source=forestry")
    assert page.get_by_label("批次").is_visible() and page.get_by_role("button", name="查询").is_visible()
    assert page.locator("details.map-filters summary").is_hidden()
    assert frame.locator(".gt-filters input").first.is_visible() and frame.locator(".gt-legend .gt-swatch").first.is_visible()
    assert frame.locator(".leaflet-control-layers-list").first.is_visible()
    assert frame.locator(".gt-toggle").evaluate_all("els => els.filter(e => e.offsetParent).length") == 0
    assert frame.evaluate("geoTracker.dotCount()") == 0                         # shapes only, as before
    tab.check_clean()
    tab.close()
