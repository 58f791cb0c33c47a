"""The web pages in a real browser (Debian's Chromium via Playwright) against a real server, offline.

Every request that leaves 127.0.0.1 is aborted and counted (must stay 0); console
errors must stay 0. Screenshots go to test-output/screenshots/<backend>/ (or
$GEO_TRACKER_TEST_OUTPUT/screenshots/<backend>/).
"""

from __future__ import annotations

import io
import os
import re
from urllib.parse import quote
from datetime import date
from pathlib import Path

import pytest

from live_server import form_login, running_server
from geo_tracker.services import accounts
from geo_tracker.services.batches import ImportOptions, import_batch
from geo_tracker.services.boundaries import BoundaryOptions, import_boundaries
from geo_tracker.services.demo import DATA_DIR, SAMPLE_BATCHES, SAMPLE_BOUNDARIES, run_demo
from geo_tracker.services.patches import list_patches
from geo_tracker.store import open_store

XSS = "<img src=x onerror=alert(1)>"
PASSWORD = "correct horse battery"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def shots(backend):
    folder = Path(os.environ.get("GEO_TRACKER_TEST_OUTPUT", ROOT / "test-output")) / "screenshots" / backend
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class Tab:
    """A browser page that counts what leaves the server, console errors and dialogs."""

    def __init__(self, browser, base: str, **context):
        self.context = browser.new_context(accept_downloads=True, **context)
        self.page = self.context.new_page()
        self.base, self.remote, self.errors, self.dialogs = base, [], [], []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.context.route("**/*", self._route)
        # Every Content-Security-Policy violation, in any frame, is recorded where the test can read it.
        self.context.add_init_script("""window.__csp = [];
            document.addEventListener('securitypolicyviolation', function (e) {
              window.__csp.push(e.violatedDirective + ' ' + e.blockedURI); });""")

    def _route(self, route):
        url = route.request.url
        if url.startswith(self.base) or url.startswith("data:"):
            route.continue_()
        else:
            self.remote.append(url)
            route.abort()

    def login(self, username: str, password: str = PASSWORD):
        self.page.goto(f"{self.base}/dashboard")
        assert "/login" in self.page.url
        self.page.get_by_label("用户名").fill(username)
        self.page.get_by_label("密码").fill(password)
        self.page.get_by_role("button", name="登录").click()
        self.page.wait_for_url(re.compile(r".*/dashboard"))

    def unlabelled(self) -> list[str]:
        """Form controls a screen reader could not name (every one must sit in or point to a label)."""
        return self.page.evaluate("""Array.from(document.querySelectorAll(
            'input:not([type=hidden]), select, textarea')).filter(function (el) {
              return !(el.labels && el.labels.length) && !el.getAttribute('aria-label');
            }).map(function (el) { return el.name || el.outerHTML; })""")

    def check_clean(self):
        assert self.remote == [], f"requests left the server: {self.remote}"
        assert self.errors == [], f"console errors: {self.errors}"
        assert self.dialogs == [], f"dialogs (script ran?): {self.dialogs}"

    def close(self):
        self.context.close()


def total_rectified(page) -> str:
    return page.locator("#total-rectified_mu").inner_text().strip()


@pytest.fixture
def office(db_url, tmp_path):
    """Boundaries only, users of each role (the liaison will upload the batch)."""
    with open_store(db_url) as store:
        for name, level in SAMPLE_BOUNDARIES:
            import_boundaries(store, DATA_DIR / name, BoundaryOptions(level=level))
        accounts.add_user(store, "liaison", PASSWORD, "liaison", ["*"], display_name="联络员")
    with running_server(db_url, tmp_path / "server.log") as base:
        yield base


@pytest.fixture
def demo(db_url, tmp_path):
    """The demo township's year, an XSS attribute in a batch, and users."""
    result = run_demo(db_url)
    with open_store(db_url) as store:
        patches = list_patches(store)
        frame = patches.iloc[:2][["geometry"]].copy()
        frame["JCBH"] = ["XSS0001", "XSS0002"]
        frame["BZ"] = [XSS, "备注"]
        path = tmp_path / "xss.geojson"
        frame.to_file(path, driver="GeoJSON")
        import_batch(store, path, ImportOptions(source="natural-resources", batch="XSS批", issued_on=date(2023, 9, 1),
                                                accept_duplicates=True))
        accounts.add_user(store, "viewer2", PASSWORD, "viewer", ["*"])
    with running_server(db_url, tmp_path / "server.log") as base:
        yield base, result


