"""外业 (/field), the offline app for enforcers' phones, in Debian's Chromium against a real server.

Both backends, on the demo township plus a batch of two patches still to verify: the enforcer
downloads the work package, goes into airplane mode, reloads (the service worker serves the
shell, IndexedDB the patches), records a verification and a rectification, reloads offline
again, comes back online (the ``online`` event syncs) and the server holds both events on the
days the phone gave. Then the conflicts: the server changes two patches between recording and
sync; the page shows the server's state beside the phone's, 重新提交 records one, the other
(no longer verifiable) is refused with the reason and stays until 放弃. At 360x740 with touch:
the map takes the screen, nothing scrolls sideways, no request leaves the server, no console
error. Also: who may open /field, and what the worker, the manifest and the icons answer.
"""

from __future__ import annotations

import hashlib
import math
import re
from datetime import date, timedelta

import httpx
import pytest
import shapely.affinity

from live_server import form_login, running_server
from test_chinese_pages import english_words
from test_web import Tab, shots, total_rectified  # noqa: F401  (shots is a fixture used here)
from geo_tracker.core.area import geodesic_area_mu
from geo_tracker.services import tracking
from geo_tracker.services.batches import ImportOptions, import_batch
from geo_tracker.services.demo import run_demo
from geo_tracker.services.patches import list_patches
from geo_tracker.store import evidence as evidence_repo, open_store

PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}
NR = "2023年卫片执法第2批"
FIELD_BATCH = "2024年外业核查"
TO_VERIFY, TO_REFUSE = f"{FIELD_BATCH}/WY-01", f"{FIELD_BATCH}/WY-02"
TO_RECTIFY, TO_CONFLICT = f"{NR}/500109202302012", f"{NR}/500109202302013"   # the demo's two 已立案


@pytest.fixture
def township(db_url, tmp_path):
    """The demo's year and a batch of two patches to verify (beside two of the demo's, in the
    enforcer's township: WY-01 in 温泉社区 with the 已立案 TO_RECTIFY, WY-02 in 运河村), served by
    a real `geo-tracker serve`."""
    result = run_demo(db_url)
    with open_store(db_url) as store:
        frame = list_patches(store)
        frame = frame.set_index("patch_code").loc[["LC2023-09", "LC2023-07"], ["geometry"]].reset_index(drop=True)
        frame["geometry"] = [shapely.affinity.translate(g, 0.003, 0) for g in frame.geometry]
        frame["JCBH"] = ["WY-01", "WY-02"]
        path = tmp_path / "field.geojson"
        frame.to_file(path, driver="GeoJSON")
        import_batch(store, path, ImportOptions(source="natural-resources", batch=FIELD_BATCH,
                                                issued_on=date(2024, 3, 1)))
    with running_server(db_url, tmp_path / "server.log") as base:
        yield base, result.password


def phone_with_package(browser, base: str, password: str, **context) -> Tab:
    """The enforcer's phone, signed in, with the default package (下载) on it."""
    tab = Tab(browser, base, **context, **PHONE)
    tab.login("enforcer", password)
    open_app(tab)
    menu(tab.page).get_by_role("button", name="下载").click()
    tab.page.wait_for_function("() => fieldApp.patchCount() > 0", timeout=15000)
    return tab


def rectified_of(db_url: str, ref: str) -> float:
    """The patch's rectified area (已整改) as the ledger keeps it."""
    batch, code = ref.split("/")
    with open_store(db_url) as store:
        listed = list_patches(store)
    [area] = listed[(listed["batch"] == batch) & (listed["patch_code"] == code)]["rectified_mu"]
    return float(area)


def events_of(db_url: str, ref: str, kind: str) -> list[dict]:
    with open_store(db_url) as store:
        return [e for e in tracking.patch_history(store, ref) if e["kind"] == kind and e["voided_by"] is None]


def open_app(tab: Tab):
    tab.page.goto(f"{tab.base}/field")
    tab.page.wait_for_function("() => window.fieldApp && window.fieldApp.ready", timeout=15000)


def menu(page):
    if page.locator("#field-panel").is_hidden():
        page.locator("#field-menu").click()
    return page.locator("#field-panel")


