"""The county's review on the pages (issue 22): 审核 (the queue and a patch's material beside the
approve/return form), 退回 (the township's returned patches), and the patch page's banner, note
and 申请销号 form.

Both backends, on the demo township (澄江镇 of 北碚区, a county policy for both sources): who
may see and answer what (a reviewer of the county, one of another county, an enforcer, a
viewer), the whole round in Chromium with real photos (submit, return with a reason, resubmit,
approve, one more 已销号 on the dashboard), screenshots at 360 and 1280 px, and the English labels.
"""

from __future__ import annotations

import io
import os
import re
from datetime import date
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from live_server import form_login, running_server
from test_chinese_pages import english_words
from test_review import _another_county
from test_web import Tab
from geo_tracker.server.app import create_app
from geo_tracker.services import accounts, review, tracking
from geo_tracker.services.demo import run_demo
from geo_tracker.services.patches import list_patches
from geo_tracker.store import open_store

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "review-pages-Pa55"
NR = "2023年卫片执法第2批"
PENDING = f"{NR}/500109202302002"          # the demo's submission awaiting the county
RETURNED = f"{NR}/500109202302004"         # the demo's return: 未完全拆除；西侧硬化地面未清除
#: The demo's login names, shown as who recorded an event (data, not words of the page).
USERNAMES = {"enforcer", "reviewer"}
SIZES = {"phone": {"width": 360, "height": 740}, "desktop": {"width": 1280, "height": 900}}


def page_path(ref: str, prefix: str = "/patches") -> str:
    batch, code = ref.split("/")
    return f"{prefix}/{quote(batch, safe='')}/{quote(code, safe='')}"


def free_rectified(store) -> list[str]:
    """Rectified patches of the enforcer's township never submitted (the demo leaves a few)."""
    frame = list_patches(store)
    states = review.review_frame(store, [int(x) for x in frame["lineage_id"]])
    return [f"{p.batch}/{p.patch_code}" for p in frame.itertuples()
            if p.status == "rectified" and int(p.lineage_id) not in states]


@pytest.fixture
def county(db_url, tmp_path):
    """The demo's year, 合川区 (500117) with its own reviewer, and the demo's accounts."""
    result = run_demo(db_url)
    with open_store(db_url) as store:
        _another_county(store, tmp_path)
        accounts.add_user(store, "hechuan", PASSWORD, "reviewer", ["500117"], display_name="合川区审核员")
        yield store, result.password, free_rectified(store)


def client_as(store, username: str, password: str) -> tuple[TestClient, str]:
    client = TestClient(create_app(store), headers={"Accept": "text/html"})
    assert form_login(client, username, password).status_code == 303
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/account").text).group(1)
    return client, csrf