def test_liaison_uploads_sees_the_diff_confirms_and_finds_the_patches(browser, office, shots, backend):
    tab = Tab(browser, office, viewport={"width": 1280, "height": 900})
    page = tab.page
    tab.login("liaison")
    page.get_by_role("link", name="批次导入").click()
    assert tab.unlabelled() == []
    name, options = SAMPLE_BATCHES[0]
    page.get_by_label("上级下发的文件").set_input_files(str(DATA_DIR / name))
    page.get_by_label("来源").select_option(options["source"])
    page.get_by_label("批次名称").fill(options["batch"])
    page.get_by_label("下发日期").fill(options["issued_on"].isoformat())
    page.get_by_role("button", name="检查（不导入）").click()
    page.wait_for_url(re.compile(r".*/import$"))
    new = int(page.locator("[data-diff=new]").inner_text())
    assert new > 0 and page.locator("[data-diff=changed]").inner_text() == "0"
    page.screenshot(path=str(shots / "import-diff.png"), full_page=True)
    page.get_by_role("button", name="确认导入").click()
    page.wait_for_url(re.compile(r".*/import/confirm$"))
    assert int(page.locator("#import-accepted").inner_text()) == new
    page.get_by_role("link", name="图斑").first.click()
    assert f"共 {new} 个图斑" in page.locator("#patch-count").inner_text()
    page.goto(f"{office}/map")
    frame = page.frame(url=re.compile(r".*/map/frame.*"))
    frame.wait_for_function("window.geoTracker && window.geoTracker.ready", timeout=15000)
    assert frame.evaluate("geoTracker.patchCount") == new
    page.screenshot(path=str(shots / "map.png"))
    tab.check_clean()
    tab.close()


def test_enforcer_on_a_phone_rectifies_part_of_a_patch_from_the_map(browser, demo, shots, backend, db_url):
    base, result = demo
    with open_store(db_url) as store:
        patches = list_patches(store, villages=accounts.scope_villages(
            store, accounts.authenticate(store, "enforcer", result.password)))
    target = patches[patches["status"].isin(["illegal", "case_filed", "rectifying"])].iloc[0]
    tab = Tab(browser, base, viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    page = tab.page
    tab.login("enforcer", result.password)
    before = float(total_rectified(page))
    page.screenshot(path=str(shots / "dashboard-phone.png"), full_page=True)
    page.goto(f"{base}/map")
    frame = page.frame(url=re.compile(r".*/map/frame.*"))
    frame.wait_for_function("window.geoTracker && window.geoTracker.ready", timeout=15000)
    frame.evaluate(f"geoTracker.open({target['patch_code']!r})")
    link = page.frame_locator("iframe.map-frame").locator(".gt-patch-link")
    link.click()
    page.wait_for_url(re.compile(r".*/patches/.+"))
    assert target["patch_code"] in page.locator("h1").inner_text()
    assert tab.unlabelled() == []
    form = page.locator("#rectify-form")
    form.get_by_label("本次整改面积（亩）").fill("0.25")
    form.get_by_label("现场照片或文件").set_input_files(files=[{"name": "现场.jpg", "mimeType": "image/jpeg",
                                                           "buffer": jpeg_bytes()}])
    box = form.get_by_role("button", name="整改登记").bounding_box()
    assert box["height"] >= 44                                    # a thumb can hit it
    form.get_by_role("button", name="整改登记").click()
    page.wait_for_url(re.compile(r".*msg=act.done"))
    assert page.locator(".thumbs img").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 360 + 1   # no sideways scrolling
    page.screenshot(path=str(shots / "patch-phone.png"), full_page=True)
    page.goto(f"{base}/dashboard")
    assert float(total_rectified(page)) == pytest.approx(before + 0.25, abs=1e-9)
    tab.check_clean()
    tab.close()


def test_enforcer_draws_the_rectified_part_on_the_patch_map(browser, demo, backend, db_url):
    import json

    import shapely

    from geo_tracker.core.area import geodesic_area_mu

    base, result = demo
    with open_store(db_url) as store:
        patches = list_patches(store)
    target = patches[patches["status"].isin(["illegal", "case_filed", "rectifying"])].iloc[0]
    before = float(target["rectified_mu"])
    tab = Tab(browser, base, viewport={"width": 1000, "height": 900})
    page = tab.page
    tab.login("admin", result.password)
    page.goto(f"{base}/patches/{quote(target['batch'], safe='')}/{quote(target['patch_code'], safe='')}")
    page.get_by_role("button", name="开始画").click()
    inside = target.geometry.representative_point()
    (x0, y0, x1, y1), box = target.geometry.bounds, page.locator("#patch-map").bounding_box()
    dx, dy = (x1 - x0) / 6, (y1 - y0) / 6
    for lon, lat in ((inside.x - dx, inside.y - dy), (inside.x + dx, inside.y - dy), (inside.x, inside.y + dy)):
        point = page.evaluate(f"geoTrackerPatchMap.latLngToContainerPoint([{lat}, {lon}])")
        page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
    drawn = json.loads(page.locator("#drawn").input_value())
    assert "3" in page.locator("#draw-status").inner_text()
    part = shapely.intersection(shapely.geometry.shape(drawn), target.geometry)
    expected = float(geodesic_area_mu([part])[0])
    assert expected > 0
    page.locator("#rectify-form").get_by_role("button", name="整改登记").click()
    page.wait_for_url(re.compile(r".*msg=act.done"))
    with open_store(db_url) as store:
        after = list_patches(store, codes=[target["patch_code"]], batch=target["batch"]).iloc[0]["rectified_mu"]
    assert after - before == pytest.approx(expected, rel=1e-6)
    tab.check_clean()
    tab.close()


def jpeg_bytes() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (32, 32), "green").save(out, "JPEG")
    return out.getvalue()