def tap_patch(page, ref: str, zoom: bool = False):
    """Tap the patch where it is drawn, over all the package (a dot there) or zoomed to it."""
    if page.locator("#field-sheet").is_visible():
        page.locator("#field-sheet").get_by_role("button", name="关闭").click()
    page.evaluate(f"fieldApp.zoomTo({ref!r})" if zoom else "fieldApp.fit()")
    point = page.evaluate(f"fieldApp.pointOf({ref!r})")
    tap(page, point["x"], point["y"])
    page.wait_for_function(f"() => fieldApp.selected() === {ref!r}", timeout=15000)
    assert page.locator("#sheet-code").inner_text() == ref.split("/")[1]


def tap(page, x: float, y: float):
    """A finger's tap, slower than a double tap (which zooms the map, as it should)."""
    page.wait_for_timeout(700)
    page.touchscreen.tap(x, y)


def dots(page, refs: list[str]) -> dict[str, tuple[float, float]]:
    page.evaluate("fieldApp.fit()")
    points = page.evaluate("refs => refs.map(r => fieldApp.pointOf(r))", refs)
    return {r: (p["x"], p["y"]) for r, p in zip(refs, points)}


def tap_beside(page, refs: list[str], away: float = 30) -> str:
    """At the overview zoom, tap ``away`` pixels off a patch's dot where every other dot is farther
    (a finger's width off still picks it); the patch tapped."""
    where = dots(page, refs)
    for ref, (x, y) in where.items():
        others = [p for r, p in where.items() if r != ref]
        for dx, dy in ((away, 0), (-away, 0), (0, away), (0, -away)):
            if 60 < y + dy < 700 and 10 < x + dx < 350 and all(math.dist((x + dx, y + dy), p) > away + 12 for p in others):
                tap(page, x + dx, y + dy)
                return ref
    raise AssertionError(f"no patch stands alone enough at the overview: {where}")


def tap_nowhere(page, refs: list[str]):
    """Tap the map just beyond a finger's width (44 px, plus the few pixels a patch is across at the
    overview) from the nearest patch's dot."""
    where = dots(page, refs).values()
    sheet = page.locator("#field-sheet")
    below = sheet.bounding_box()["y"] - 8 if sheet.is_visible() else 700
    for x in range(20, 340, 4):
        for y in range(80, int(below), 4):
            if 56 < min(math.dist((x, y), p) for p in where) < 64:
                tap(page, x, y)
                return
    raise AssertionError("the map has no place just beside a patch")


def record_verify(page, result: str, on: date, note: str):
    page.locator("#sheet-verify").click()
    form = page.locator("#verify-form")
    form.get_by_label("核查结论").select_option(result)
    form.get_by_label("日期").fill(on.isoformat())
    form.get_by_label("说明").fill(note)
    form.get_by_role("button", name="保存（待同步）").click()
    form.wait_for(state="hidden")


def record_rectify(page, area: str, on: date):
    page.locator("#sheet-rectify").click()
    form = page.locator("#rectify-form")
    form.get_by_label("整改措施").select_option("demolition")
    form.get_by_label("本次整改面积（亩）").fill(area)
    form.get_by_label("日期").fill(on.isoformat())
    form.get_by_role("button", name="保存（待同步）").click()


def badge(page) -> str:
    return page.locator("#field-badge").inner_text().strip()


def layout(page) -> dict:
    return page.evaluate("""() => { const r = document.getElementById('field-map').getBoundingClientRect();
        const w = Math.min(r.right, innerWidth) - Math.max(r.left, 0), h = Math.min(r.bottom, innerHeight) - Math.max(r.top, 0);
        const covers = ['field-menu', 'field-net', 'field-locate'].map(id => document.getElementById(id))
          .filter(el => el && el.offsetParent !== null).map(el => { const b = el.getBoundingClientRect();
            return (b.width * b.height) / (w * h); });
        return {share: (w * h) / (innerWidth * innerHeight), scroll: document.documentElement.scrollWidth,
                control: Math.max(0, ...covers),
                width: innerWidth, menu: document.getElementById('field-menu').getBoundingClientRect().height}; }""")