def test_who_sees_the_queue_who_may_answer_and_who_may_submit(county):
    store, password, rectified = county
    today = date.today().isoformat()
    reviewer, r_csrf = client_as(store, "reviewer", password)
    other, o_csrf = client_as(store, "hechuan", PASSWORD)
    enforcer, e_csrf = client_as(store, "enforcer", password)
    viewer, v_csrf = client_as(store, "viewer", password)

    queue = reviewer.get("/review")
    assert queue.status_code == 200 and PENDING.split("/")[1] in queue.text and 'href="/returned"' not in queue.text
    assert '<a href="/review" aria-current="page">审核</a>' in queue.text
    material = reviewer.get(page_path(PENDING, "/review"))
    assert material.status_code == 200 and 'id="review-form"' in material.text and "已提交" in material.text
    assert all(c in material.text for c in ("照片不清晰", "未完全拆除", "缺少处罚文书"))   # the vocabulary's codes
    for form in ("verify-form", "rectify-form", "close-form", "submit-form"):  # a reviewer does not track
        assert f'id="{form}"' not in reviewer.get(page_path(rectified[0])).text

    assert "没有待审核的图斑" in other.get("/review").text                      # another county: nothing
    assert other.get(page_path(PENDING, "/review")).status_code == 404
    assert other.post(page_path(PENDING, "/review"), data={"csrf_token": o_csrf, "decision": "approve",
                                                           "on": today}).status_code == 404

    assert enforcer.get("/review").status_code == 403
    assert enforcer.post(page_path(PENDING, "/review"), data={"csrf_token": e_csrf, "decision": "approve",
                                                              "on": today}).status_code == 403
    assert 'href="/review"' not in enforcer.get("/dashboard").text
    returned = enforcer.get("/returned")
    assert returned.status_code == 200 and "未完全拆除；西侧硬化地面未清除" in returned.text

    patch_page = enforcer.get(page_path(RETURNED)).text
    assert "县级审核退回（第1轮）：未完全拆除；西侧硬化地面未清除 — 2023-12-18" in patch_page
    assert 'id="submit-form"' in patch_page and 'id="close-form"' not in patch_page   # the county closes it
    assert 'capture="environment"' in patch_page.split('id="submit-form"')[1].split("</form>")[0]
    assert "待县级审核（已提交" in enforcer.get(page_path(PENDING)).text

    seen = viewer.get(page_path(rectified[0])).text
    assert 'id="submit-form"' not in seen and 'href="/returned"' not in seen
    assert viewer.get("/returned").status_code == 200                            # anyone who reads may look
    assert viewer.post(page_path(rectified[0]) + "/submit", data={"csrf_token": v_csrf, "on": today},
                       files={"evidence": ("a.jpg", photo(), "image/jpeg")}).status_code == 403

    empty = reviewer.post(page_path(PENDING, "/review"), data={"csrf_token": r_csrf, "decision": "return",
                                                               "on": today, "reason": "  "})
    assert empty.status_code == 422 and "退回必须写明原因" in empty.text and 'id="review-form"' in empty.text
    done = reviewer.post(page_path(PENDING, "/review"), data={"csrf_token": r_csrf, "decision": "approve",
                                                              "on": today}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/review?msg=act.done"
    assert list_patches(store, batch=NR, codes=[PENDING.split("/")[1]]).iloc[0]["status"] == "closed"
    assert "没有待审核的图斑" in reviewer.get("/review").text


def test_without_a_policy_the_close_form_takes_the_approval_reference(county):
    store, password, rectified = county
    review.set_policy(store, "natural-resources", "none")
    ref = next(r for r in rectified if r.startswith(NR))
    enforcer, csrf = client_as(store, "enforcer", password)
    page = enforcer.get(page_path(ref)).text
    assert 'id="close-form"' in page and 'name="approval_ref"' in page and 'id="submit-form"' not in page
    closed = enforcer.post(page_path(ref) + "/close", data={"csrf_token": csrf, "on": date.today().isoformat(),
                                                          "approval_ref": "北碚自然资销〔2024〕3号"},
                           follow_redirects=False)
    assert closed.status_code == 303
    assert tracking.patch_history(store, ref)[-1]["payload"]["approval_ref"] == "北碚自然资销〔2024〕3号"


def test_the_review_pages_have_english_labels(county):
    store, password, _rectified = county
    reviewer, _ = client_as(store, "reviewer", password)
    enforcer, _ = client_as(store, "enforcer", password)
    pages = {reviewer: {"/review?lang=en": ("Patches awaiting review", "Township", "Days waiting", "Round"),
                        page_path(PENDING, "/review") + "?lang=en": ("Approve", "Return", "Date of review",
                                                                     "Reasons for a return", "Review history")},
             enforcer: {"/returned?lang=en": ("Patches returned by review", "Returned on", "Reasons"),
                        page_path(RETURNED) + "?lang=en": ("Returned by the county review (round 1)",
                                                           "Submit for closure", "Returned")}}
    for client, answers in pages.items():
        for path, labels in answers.items():
            text = client.get(path).text
            assert 'lang="en"' in text and all(label in text for label in labels), path
            assert not re.search(r">\s*(review|returned|level|act)\.[a-z_]+", text), path    # no bare keys


# --- the whole round in a browser ------------------------------------------------------------
def photo(colour: str = "olivedrab") -> bytes:
    """A real JPEG (640×480, a field and a mark), as a phone would send."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (640, 480), colour)
    draw = ImageDraw.Draw(image)
    draw.rectangle((60, 300, 580, 460), fill="saddlebrown")
    draw.ellipse((420, 40, 560, 180), fill="gold")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


@pytest.fixture
def shots(backend):
    folder = Path(os.environ.get("GEO_TRACKER_TEST_OUTPUT", ROOT / "test-output")) / "screenshots" / backend
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def capture(tab: Tab, folder: Path, name: str) -> None:
    """Screenshots at 360×740 and 1280×900; at each, nothing wider than the screen, no English."""
    page = tab.page
    for size, viewport in SIZES.items():
        page.set_viewport_size(viewport)
        page.wait_for_timeout(150)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"] + 1, (name, size, width)
        page.screenshot(path=str(folder / f"{name}-{size}.png"), full_page=True)
    assert [w for w in english_words(page.content()) if w not in USERNAMES] == [], name
    page.set_viewport_size(SIZES["desktop"])


def closed_count(page, base: str) -> int:
    page.goto(f"{base}/dashboard")
    return int(page.locator("#total-closed").inner_text())


def submit(tab: Tab, base: str, ref: str, note: str, name: str) -> None:
    page = tab.page
    page.goto(base + page_path(ref))
    form = page.locator("#submit-form")
    form.get_by_label("整改后现场照片或文件").set_input_files(
        files=[{"name": name, "mimeType": "image/jpeg", "buffer": photo()}])
    form.get_by_label("说明").fill(note)
    form.get_by_role("button", name="申请销号").click()
    page.wait_for_url(re.compile(r".*msg=act.done"))
    assert page.locator("#patch-status").inner_text() == "待审核"
    assert "待县级审核（已提交0天）" in page.locator("#review-pending").inner_text()
    assert page.locator("#submit-form, #close-form").count() == 0


def open_from_queue(tab: Tab, base: str, ref: str) -> None:
    page = tab.page
    page.goto(f"{base}/review")
    page.locator("#review-table").get_by_role("link", name=ref.split("/")[1]).click()
    page.wait_for_url(re.compile(r".*/review/.+"))
    assert tab.unlabelled() == []


def test_submit_return_resubmit_approve_in_the_browser(browser, county, db_url, tmp_path, shots, backend):
    store, password, rectified = county
    ref = next(r for r in rectified if r.startswith(NR))        # a demolition of 卫片执法
    code = ref.split("/")[1]
    with running_server(db_url, tmp_path / "server.log") as base:
        town = Tab(browser, base, viewport=SIZES["desktop"], locale="zh-CN")
        town.login("enforcer", password)
        before = closed_count(town.page, base)
        submit(town, base, ref, "已全部拆除并清运", "拆除后.jpg")

        county_tab = Tab(browser, base, viewport=SIZES["desktop"], locale="zh-CN")
        county_tab.login("reviewer", password)
        page = county_tab.page
        page.goto(f"{base}/review")
        assert page.locator("#review-table tbody tr").count() == 2              # the demo's and ours
        capture(county_tab, shots, "review-queue")
        open_from_queue(county_tab, base, ref)
        thumb = page.locator("#review-timeline .thumbs img").first
        thumb.wait_for()
        assert page.evaluate("el => el.complete && el.naturalWidth", thumb.element_handle()) == 640
        assert page.locator("#review-dossier").get_attribute("href").endswith("/dossier.docx")
        capture(county_tab, shots, "review-patch")
        page.get_by_role("button", name="退回").click()                          # no reason: refused, kept
        assert "退回必须写明原因" in page.locator(".flash.bad").inner_text()
        capture(county_tab, shots, "review-patch-refused")
        assert [e for e in county_tab.errors if "422" not in e] == []        # the refusal's own status only
        county_tab.errors.clear()
        page.get_by_label("未完全拆除").check()
        page.get_by_label("审核意见").fill("西侧硬化地面未清除")
        page.get_by_role("button", name="退回").click()
        page.wait_for_url(re.compile(r".*/review\?msg=act.done"))
        assert page.locator("#review-table tbody tr").count() == 1

        today = date.today().isoformat()
        town.page.goto(base + page_path(ref))
        banner = town.page.locator("#review-banner").inner_text()
        assert banner == f"县级审核退回（第1轮）：未完全拆除；西侧硬化地面未清除 — {today}"
        capture(town, shots, "patch-returned")
        town.page.get_by_role("link", name="退回", exact=True).click()
        town.page.wait_for_url(re.compile(r".*/returned$"))
        item = town.page.locator("#returned-list li", has_text=code)
        assert "未完全拆除；西侧硬化地面未清除" in item.inner_text() and today in item.inner_text()
        capture(town, shots, "returned")
        item.get_by_role("link", name=code).click()
        town.page.wait_for_url(re.compile(r".*/patches/.+"))
        submit(town, base, ref, "西侧硬化地面已清除", "补拍.jpg")                 # the rest done: again

        open_from_queue(county_tab, base, ref)
        assert "第2轮" in page.locator("#review-pending").inner_text()
        assert page.locator("#review-timeline .thumbs img").count() == 2
        assert "西侧硬化地面未清除" in page.locator("#review-history").inner_text()
        page.get_by_role("button", name="通过").click()
        page.wait_for_url(re.compile(r".*/review\?msg=act.done"))

        assert closed_count(town.page, base) == before + 1
        town.page.goto(base + page_path(ref))
        assert town.page.locator("#patch-status").inner_text() == "已销号"
        assert town.page.locator("#review-banner").count() == 0
        for tab in (town, county_tab):
            tab.check_clean()
            tab.close()
    kinds = [e["kind"] for e in tracking.patch_history(store, ref)][-4:]
    assert kinds == ["submitted", "review_returned", "submitted", "review_approved"]