def test_viewer_sees_no_actions_and_a_direct_post_is_refused(browser, demo, backend):
    base, result = demo
    tab = Tab(browser, base)
    page = tab.page
    tab.login("viewer", result.password)
    page.goto(f"{base}/patches")
    page.locator("#patch-table tbody a").first.click()
    page.wait_for_url(re.compile(r".*/patches/.+"))
    assert page.locator("form#verify-form, form#rectify-form, form#close-form").count() == 0
    assert page.get_by_role("link", name="批次导入").count() == 0
    href = page.url.split(base, 1)[1]
    csrf = page.locator("input[name=csrf_token]").first.input_value()     # the logout form's token
    refused = page.request.post(f"{base}{href}/rectify", multipart={
        "csrf_token": csrf, "on": "2023-12-01", "measure": "demolition", "area_mu": "0.1"})
    assert refused.status == 403
    api = page.request.post(f"{base}/api/v1/patches/x/verify", data={"result": "legal", "on": "2023-12-01"},
                            headers={"X-CSRF-Token": csrf})
    assert api.status == 403
    tab.check_clean()
    tab.close()


def test_report_author_downloads_the_docx_with_the_dashboard_figures(browser, demo, shots, backend, tmp_path):
    import docx

    base, result = demo
    tab = Tab(browser, base, viewport={"width": 1280, "height": 900})
    page = tab.page
    tab.login("viewer", result.password)
    page.goto(f"{base}/dashboard?year=2023")
    page.screenshot(path=str(shots / "dashboard.png"), full_page=True)
    area = page.locator("#by-source tr", has_text="卫片执法").locator("[data-figure=area_mu]").inner_text()
    rectified = page.locator("#by-source tr", has_text="卫片执法").locator("[data-figure=rectified_mu]").inner_text()
    header = page.locator("#by-village th", has_text="面积（亩）").first
    header.focus()
    page.keyboard.press("Enter")                                   # sortable from the keyboard
    areas = [float(t) for t in page.locator("#by-village tbody tr td:nth-child(3)").all_inner_texts()]
    assert areas == sorted(areas) and header.get_attribute("aria-sort") == "ascending"
    page.goto(f"{base}/reports?year=2023")
    with page.expect_download() as download:
        page.locator("#report-docx").click()
    path = tmp_path / "report.docx"
    download.value.save_as(path)
    text = "\n".join(p.text for p in docx.Document(path).paragraphs)
    assert f"{area}亩" in text and f"{rectified}亩" in text
    tab.check_clean()
    tab.close()


def test_an_xss_attribute_shows_as_text_everywhere(browser, demo, backend):
    base, _ = demo
    tab = Tab(browser, base)
    page = tab.page
    tab.login("viewer2")
    page.goto(f"{base}/patches?batch=XSS批")
    page.get_by_role("link", name="XSS0001").click()
    assert XSS in page.locator("#patch-attrs").inner_text()
    assert page.locator("img[src='x']").count() == 0
    page.goto(f"{base}/map?batch=XSS批")
    frame = page.frame(url=re.compile(r".*/map/frame.*"))
    frame.wait_for_function("window.geoTracker && window.geoTracker.ready", timeout=15000)
    frame.evaluate("geoTracker.open('XSS0001')")
    popup = page.frame_locator("iframe.map-frame").locator(".leaflet-popup-content")
    popup.wait_for(timeout=5000)
    assert XSS in popup.inner_text()
    assert frame.evaluate("document.querySelectorAll('img[src=\"x\"]').length") == 0
    page.wait_for_timeout(300)
    tab.check_clean()
    tab.close()