def test_an_enforcer_works_offline_and_syncs(browser, township, shots, db_url):  # noqa: F811
    base, password = township
    tab = Tab(browser, base, permissions=["geolocation"], geolocation={"latitude": 0, "longitude": 0}, **PHONE)
    page = tab.page
    tab.login("enforcer", password)
    page.goto(f"{base}/dashboard?year=2023&as_of={date.today().isoformat()}")    # the demo issued in 2023
    rectified_before = float(total_rectified(page))
    village = next(v for v in tab.context.request.get(f"{base}/api/v1/field/choices").json()["villages"]
                   if v["name"] == "温泉社区")
    package = tab.context.request.get(f"{base}/api/v1/field/package?village={village['code']}").json()
    expected = len(package["patches"])
    refs = [p["ref"] for p in package["patches"]]
    assert expected == village["patches"] >= 3 and {TO_VERIFY, TO_RECTIFY} <= set(refs) and TO_REFUSE not in refs

    open_app(tab)
    assert page.evaluate("fieldApp.patchCount()") == 0
    assert page.evaluate("fieldApp.offlineReady()") is True
    assert english_words(page.content()) == []
    choose_one_village(page, "温泉社区", expected)
    menu(page).get_by_role("button", name="按所选下载").click()
    page.wait_for_function(f"() => fieldApp.patchCount() === {expected}", timeout=15000)
    assert page.locator("#field-panel").is_hidden()
    assert "温泉社区" in menu(page).locator("#field-package").inner_text()
    menu(page).get_by_role("button", name="关闭").first.click()

    tab.context.set_offline(True)
    open_app(tab)
    assert page.evaluate("fieldApp.patchCount()") == expected
    assert page.locator("#field-net").is_visible()
    sizes = layout(page)
    assert sizes["share"] >= 0.7 and sizes["scroll"] <= sizes["width"] and sizes["menu"] >= 44
    assert sizes["control"] <= 0.15                                      # no control covers much of the map

    verified_on, rectified_on = date.today() - timedelta(days=3), date.today() - timedelta(days=2)
    tap_patch(page, TO_VERIFY)
    record_verify(page, "illegal", verified_on, "现场已硬化")
    assert badge(page) == "1"
    target = next(p for p in package["patches"] if p["ref"] == TO_RECTIFY)
    tab.context.set_geolocation(east_of(shapely.from_geojson(target["geometry"]).__geo_interface__, 20))
    tap_patch(page, TO_RECTIFY, zoom=True)
    left = float(page.locator("#sheet-facts .fact-area").inner_text()) - \
        float(page.locator("#sheet-facts .fact-rectified").inner_text())
    record_rectify(page, f"{left + 1:.2f}", rectified_on)
    form = page.locator("#rectify-form")
    refusal = form.locator(".field-problem")
    assert refusal.is_visible() and "不能超过剩余面积" in refusal.inner_text()
    assert badge(page) == "1"
    form.get_by_label("本次整改面积（亩）").fill("2.5")
    form.get_by_label("照片（拍照）").set_input_files({"name": "after.jpg", "mimeType": "image/jpeg", "buffer": jpeg(3)})
    form.locator("[data-photos] li").first.wait_for()
    form.get_by_role("button", name="保存（待同步）").click()
    form.wait_for(state="hidden")
    assert badge(page) == "2"
    assert tab.unlabelled() == []
    page.screenshot(path=str(shots / "field-phone-sheet.png"))
    page.locator("#field-sheet").get_by_role("button", name="关闭").click()
    page.evaluate("fieldApp.fit()")
    page.screenshot(path=str(shots / "field-phone.png"))

    open_app(tab)                                     # still offline: the outbox is on the phone
    assert badge(page) == "2" and page.evaluate("fieldApp.patchCount()") == expected
    assert menu(page).locator("#field-outbox li").count() == 2
    assert events_of(db_url, TO_VERIFY, "verified") == []

    tab.context.set_offline(False)                    # the online event syncs by itself
    page.wait_for_function("() => fieldApp.outboxCount() === 0", timeout=15000)
    assert badge(page) == "0"
    [verified] = events_of(db_url, TO_VERIFY, "verified")
    assert verified["occurred_on"] == verified_on and verified["payload"]["result"] == "illegal"
    assert verified["payload"]["note"] == "现场已硬化" and verified["actor"] == "enforcer"
    [rectified] = [e for e in events_of(db_url, TO_RECTIFY, "rectified") if e["occurred_on"] == rectified_on]
    assert rectified["payload"]["area_mu"] == 2.5
    [photo] = rectified["payload"]["evidence"]
    assert photo["sha256"] == hashlib.sha256(jpeg(3)).hexdigest() and not photo["far"]
    assert photo["lon"] and photo["lat"] and photo["accuracy_m"] is not None and 20 <= photo["distance_to_patch_m"] < 100
    assert page.locator("#field-net").is_hidden()
    sizes = layout(page)
    assert sizes["scroll"] <= sizes["width"]
    assert page.evaluate("window.__csp") == []
    page.goto(f"{base}/dashboard?year=2023&as_of={date.today().isoformat()}")
    assert round(float(total_rectified(page)) - rectified_before, 2) == 2.5
    tab.check_clean()
    tab.close()


