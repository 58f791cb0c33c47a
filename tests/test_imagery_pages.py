"""The demo's before/after pair (前时相 2022-10-15 in Gauss-Krüger, 后时相 2023-04-20 in lon/lat) as
the county's reviewer and the township see it: the patch page's compare view in Debian's Chromium
with every non-local request aborted, at desktop width and at 360 px; the map's imagery layers;
and the dossier (举证材料) with the two images embedded."""

from __future__ import annotations

import io
import re

import httpx
import numpy as np
import pytest
from docx import Document
from PIL import Image

from live_server import running_server
from test_web import Tab, shots  # noqa: F401  (shots is a fixture used here)
from geo_tracker.services.demo import run_demo
from geo_tracker.services.imagery import list_imagery, remove_imagery
from geo_tracker.store import open_store

PATCH = "2023年卫片执法第2批/500109202302002"          # the demo's 待审核 patch, under both images
ROOF = np.array([150, 154, 160])                   # what scripts/make_demo_imagery.py paints on it


@pytest.fixture
def demo(db_url, tmp_path):
    result = run_demo(db_url)
    with running_server(db_url, tmp_path / "server.log") as base:
        yield base, result.password


def test_the_report_ends_with_the_pairs_when_asked(db_url, tmp_path):
    run_demo(db_url)
    plain, annexed = tmp_path / "报告.docx", tmp_path / "报告_影像.docx"
    assert run("--db", db_url, "report", "--year", "2023", "-o", str(plain)).exit_code == 0
    done = run("--db", db_url, "report", "--year", "2023", "--imagery", "-o", str(annexed))
    assert done.exit_code == 0, done.output
    pictures = [len([p for p in Document(f).part.package.parts if p.content_type.startswith("image/")])
                for f in (plain, annexed)]
    texts = [p.text for p in Document(annexed).paragraphs]
    listed = [t for t in texts if re.match(r"\d+．图斑", t)]
    assert "图斑影像对比" in texts and any(PATCH in t for t in listed)
    assert pictures[1] == pictures[0] + len(listed)                    # one pair per patch the images cover
    refused = run("--lang", "zh", "--db", db_url, "report", "--imagery", "-o", str(tmp_path / "报告.md"))
    assert refused.exit_code == 2 and "Word" in refused.output


def run(*args):
    from click.testing import CliRunner

    from geo_tracker.cli import cli

    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def compare_tiles(page, role: str) -> int:
    return page.evaluate(f"""Array.from(document.querySelectorAll('#compare-map-{role} img.leaflet-tile-loaded'))
        .filter(i => i.src.includes('/imagery/') && i.naturalWidth === 256).length""")


@pytest.mark.parametrize("width", [1280, 360])
def test_the_patch_page_compares_before_and_after(browser, demo, shots, width):  # noqa: F811
    base, password = demo
    tab = Tab(browser, base, viewport={"width": width, "height": 900})
    tab.login("reviewer", password)
    page = tab.page
    page.goto(f"{base}/patches/{PATCH}")
    section = page.locator(".imagery-compare")
    assert "前时相 2022-10-15" in section.locator("#compare-before figcaption").inner_text()
    assert "后时相 2023-04-20" in section.locator("#compare-after figcaption").inner_text()
    page.wait_for_function("() => ['before', 'after'].every(r => document.querySelectorAll("
                           "'#compare-map-' + r + ' img.leaflet-tile-loaded').length > 0)", timeout=15000)
    assert compare_tiles(page, "before") > 0 and compare_tiles(page, "after") > 0
    section.scroll_into_view_if_needed()
    page.wait_for_timeout(600)                                           # Leaflet fades tiles in
    page.screenshot(path=str(shots / f"patch-imagery-{width}.png"), full_page=width == 360)
    views = page.evaluate("geoTrackerCompareMaps.map(m => [m.getZoom(), m.getCenter().lat.toFixed(6)])")
    assert views[0] == views[1] and views[0][0] >= 17                  # the two maps show the same ground
    page.evaluate("geoTrackerCompareMaps[1].setZoom(geoTrackerCompareMaps[1].getZoom() - 1, {animate: false})")
    assert page.evaluate("geoTrackerCompareMaps[0].getZoom() === geoTrackerCompareMaps[1].getZoom()")
    boxes = [page.locator(f"#compare-map-{r}").bounding_box() for r in ("before", "after")]
    if width == 360:
        assert boxes[1]["y"] > boxes[0]["y"] + boxes[0]["height"] - 1   # stacked on a phone
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
    else:
        assert abs(boxes[0]["y"] - boxes[1]["y"]) < 1 and boxes[1]["x"] > boxes[0]["x"]
    tab.check_clean()
    tab.close()


