"""The rectification map in a real browser (Debian's Chromium via Playwright), offline."""

from __future__ import annotations

import os
import re
import shutil
from datetime import date

import pytest

import bureau_files as bf
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
    assert patch_tile(store, *_tile_for(bf.LON0 + 30, bf.LAT0, 14)) in (b"", None) or \
        not mapbox_vector_tile.decode(patch_tile(store, *_tile_for(bf.LON0 + 30, bf.LAT0, 14)))
    with pytest.raises(InvalidValueError, match="tile 3/9/0 does not exist"):
        patch_tile(store, 3, 9, 0)


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