def choose_one_village(page, name: str, patches: int):
    """Open 选择下载范围, keep only ``name`` ticked, and see the size the server gives for it."""
    menu(page).locator("#field-choose summary").click()
    boxes = page.locator("#choose-villages input")
    boxes.first.wait_for()
    for i in range(boxes.count()):
        box = boxes.nth(i)
        if (box.get_attribute("data-label") or "").startswith(name + "（") != box.is_checked():
            box.click()
    page.wait_for_function(f"() => /^{patches}个图斑，约\\d+ KB。$/.test(document.getElementById('choose-size').textContent)",
                           timeout=15000)


def test_a_package_takes_its_imagery_out_of_signal(browser, township, shots):  # noqa: F811
    """选择下载范围 with 影像 down to zoom 18: the size is shown before downloading; offline, the map
    shows the demo's 后时相 under the patches from the phone's own cache, and 影像 steps to the
    前时相 and off."""
    base, password = township
    tab = Tab(browser, base, **PHONE)
    tab.login("enforcer", password)
    open_app(tab)
    page = tab.page
    menu(page).locator("#field-choose summary").click()
    page.locator("#choose-statuses input").first.wait_for()
    page.select_option("#choose-imagery", "18")
    size = page.locator("#choose-imagery-size")
    page.wait_for_function("() => /^影像\\d+张瓦片，约[\\d.]+ (KB|MB)。$/.test("
                           "document.getElementById('choose-imagery-size').textContent)", timeout=20000)
    tiles = int(re.search(r"影像(\d+)张", size.inner_text()).group(1))
    assert tiles > 10
    menu(page).get_by_role("button", name="按所选下载").click()
    page.wait_for_function("() => !document.getElementById('field-imagery').hidden", timeout=60000)
    assert page.locator("#field-imagery").inner_text() == "影像：2023-04-20 后时相"
    cached = page.evaluate("async () => (await (await caches.open('imagery-tiles')).keys()).length")
    assert cached == tiles
    tab.context.set_offline(True)
    open_app(tab)
    page.evaluate(f"fieldApp.zoomTo({NR + '/500109202302002'!r})")                 # 待审核, in both images
    shown = ("() => Array.from(document.querySelectorAll('#field-map img.leaflet-tile-loaded'))"
             ".filter(i => i.src.includes('/imagery/{id}/')).length >= 2")
    layers = page.evaluate("fieldApp.imagery()")
    page.wait_for_function(shown.replace("{id}", str(layers[0]["id"])), timeout=15000)
    page.wait_for_timeout(600)                                                    # Leaflet fades tiles in
    page.screenshot(path=str(shots / "field-phone-imagery.png"))
    menu(page).locator("#field-imagery").click()
    page.wait_for_function(shown.replace("{id}", str(layers[1]["id"])), timeout=15000)
    assert menu(page).locator("#field-imagery").inner_text() == "影像：2022-10-15 前时相"
    menu(page).locator("#field-imagery").click()
    assert menu(page).locator("#field-imagery").inner_text() == "影像：关"
    tab.check_clean()
    tab.close()