def test_the_county_reviewer_judges_by_the_same_pair(browser, demo):
    base, password = demo
    tab = Tab(browser, base, viewport={"width": 1280, "height": 900})
    tab.login("reviewer", password)
    tab.page.goto(f"{base}/review/{PATCH}")
    assert "后时相 2023-04-20" in tab.page.locator("#compare-after figcaption").inner_text()
    tab.page.wait_for_function("() => document.querySelectorAll('#compare-map-after img.leaflet-tile-loaded').length > 0",
                               timeout=15000)
    tab.check_clean()
    tab.close()


def test_the_map_offers_the_imagery_as_layers(browser, demo):
    base, password = demo
    tab = Tab(browser, base, viewport={"width": 1280, "height": 860})
    tab.login("enforcer", password)
    tab.page.goto(f"{base}/map")
    frame = tab.page.frame_locator("iframe").first
    frame.locator("label", has_text="影像 2023-04-20").first.click()
    frame.locator("label", has_text="影像 2022-10-15").first.wait_for()
    frame.locator("label", has_text="无影像").first.wait_for()
    tab.check_clean()
    tab.close()


def test_the_dossier_embeds_the_before_and_after_images(demo, db_url):
    base, password = demo
    web = httpx.Client(base_url=base, headers={"Origin": base})
    assert web.post("/api/v1/login", data={"username": "reviewer", "password": password}).status_code == 200
    answer = web.get(f"/api/v1/patches/{PATCH}/dossier.docx")
    assert answer.status_code == 200
    document = Document(io.BytesIO(answer.content))
    texts = [p.text for p in document.paragraphs]
    heading = next(i for i, t in enumerate(texts) if t.endswith("影像对比"))
    assert any("前时相与后时相影像对比" in t for t in texts[heading:heading + 4])
    pictures = [Image.open(io.BytesIO(part.blob)).convert("RGB") for part in document.part.package.parts
                if part.content_type.startswith("image/")]
    pair = next(p for p in pictures if p.width > 1.5 * p.height)       # the two panels side by side
    pixels = np.asarray(pair).astype(int)
    height, width = pixels.shape[:2]
    left = pixels[int(height * 0.45):int(height * 0.55), int(width * 0.22):int(width * 0.27)].reshape(-1, 3)
    right = pixels[int(height * 0.45):int(height * 0.55), int(width * 0.72):int(width * 0.77)].reshape(-1, 3)
    near_roof = lambda block: np.mean(np.abs(block - ROOF).max(axis=1) < 25)  # noqa: E731
    assert near_roof(right) > 0.5 and near_roof(left) < 0.05             # the roof only on the 后时相
    with open_store(db_url) as store:                                    # the imagery removed meanwhile
        for layer in list_imagery(store):
            remove_imagery(store, layer["id"])
    again = web.get(f"/api/v1/patches/{PATCH}/dossier.docx")             # the server may still list it a moment
    assert again.status_code == 200
    assert not any(p.text.endswith("影像对比") for p in Document(io.BytesIO(again.content)).paragraphs)