# --- the pages without a browser: forms, redirects, errors ---------------------------------
def page_client(store):
    from fastapi.testclient import TestClient

    from geo_tracker.server.app import create_app

    return TestClient(create_app(store), headers={"Accept": "text/html"})


def logged_in(store, username: str):
    client = page_client(store)
    response = form_login(client, username, PASSWORD, next="/cases")
    assert response.status_code == 303 and response.headers["location"] == "/cases"
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/cases").text).group(1)
    return client, csrf


def test_case_pages_account_and_errors(store, tmp_path):
    import bureau_files as bf
    from geo_tracker.services import tracking

    import_batch(store, bf.weipian_geojson(tmp_path), ImportOptions(source="natural-resources", batch="B",
                                                                     issued_on=date(2023, 6, 30)))
    tracking.verify_patch(store, "5001090001", "illegal", date(2023, 7, 5))
    accounts.add_user(store, "zhang", PASSWORD, "enforcer", ["*"])
    client, csrf = logged_in(store, "zhang")

    opened = client.post("/cases", data={"csrf_token": csrf, "case_no": "罚〔2023〕7号", "opened_on": "2023-07-10",
                                         "refs": "B/5001090001"}, follow_redirects=False)
    assert opened.status_code == 303
    page = client.get(opened.headers["location"]).text
    assert "罚〔2023〕7号" in page and "5001090001" in page and "已记录" in page
    decided = client.post(f"/cases/{quote('罚〔2023〕7号')}/decision",
                          data={"csrf_token": csrf, "on": "2023-06-01", "fine_yuan": "500"})
    assert decided.status_code == 422 and "不能早于立案日期" in decided.text    # shown on the page, not lost
    forged = client.post(f"/cases/{quote('罚〔2023〕7号')}/close", data={"on": "2023-09-01"})
    assert forged.status_code == 403 and "CSRF" in forged.text
    assert client.get("/cases/没有这个案件").status_code == 404

    english = client.get("/patches?lang=en").text
    assert "Patches" in english and 'lang="en"' in english
    assert client.get("/patches").text.count("Patches") >= 1                   # the choice is remembered

    changed = client.post("/account/password", data={"csrf_token": csrf, "old_password": PASSWORD,
                                                     "new_password": "another good one"}, follow_redirects=False)
    assert changed.status_code == 303 and changed.headers["location"].startswith("/login")
    assert client.get("/dashboard", follow_redirects=False).headers["location"].startswith("/login")


def test_login_never_redirects_off_site(store):
    accounts.add_user(store, "li", PASSWORD, "viewer", ["*"])
    client = page_client(store)
    for target in ("//evil.example/", "https://evil.example/", "javascript:alert(1)"):
        response = form_login(client, "li", PASSWORD, next=target)
        assert response.headers["location"] == "/dashboard"
    wrong = form_login(client, "li", "nope")
    assert wrong.status_code == 401 and "用户名或密码不对" in wrong.text


def test_a_form_sent_after_the_session_ended_returns_to_its_page(store):
    client = page_client(store)
    lost = client.post("/patches/B/1/verify", data={"on": "2023-01-01"},
                       headers={"Referer": "http://testserver/patches/B/1?x=1"}, follow_redirects=False)
    assert lost.status_code == 303 and lost.headers["location"] == "/login?next=%2Fpatches%2FB%2F1%3Fx%3D1"
    elsewhere = client.post("/patches/B/1/verify", headers={"Referer": "http://evil.example/patches"},
                            follow_redirects=False)
    assert elsewhere.headers["location"] == "/login?next=%2Fdashboard"
    api = client.post("/api/v1/patches/B/1/verify", json={})
    assert api.status_code == 401 and api.json()["code"] == "not_authenticated"   # the API stays JSON