def test_a_conflict_is_shown_and_sent_again_or_dropped(browser, township, shots, db_url):  # noqa: F811
    base, password = township
    tab = phone_with_package(browser, base, password)
    page = tab.page
    refs = page.evaluate("fieldApp.refs()")
    # over the whole township every patch is a dot (drawn once the map has settled on the package)
    page.wait_for_function(f"() => fieldApp.dotCount() === {len(refs)}", timeout=15000)
    alone = tap_beside(page, refs)
    page.wait_for_function(f"() => fieldApp.selected() === {alone!r}", timeout=15000)
    tap_nowhere(page, refs)                                      # farther than 44 px: nothing is chosen
    page.wait_for_function("() => fieldApp.selected() === null", timeout=15000)
    on = date.today() - timedelta(days=1)
    tap_patch(page, TO_CONFLICT)
    record_rectify(page, "1.0", on)
    page.locator("#rectify-form").wait_for(state="hidden")
    tap_patch(page, TO_REFUSE)
    record_verify(page, "illegal", on, "")
    assert badge(page) == "2"

    before = rectified_of(db_url, TO_CONFLICT)
    with open_store(db_url) as store:                 # meanwhile, in the office
        tracking.rectify_patch(store, TO_CONFLICT, date.today(), "demolition", area_mu=0.5, user="office")
        tracking.verify_patch(store, TO_REFUSE, "legal", date.today(), user="office")
    menu(page).get_by_role("button", name="同步").click()
    conflicts = page.locator("#field-outbox li.conflict")
    conflicts.first.wait_for()
    assert conflicts.count() == 2 and badge(page) == "2"
    first = page.locator("#field-outbox li", has_text=TO_CONFLICT.split("/")[1])
    assert "服务器上" in first.inner_text() and "我的记录" in first.inner_text()
    assert "0.50" in first.locator(".field-compare > div").first.inner_text()     # theirs: 0.5 mu rectified
    assert "1.00" in first.locator(".field-compare > div").last.inner_text()      # mine: 1 mu
    page.screenshot(path=str(shots / "field-phone-conflict.png"))
    assert [e["actor"] for e in events_of(db_url, TO_CONFLICT, "rectified")].count("enforcer") == 0

    first.get_by_role("button", name="重新提交").click()
    page.wait_for_function("() => fieldApp.outboxCount() === 1", timeout=15000)
    office, phone = sorted(events_of(db_url, TO_CONFLICT, "rectified"), key=lambda e: e["id"])[-2:]
    assert (office["payload"]["area_mu"], office["actor"]) == (0.5, "office")
    assert (phone["payload"]["area_mu"], phone["occurred_on"], phone["actor"]) == (1.0, on, "enforcer")
    menu(page).get_by_role("button", name="同步").click()           # once more: nothing is sent twice
    page.wait_for_function("() => !document.getElementById('field-sync').disabled", timeout=15000)
    assert rectified_of(db_url, TO_CONFLICT) == pytest.approx(before + 0.5 + 1.0, abs=1e-9)

    other = page.locator("#field-outbox li", has_text=TO_REFUSE.split("/")[1])
    other.get_by_role("button", name="重新提交").click()
    other = page.locator("#field-outbox li.refused")
    other.wait_for()
    assert "未被接受" in other.inner_text() and other.locator(".field-problem").inner_text().strip()
    assert badge(page) == "1"                         # a refusal stays until dropped
    open_app(tab)
    assert badge(page) == "1" and menu(page).locator("#field-outbox li.refused").count() == 1
    page.locator("#field-outbox li.refused").get_by_role("button", name="放弃").click()
    page.wait_for_function("() => fieldApp.outboxCount() === 0")
    assert [e["payload"]["result"] for e in events_of(db_url, TO_REFUSE, "verified")] == ["legal"]
    tab.check_clean()
    tab.close()


def test_a_patch_verified_and_rectified_in_one_visit_syncs_both(browser, township, db_url):
    """The rectification was recorded knowing of the verification: it is sent once the verification
    is recorded, against the row that left, not answered as a conflict with the phone's own action."""
    base, password = township
    tab = phone_with_package(browser, base, password)
    page = tab.page
    tab.context.set_offline(True)
    tap_patch(page, TO_VERIFY, zoom=True)
    assert page.locator("#sheet-rectify").is_disabled()          # 下发: to verify first
    record_verify(page, "illegal", date.today(), "")
    assert page.locator("#sheet-rectify").is_enabled()           # 违法 once the outbox is synced
    record_rectify(page, "0.4", date.today())
    page.locator("#rectify-form").wait_for(state="hidden")
    record_rectify(page, "0.6", date.today())
    page.locator("#rectify-form").wait_for(state="hidden")
    assert badge(page) == "3"
    tab.context.set_offline(False)
    page.wait_for_function("() => fieldApp.outboxCount() === 0", timeout=15000)
    assert [e["payload"]["result"] for e in events_of(db_url, TO_VERIFY, "verified")] == ["illegal"]
    assert sorted(e["payload"]["area_mu"] for e in events_of(db_url, TO_VERIFY, "rectified")) == [0.4, 0.6]
    assert "1.00" in page.locator("#sheet-facts .fact-rectified").inner_text()
    tab.check_clean()
    tab.close()


def test_a_part_drawn_on_the_map_counts_only_what_lies_in_the_patch(browser, township, db_url):
    """The enforcer outlines the demolished part with taps, partly beyond the patch's edge: the phone
    shows about what lies inside, and the server records exactly that (never more than the patch)."""
    base, password = township
    tab = phone_with_package(browser, base, password)
    page = tab.page
    package = tab.context.request.get(f"{base}/api/v1/field/package").json()
    patch = shapely.from_geojson(next(p for p in package["patches"] if p["ref"] == TO_RECTIFY)["geometry"])
    tab.context.set_offline(True)
    tap_patch(page, TO_RECTIFY, zoom=True)
    page.locator("#sheet-rectify").click()
    form = page.locator("#rectify-form")
    form.get_by_label("整改措施").select_option("demolition")
    form.get_by_label("面积来源").select_option("drawn")
    form.get_by_role("button", name="开始画").click()
    page.locator("#field-draw").wait_for()
    west, south, east, north = patch.bounds
    (left, top), (right, bottom) = [tuple(page.evaluate(f"fieldApp.pointAt({lon}, {lat})").values())
                                    for lon, lat in ((west, north), (east, south))]
    x0, x1 = left - 20, (left + right) / 2                  # from beyond the west edge to the middle
    y0, y1 = max(top - 20, 160), min(bottom + 20, 720)
    corners = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
    for x, y in corners:
        tap(page, x, y)
    ring = [page.evaluate(f"fieldApp.lonLatAt({x}, {y})") for x, y in corners]
    inside = float(geodesic_area_mu([shapely.Polygon(ring).intersection(patch)])[0])
    assert 0 < inside < float(geodesic_area_mu([patch])[0]) * 0.9
    page.get_by_role("button", name="完成").click()
    page.locator("#field-draw").wait_for(state="hidden")
    phone = float(re.search(r"约([\d.]+)亩", form.locator("[data-drawn]").inner_text()).group(1))
    assert phone == pytest.approx(inside, rel=0.05)
    form.get_by_role("button", name="保存（待同步）").click()
    form.wait_for(state="hidden")
    tab.context.set_offline(False)
    page.wait_for_function("() => fieldApp.outboxCount() === 0", timeout=15000)
    [rectified] = [e for e in events_of(db_url, TO_RECTIFY, "rectified") if e["actor"] == "enforcer"
                   and e["occurred_on"] == date.today()]
    assert rectified["payload"]["area_mu"] == pytest.approx(inside, abs=0.002)
    tab.check_clean()
    tab.close()


def test_packages_are_listed_refreshed_one_by_one_and_removed(browser, township, db_url):
    """Two downloads are two packages on the phone, each with its date and scope; refreshing one
    fetches what changed in it; removing one keeps the patches the other still holds."""
    base, password = township
    tab = phone_with_package(browser, base, password)
    page = tab.page
    everything = page.evaluate("fieldApp.patchCount()")
    village = next(v for v in tab.context.request.get(f"{base}/api/v1/field/choices").json()["villages"]
                   if v["name"] == "运河村")
    choose_one_village(page, "运河村", village["patches"])
    menu(page).get_by_role("button", name="按所选下载").click()
    page.wait_for_function("() => document.querySelectorAll('#field-package li').length === 2", timeout=15000)
    packages = menu(page).locator("#field-package li")
    assert page.evaluate("fieldApp.patchCount()") == everything          # a patch in both is kept once
    assert "我的全部村" in packages.nth(0).inner_text() and "运河村" in packages.nth(1).inner_text()
    assert f"{village['patches']}个图斑" in packages.nth(1).inner_text() and "下载于" in packages.nth(1).inner_text()

    with open_store(db_url) as store:                                    # meanwhile, in the office
        tracking.verify_patch(store, TO_REFUSE, "legal", date.today(), user="office")
    packages.nth(1).get_by_role("button", name="更新").click()
    page.locator("#field-toast", has_text="已更新：1个图斑有变化").wait_for()
    assert "更新于" in packages.nth(1).inner_text() and "更新于" not in packages.nth(0).inner_text()
    tap_patch(page, TO_REFUSE, zoom=True)
    assert "合法" in page.locator("#sheet-facts").inner_text()

    page.evaluate("window.confirm = () => true")
    menu(page).locator("#field-package li").nth(1).get_by_role("button", name="删除").click()
    page.wait_for_function("() => document.querySelectorAll('#field-package li').length === 1", timeout=15000)
    assert page.evaluate("fieldApp.patchCount()") == everything
    tab.context.set_offline(True)
    open_app(tab)
    assert page.evaluate("fieldApp.patchCount()") == everything
    assert page.locator("#field-package li").count() == 1
    tab.check_clean()
    tab.close()