def test_the_english_catalogue_has_every_word():
    from geo_tracker.server.pages.messages import MESSAGES

    assert set(MESSAGES["en"]) == set(MESSAGES["zh"])
    used = set()
    for template in (ROOT / "geo_tracker" / "server" / "pages" / "templates").glob("*.html"):
        used |= set(re.findall(r"_\('([a-z_.]+)'", template.read_text(encoding="utf-8")))
    assert len(used) > 100, "the templates were not found"
    keys = set(MESSAGES["zh"])
    # a key ending in "." or "_" is the start of keys the template completes (``_('level.' ~ lv)``)
    prefixes = {k for k in used - keys if k.endswith((".", "_")) and any(m.startswith(k) for m in keys)}
    assert used - keys - prefixes <= {"role.", "result.", "event.", "case.", "reports.", "import.",
                                      "import.basis.", "error."}


def test_liaison_sees_a_duplicate_delivery_and_a_five_way_reissue_diff(browser, office, shots, backend, tmp_path):
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    import bureau_files as bf

    tab = Tab(browser, office, viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    page = tab.page
    tab.login("liaison")

    def check(path, batch):
        page.goto(f"{office}/import")
        files = sorted(str(f) for f in path.parent.glob(f"{path.stem}.*")) if path.suffix == ".shp" else str(path)
        page.get_by_label("上级下发的文件").set_input_files(files)
        page.get_by_label("来源").select_option("natural-resources")
        page.get_by_label("批次名称").fill(batch)
        page.get_by_label("下发日期").fill("2023-06-30")
        page.get_by_role("button", name="检查（不导入）").click()
        page.wait_for_url(re.compile(r".*/import$"))

    check(bf.SAMPLE_ZIP, "2023年第2批")
    page.get_by_role("button", name="确认导入").click()
    page.wait_for_url(re.compile(r".*/import/confirm$"))

    check(bf.rezipped_sample(tmp_path), "2023年第2批（重发）")
    notice = page.locator("#duplicate-file").inner_text()
    assert "已于" in notice and "由liaison导入为批次“2023年第2批”" in notice
    assert page.locator("#import-duplicates tbody tr").count() == 15
    assert "图形相同" in page.locator("#import-duplicates").inner_text()
    confirm = page.get_by_role("button", name="确认导入")
    assert confirm.is_disabled()
    page.screenshot(path=str(shots / "import-duplicates-phone.png"), full_page=True)
    page.get_by_label("我已核对，上级确实重复下发，仍要导入（重复的图斑会计入两个批次）").check()
    assert confirm.is_enabled()
    page.get_by_label("我已核对，上级确实重复下发，仍要导入（重复的图斑会计入两个批次）").uncheck()
    assert confirm.is_disabled()

    check(bf.sample_reissue(tmp_path), "2023年第2批")
    counts = {k: page.locator(f"[data-diff={k}]").inner_text()
              for k in ("unchanged", "attributes_changed", "changed", "withdrawn", "new")}
    assert counts == {"unchanged": "0", "attributes_changed": "13", "changed": "2", "withdrawn": "0", "new": "0"}
    diff = page.locator("#import-diff").inner_text()
    assert "仅属性变化" in diff and "图形或面积变化（须重新核查）" in diff
    assert page.locator("#duplicate-file").count() == 0 and page.get_by_role("button", name="确认导入").is_enabled()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.screenshot(path=str(shots / "import-reissue-phone.png"), full_page=True)
    page.get_by_role("button", name="确认导入").click()
    page.wait_for_url(re.compile(r".*/import/confirm$"))
    assert page.locator("[data-diff=attributes_changed]").inner_text() == "13"
    tab.check_clean()
    tab.close()


def test_every_page_keeps_its_content_security_policy(browser, demo, backend):
    base, result = demo
    tab = Tab(browser, base, viewport={"width": 1280, "height": 900})
    page = tab.page
    tab.login("admin", result.password)
    code = page.evaluate("fetch('/api/v1/patches?limit=1').then(r => r.json())")["features"][0]["properties"]
    pages = ["/dashboard", "/map", "/patches", f"/patches/{quote(code['batch'])}/{quote(code['patch_code'])}",
             "/import", "/cases", "/reports", "/account", "/map/tiles", "/field"]
    for path in pages:
        response = page.goto(f"{base}{path}")
        assert response.status == 200, path
        assert "script-src 'self' 'nonce-" in response.headers["content-security-policy"]
        page.wait_for_load_state("networkidle")
        if path == "/map":                                   # folium's inline scripts ran, with the nonce
            frame = page.frame(url=re.compile(r".*/map/frame.*"))
            frame.wait_for_function("window.geoTracker && window.geoTracker.ready", timeout=15000)
        for frame in page.frames:
            assert frame.evaluate("window.__csp || []") == [], (path, frame.url)
    tab.check_clean()
    tab.close()