def test_a_rectified_patch_is_put_to_the_county_from_the_field(browser, township, db_url):
    """申请销号 offline, with a photo of the site: once synced the patch waits at the county's first
    level, as if it had been submitted from the office."""
    base, password = township
    tab = phone_with_package(browser, base, password)
    page = tab.page
    done = f"{NR}/500109202302004"                                  # 整改到位, in the enforcer's 温泉社区
    tab.context.set_offline(True)
    tap_patch(page, done, zoom=True)
    assert page.locator("#sheet-verify").is_disabled() and page.locator("#sheet-rectify").is_disabled()
    page.locator("#sheet-submit").click()
    form = page.locator("#submit-form")
    form.get_by_label("说明").fill("已拆除复耕，申请销号")
    form.get_by_label("照片（拍照）").set_input_files({"name": "site.jpg", "mimeType": "image/jpeg", "buffer": jpeg(4)})
    form.locator("[data-photos] li").first.wait_for()
    form.get_by_role("button", name="保存（待同步）").click()
    form.wait_for(state="hidden")
    assert badge(page) == "1" and [e for e in events_of(db_url, done, "submitted") if e["actor"] == "enforcer"] == []
    tab.context.set_offline(False)
    page.wait_for_function("() => fieldApp.outboxCount() === 0", timeout=15000)
    [submitted] = [e for e in events_of(db_url, done, "submitted") if e["actor"] == "enforcer"]
    assert submitted["occurred_on"] == date.today() and submitted["payload"]["note"] == "已拆除复耕，申请销号"
    assert [p["sha256"] for p in submitted["payload"]["evidence"]] == [hashlib.sha256(jpeg(4)).hexdigest()]
    with open_store(db_url) as store:
        listed = list_patches(store)
    [status] = listed[(listed["batch"] == NR) & (listed["patch_code"] == "500109202302004")]["status"]
    assert status == "submitted"
    tab.check_clean()
    tab.close()


def test_who_may_open_the_field_app_and_what_it_is_made_of(township):
    base, password = township
    with httpx.Client(base_url=base, headers={"Accept": "text/html"}) as anonymous:
        assert anonymous.get("/field").headers["location"].startswith("/login?next=")
        worker = anonymous.get("/field/sw.js")
        assert worker.headers["content-type"].startswith("application/javascript")
        assert worker.headers["service-worker-allowed"] == "/field"
        for path in ("/field", "/static/field/field.js", "/lib/leaflet/leaflet.js"):
            assert f'"{path}"' in worker.text
        manifest = anonymous.get("/field/manifest.webmanifest")
        assert manifest.headers["content-type"].startswith("application/manifest+json")
        body = manifest.json()
        assert (body["name"], body["start_url"], body["display"]) == ("图斑外业", "/field", "standalone")
        for icon in body["icons"]:
            answer = anonymous.get(icon["src"])
            assert answer.status_code == 200 and answer.headers["content-type"] == icon["type"]
        assert anonymous.get("/field/icon-192.png").content[:8] == b"\x89PNG\r\n\x1a\n"
    for username, status in (("enforcer", 200), ("admin", 200), ("viewer", 403), ("reviewer", 403)):
        with httpx.Client(base_url=base, headers={"Accept": "text/html"}) as client:
            assert form_login(client, username, password).status_code == 303
            page = client.get("/field")
            assert page.status_code == status, username
            assert ("field-data" in page.text) == (status == 200)


def jpeg(seed: int) -> bytes:
    import io

    from PIL import Image
    out = io.BytesIO()
    Image.new("RGB", (80, 60), (40 + seed, 120, 60)).save(out, "JPEG")
    return out.getvalue()


def east_of(geometry: dict, metres: float) -> dict:
    """Where the phone says it is: ``metres`` east of the patch's eastern edge, at its middle latitude."""
    west, south, east, north = shapely.geometry.shape(geometry).bounds
    lat = (south + north) / 2
    return {"latitude": lat, "longitude": east + metres / (111_320 * math.cos(math.radians(lat)))}


def where_metres(page) -> int:
    text = page.locator("#sheet-where").inner_text()
    found = re.search(r"距图斑(\d+)米，方向(\S+?)（(\d+)°）", text)
    assert found, text
    return int(found.group(1)), found.group(2), int(found.group(3))


def test_the_phone_knows_where_it_is_and_marks_a_far_photo_and_an_upload_resumes(browser, township, shots, db_url):  # noqa: F811
    base, password = township
    tab = phone_with_package(browser, base, password, permissions=["geolocation"],
                             geolocation={"latitude": 0, "longitude": 0})
    page = tab.page
    package = tab.context.request.get(f"{base}/api/v1/field/package").json()
    target = next(p for p in package["patches"] if p["ref"] == TO_VERIFY)
    geometry = shapely.from_geojson(target["geometry"]).__geo_interface__
    tab.context.set_offline(True)
    tab.context.set_geolocation(east_of(geometry, 50))
    tap_patch(page, TO_VERIFY, zoom=True)
    page.wait_for_function("() => /距图斑50米|距图斑49米|距图斑51米/.test(document.getElementById('sheet-where').textContent)",
                           timeout=15000)
    metres, direction, bearing = where_metres(page)
    assert 49 <= metres <= 51 and direction == "西" and 265 <= bearing <= 275
    page.locator("#sheet-verify").click()
    form = page.locator("#verify-form")
    form.get_by_label("照片（拍照）").set_input_files({"name": "near.jpg", "mimeType": "image/jpeg", "buffer": jpeg(1)})
    form.locator("[data-photos] li").first.wait_for()
    near = form.locator("[data-photos] li").first
    assert "far" not in (near.get_attribute("class") or "") and "距图斑50米" in near.inner_text()
    tab.context.set_geolocation(east_of(geometry, 150))
    page.wait_for_function("() => /距图斑1(49|50|51)米/.test(document.getElementById('sheet-where').textContent)",
                           timeout=15000)
    form.get_by_label("照片（拍照）").set_input_files({"name": "far.jpg", "mimeType": "image/jpeg", "buffer": jpeg(2)})
    form.locator("[data-photos] li.far").wait_for()
    assert "超过100米" in form.locator("[data-photos] li.far").inner_text()
    form.get_by_label("核查结论").select_option("illegal")
    page.screenshot(path=str(shots / "field-phone-photos.png"))
    form.get_by_role("button", name="保存（待同步）").click()
    form.wait_for(state="hidden")
    assert badge(page) == "1"

    broken = []

    def once(route):
        if route.request.method == "PUT" and not broken:
            broken.append(route.request.url)
            route.abort()
        else:
            route.continue_()
    page.route("**/api/v1/field/uploads/**", once)
    tab.context.set_offline(False)                     # the first sync breaks on the photo's upload
    page.wait_for_function("() => !document.getElementById('field-problem').hidden", timeout=15000)
    assert broken and page.evaluate("fieldApp.outboxCount()") == 1
    assert events_of(db_url, TO_VERIFY, "verified") == []
    menu(page).get_by_role("button", name="同步").click()
    page.wait_for_function("() => fieldApp.outboxCount() === 0", timeout=15000)
    [verified] = events_of(db_url, TO_VERIFY, "verified")
    photos = verified["payload"]["evidence"]
    assert [p["far"] for p in photos] == [False, True]
    assert [round(p["distance_to_patch_m"]) for p in photos] == [50, 150]
    assert [p["sha256"] for p in photos] == [hashlib.sha256(jpeg(1)).hexdigest(), hashlib.sha256(jpeg(2)).hexdigest()]
    assert all(p["lon"] and p["lat"] and p["taken_at"] for p in photos)
    with open_store(db_url) as store:
        with store.engine.connect() as conn:
            assert sorted(sha for sha, _ in evidence_repo.stored_files(conn)) == sorted(p["sha256"] for p in photos)
    assert page.evaluate("window.__csp") == []
    assert tab.errors == ["Failed to load resource: net::ERR_FAILED"]   # the upload the test broke, once
    tab.errors.clear()
    tab.check_clean()
    tab.close()
