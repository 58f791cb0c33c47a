"""Issue 19, "XLSX as offices use it" and "Lists": the workbook, the list's search and filters,
the 批次 and 即将到期 pages, natural case order, and printing. Storage tests run on both backends
over the demo database (real-shaped batches)."""

from __future__ import annotations

import json
import os
import re
from datetime import date
from pathlib import Path
from urllib.parse import quote

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from geo_tracker.cli.app import cli
from geo_tracker.core.lifecycle import STATUS_LABELS, STATUSES
from geo_tracker.services import accounts, tracking
from geo_tracker.services.batches import ImportOptions, import_batch
from geo_tracker.services.cases import case_number_key, list_cases
from geo_tracker.services.demo import DATA_DIR, SAMPLE_BATCHES, run_demo
from geo_tracker.services.exports import export_patches
from geo_tracker.services.patches import due_soon, list_patches
from geo_tracker.services.report import report_context
from geo_tracker.services.stats import compute_stats
from geo_tracker.store import open_store

ROOT = Path(__file__).resolve().parents[1]
NR_BATCH, FO_BATCH = "2023年卫片执法第2批", "2023年森林督查"
PASSWORD = "correct horse battery"
UNITS = ("亩", "公顷", "平方米", "个", "%", "°")


@pytest.fixture
def demo_store(db_url):
    run_demo(db_url)
    with open_store(db_url) as store:
        accounts.add_user(store, "viewer19", PASSWORD, "viewer", ["*"])
        store.test_token = accounts.create_token(store, "viewer19", "tests")
        yield store


def client_for(store) -> TestClient:
    from geo_tracker.server.app import create_app

    return TestClient(create_app(store), headers={"Authorization": f"Bearer {store.test_token}"})


def _sheet_rows(ws) -> list[dict]:
    header = [c.value for c in ws[1]]
    return [dict(zip(header, row)) for row in ws.iter_rows(min_row=2, values_only=True)]


def _summary(path) -> tuple[list, dict]:
    ws = load_workbook(path)["汇总"]
    rows = [r for r in ws.iter_rows(values_only=True)]
    total = next(r for r in rows if r[0] == "合计")
    return rows[0], dict(zip(rows[0], total))


# --- XLSX ---------------------------------------------------------------------------------------------------

def test_xlsx_has_a_summary_and_one_sheet_per_batch_in_chinese(demo_store, tmp_path):
    path = tmp_path / "patches.xlsx"
    export_patches(demo_store, path)
    wb = load_workbook(path)
    assert wb.sheetnames[0] == "汇总" and set(wb.sheetnames[1:]) == {NR_BATCH, FO_BATCH}
    for name in wb.sheetnames[1:]:
        ws = wb[name]
        assert ws.freeze_panes == "A2" and ws.auto_filter.ref.startswith("A1:")
        rows = _sheet_rows(ws)
        assert {r["批次"] for r in rows} == {name}
        assert {r["状态名称"] for r in rows} <= set(STATUS_LABELS.values())
        every_value = {v for r in rows for v in r.values() if isinstance(v, str)}
        assert not every_value & set(STATUSES), "an English status code reached the workbook"
        headers = [c.value for c in ws[1]]
        for i, header in enumerate(headers):
            values = [r[header] for r in rows if r[header] is not None]
            if values and all(isinstance(v, float) for v in values):
                assert any(u in header for u in UNITS), f"{name}: no unit in the header {header!r}"
        for header in ("计算面积（亩）", "整改面积（亩）"):
            assert all(round(r[header], 2) == r[header] for r in rows), "areas are printed with two decimals"
        exact = headers.index("计算面积（亩，未取整）") + 1
        assert ws.column_dimensions[ws.cell(row=1, column=exact).column_letter].hidden
        assert ws.column_dimensions["A"].width >= 8
    forestry = [c.value for c in wb[FO_BATCH][1]]
    assert "面积（公顷）" in forestry, "the forestry delivery states its area in 公顷"
    assert "监测面积 JCMJ（亩）" in [c.value for c in wb[NR_BATCH][1]]


def test_the_summary_total_equals_the_dashboard(demo_store, tmp_path):
    path = tmp_path / "patches.xlsx"
    export_patches(demo_store, path, year=2023)
    header, total = _summary(path)
    dashboard = report_context(demo_store, year=2023)["total"]["printed"]
    stats = compute_stats(demo_store, year=2023)["total"]["printed"]
    assert dashboard == stats
    for column, key in (("图斑数（个）", "patches"), ("面积（亩）", "area_mu"), ("违法（个）", "illegal"),
                        ("违法面积（亩）", "illegal_area_mu"), ("已整改面积（亩）", "rectified_mu"),
                        ("已销号（个）", "closed"), ("逾期（个）", "overdue")):
        assert f"{total[column]:.2f}" == f"{float(dashboard[key]):.2f}", column
    assert f"{total['整改率（%）'] * 100:.2f}%" == dashboard["rectification_rate_area"]
    ws = load_workbook(path)["汇总"]
    rows = _sheet_rows(ws)
    parts = [r for r in rows if r["批次"] in (NR_BATCH, FO_BATCH)]
    assert round(sum(r["面积（亩）"] for r in parts), 2) == total["面积（亩）"], "the batches add up to 合计"


def test_a_year_filtered_export_excludes_later_records(demo_store, tmp_path):
    later = "500109202302012"       # 已立案 at the end of 2023, rectified in 2024
    tracking.rectify_patch(demo_store, f"{NR_BATCH}/{later}", date(2024, 3, 1), "demolition", area_mu=1.0)
    name, options = SAMPLE_BATCHES[0]
    import_batch(demo_store, DATA_DIR / name, ImportOptions(**{**options, "batch": "2024年卫片执法第1批",
                                                                   "issued_on": date(2024, 4, 30),
                                                                   "deadline": date(2024, 10, 31),
                                                                   "accept_duplicates": True}))
    year_2023, everything = tmp_path / "2023.xlsx", tmp_path / "all.xlsx"
    export_patches(demo_store, year_2023, year=2023)
    export_patches(demo_store, everything)
    assert "2024年卫片执法第1批" not in load_workbook(year_2023).sheetnames
    assert "2024年卫片执法第1批" in load_workbook(everything).sheetnames
    then = {r["图斑编号"]: r for r in _sheet_rows(load_workbook(year_2023)[NR_BATCH])}
    now = {r["图斑编号"]: r for r in _sheet_rows(load_workbook(everything)[NR_BATCH])}
    assert then[later]["整改面积（亩）"] == 0 and then[later]["状态名称"] == STATUS_LABELS["case_filed"]
    assert now[later]["整改面积（亩）"] == 1.0
    _, total = _summary(year_2023)
    report = report_context(demo_store, year=2023)["total"]["printed"]
    assert f"{total['已整改面积（亩）']:.2f}" == report["rectified_mu"], "the export counts what the report counts"


def test_a_narrowed_export_sums_up_its_own_rows(demo_store, tmp_path):
    """Searched by village name or narrowed by status, the 汇总 counts the rows of the batch sheets."""
    for filters in ({"q": "双凤"}, {"status": "rectified"}, {"q": "双凤", "status": "closed"}):
        path = tmp_path / "narrowed.xlsx"
        export_patches(demo_store, path, **filters)
        wb = load_workbook(path)
        rows = [r for name in wb.sheetnames[1:] for r in _sheet_rows(wb[name])]
        _, total = _summary(path)
        listed = list_patches(demo_store, **filters)
        assert 0 < len(rows) == len(listed) == total["图斑数（个）"], filters
        assert f"{total['面积（亩）']:.2f}" == f"{listed['area_mu'].sum():.2f}", filters
        whole = compute_stats(demo_store)["total"]
        assert total["图斑数（个）"] < whole["patches"], "narrowed, the summary is not the whole batch"
        notes = [r[0] for r in load_workbook(path)["汇总"].iter_rows(values_only=True) if r[0]]
        assert any("均按" in n and "筛选" in n for n in notes)


def test_the_list_exports_what_it_shows(demo_store):
    client = client_for(demo_store)
    page = client.get("/patches", params={"village": "双凤村"}).text
    link = re.search(r'id="export-csv" href="([^"]+)"', page).group(1).replace("&amp;", "&")
    assert "village=" in link
    csv = client.get(link)
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    lines = csv.content.decode("utf-8-sig").splitlines()
    shown = int(re.search(r'id="patch-count">共 (\d+) 个图斑', page).group(1))
    assert len(lines) - 1 == shown > 0
    geojson = client.get(re.search(r'id="export-geojson" href="([^"]+)"', page).group(1).replace("&amp;", "&"))
    assert len(json.loads(geojson.content)["features"]) == shown


# --- Lists --------------------------------------------------------------------------------------------------

def test_list_search_by_code_village_name_and_case_number(demo_store):
    assert list(list_patches(demo_store, q="202302007")["patch_code"]) == ["500109202302007"]
    assert set(list_patches(demo_store, q="lc2023-1")["patch_code"]) == {"LC2023-10", "LC2023-11", "LC2023-12"}
    by_case = list_patches(demo_store, q="综执罚〔2023〕21号")
    assert set(by_case["patch_code"]) == {"500109202302001", "500109202302002", "500109202302003"}
    assert len(list_patches(demo_store, q="100%")) == 0, "a % in the search is a character, not a wildcard"
    everything = list_patches(demo_store)
    code = everything.loc[everything["village_name"] == "双凤村", "village_code"].iloc[0]
    inside = {c for c, shares in zip(everything["patch_code"], everything["village_shares"]) if code in shares}
    by_name = set(list_patches(demo_store, village="双凤村")["patch_code"])
    assert by_name == set(list_patches(demo_store, village=code)["patch_code"]) == inside and len(by_name) >= 7
    assert set(list_patches(demo_store, q="双凤")["patch_code"]) == set(
        everything.loc[everything["village_name"] == "双凤村", "patch_code"])


def test_the_list_page_searches(demo_store):
    client = client_for(demo_store)
    count = lambda **q: int(re.search(r'id="patch-count">共 (\d+) 个图斑', client.get("/patches", params=q).text)[1])
    assert count(q="500109202302007") == 1
    assert count(village="双凤村") == len(list_patches(demo_store, village="双凤村")) > 0
    assert count(q="澄江镇林罚〔2023〕3号") == 1
    page = client.get("/patches", params={"all": "1"}).text
    assert page.count('<tr>') - 1 == len(list_patches(demo_store)), "the print view lists every row"


def test_the_list_page_sorts_and_pages_in_sql_as_the_dated_list_does(demo_store, monkeypatch):
    from geo_tracker.server.pages import patches as list_page

    monkeypatch.setattr(list_page, "PAGE_SIZE", 7)
    client = client_for(demo_store)
    everything = list_patches(demo_store).sort_values(["rectified_mu", "id"], ascending=[False, True],
                                                      na_position="last")
    expected = everything["patch_code"].tolist()
    pages = -(-len(expected) // 7)
    assert pages >= 3

    def codes(**query) -> list[str]:
        html = client.get("/patches", params={"sort": "rectified_mu", "order": "desc", **query}).text
        assert f'id="patch-count">共 {len(expected)} 个图斑' in html
        return re.findall(r'<td><a href="/patches/[^"]+">([^<]+)</a></td>', html)

    assert [code for page in range(1, pages + 1) for code in codes(page=page)] == expected
    assert codes(page=999) == expected[(pages - 1) * 7:]                  # beyond the end: the last page
    assert codes(page=2, as_of=date.today().isoformat()) == expected[7:14]  # folded as of today: the same


def test_a_list_too_long_to_count_shows_the_planners_estimate_and_its_last_page(demo_store, monkeypatch):
    from geo_tracker.server.pages import patches as list_page
    from geo_tracker.services import patches as service

    monkeypatch.setattr(list_page, "PAGE_SIZE", 5)
    monkeypatch.setattr(service, "COUNTED_UP_TO", 3)
    everything = list_patches(demo_store)["patch_code"].tolist()
    client = client_for(demo_store)
    first = client.get("/patches").text
    count = re.search(r'id="patch-count">([^<]+)<', first).group(1)
    if demo_store.backend == "spatialite":            # no planner to ask: always counted
        assert count == f"共 {len(everything)} 个图斑"
        return
    estimate = int(re.fullmatch(r"约 (\d+) 个图斑", count).group(1))
    assert estimate > 3                                                # the plan's figure, not a count
    last = client.get("/patches", params={"page": 999}).text          # past the estimate: counted after all
    assert f'id="patch-count">共 {len(everything)} 个图斑' in last
    shown = re.findall(r'<td><a href="/patches/[^"]+">([^<]+)</a></td>', last)
    assert shown and shown == sorted(everything)[-len(shown):]
    assert "约" not in client.get("/patches", params={"q": everything[0]}).text.split('id="patch-count">')[1][:20]


@pytest.mark.parametrize("sortby", ["status", "-rectified_mu", "overdue,-area_mu", "village_name", None])
def test_a_page_as_of_a_date_is_sorted_and_paged_in_sql_as_the_fold_sorts_it(demo_store, sortby):
    from geo_tracker.services.patches import _sorted_positions, page_of_patches, parse_sortby

    days = sorted(set(list_patches(demo_store)["status_on"].dropna()))
    for as_of in (days[len(days) // 3], days[2 * len(days) // 3], date.today()):
        folded = list_patches(demo_store, as_of=as_of)
        if sortby:
            folded = folded.iloc[_sorted_positions(folded, parse_sortby(sortby))]
        expected = folded["patch_code"].tolist()
        assert len(set(folded["status"])) >= 3, as_of
        paged = [list_patches(demo_store, as_of=as_of, sortby=sortby, limit=5, offset=k)["patch_code"].tolist()
                 for k in range(0, len(expected) + 5, 5)]
        assert [code for page in paged for code in page] == expected, as_of
        frame, total, page, pages, exact = page_of_patches(demo_store, page=99, size=4, sortby=sortby or "",
                                                           as_of=as_of, status="illegal")
        illegal = [c for c, s in zip(folded["patch_code"], folded["status"]) if s == "illegal"]
        assert total == len(illegal) and page == pages and exact
        assert frame["patch_code"].tolist() == illegal[(pages - 1) * 4:] and set(frame["status"]) <= {"illegal"}


def test_case_numbers_sort_naturally_and_link_their_patches(demo_store):
    assert sorted(["〔2023〕10号", "〔2023〕1号", "〔2023〕2号"], key=case_number_key) == [
        "〔2023〕1号", "〔2023〕2号", "〔2023〕10号"]
    numbers = [c["case_no"] for c in list_cases(demo_store)]
    forestry = [n for n in numbers if "林罚" in n]
    assert forestry == [f"澄江镇林罚〔2023〕{i}号" for i in range(1, 13)]
    page = client_for(demo_store).get("/cases").text
    shown = re.findall(r'<td><a href="/cases/[^"]+">([^<]+)</a>', page)
    assert shown == numbers
    href = f'/patches/{quote(NR_BATCH, safe="")}/500109202302001'
    assert f'<a href="{href}">500109202302001</a>' in page
    assert client_for(demo_store).get(href).status_code == 200


def test_batch_page_figures_equal_stats_batch(demo_store, db_url):
    client = client_for(demo_store)
    listing = client.get("/batches").text
    assert f'href="/batches/{quote(NR_BATCH, safe="")}"' in listing
    dashboard = client.get("/dashboard").text
    assert f'href="/batches/{quote(FO_BATCH, safe="")}"' in dashboard
    for name in (NR_BATCH, FO_BATCH):
        page = client.get(f"/batches/{quote(name, safe='')}", params={"as_of": "2023-12-20"}).text
        shown = dict(re.findall(r'id="fig-(\w+)">([^<]+)<', page))
        out = CliRunner().invoke(cli, ["--db", db_url, "stats", "--batch", name, "--as-of", "2023-12-20",
                                       "--format", "json"])
        assert out.exit_code == 0, out.output
        printed = json.loads(out.output)["total"]["printed"]
        assert printed == compute_stats(demo_store, batch=name, as_of=date(2023, 12, 20))["total"]["printed"]
        for key in ("patches", "verified", "illegal", "case_filed", "rectification_rate_area", "closed", "overdue"):
            assert shown[key] == printed[key], (name, key)
        due = re.search(r'id="fig-due_soon"><a [^>]*>(\d+)<', page).group(1)
        assert int(due) == len(due_soon(demo_store, batch=name, as_of=date(2023, 12, 20)))
        villages = compute_stats(demo_store, batch=name, as_of=date(2023, 12, 20), by=["village"])["groups"]
        for g in villages:
            assert g["key"]["village_name"] in page
    assert client.get("/batches/没有这个批次").status_code == 404


def test_due_soon_lists_open_patches_by_deadline(demo_store):
    soon = due_soon(demo_store, as_of=date(2023, 12, 20))
    assert set(soon["patch_code"]) == {"500109202302012", "500109202302013"}   # 已立案, due 2023-12-31
    assert len(due_soon(demo_store, as_of=date(2023, 12, 1), days=14)) == 0
    assert len(due_soon(demo_store, as_of=date(2024, 1, 2))) == 0, "overdue is not due soon"
    page = client_for(demo_store).get("/due-soon", params={"as_of": "2023-12-20"}).text
    assert "即将到期" in page and "500109202302012" in page and "11</td>" in page
    dashboard = client_for(demo_store).get("/dashboard").text
    nav = dashboard[dashboard.index("<nav"):dashboard.index("</nav>")]
    assert '<a href="/due-soon">即将到期</a>' in nav and '<a href="/batches">批次</a>' in nav, "in the top navigation"


# --- In a browser: print view and screenshots ---------------------------------------------------------------

@pytest.fixture
def shots(backend):
    folder = Path(os.environ.get("GEO_TRACKER_TEST_OUTPUT", ROOT / "test-output")) / "screenshots" / backend
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _login(browser, base, **context):
    page = browser.new_context(**context).new_page()
    page.goto(f"{base}/dashboard")
    page.get_by_label("用户名").fill("viewer19")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r".*/dashboard"))
    return page


def test_print_view_and_batch_page_in_a_browser(browser, demo_store, db_url, tmp_path, shots):
    from live_server import running_server

    with running_server(db_url, tmp_path / "server.log") as base:
        page = _login(browser, base, viewport={"width": 1280, "height": 900})
        page.goto(f"{base}/patches?village={quote('双凤村')}")
        assert page.locator("header.top").is_visible() and page.locator("form.filters").is_visible()
        page.click("#print-all")
        page.emulate_media(media="print")
        assert not page.locator("header.top").is_visible(), "navigation is printed"
        assert not page.locator("form.filters").is_visible() and not page.locator("#list-links").is_visible()
        assert page.locator("#patch-table").is_visible()
        assert page.eval_on_selector("#patch-table thead", "e => getComputedStyle(e).display") == "table-header-group"
        page.screenshot(path=str(shots / "patches-print.png"), full_page=True)
        pdf = page.pdf(format="A4", landscape=True)
        assert pdf.startswith(b"%PDF")
        page.emulate_media(media="screen")
        page.goto(f"{base}/batches/{quote(NR_BATCH, safe='')}?as_of=2023-12-20")
        assert page.locator("#fig-patches").inner_text() == "15"
        page.screenshot(path=str(shots / "batch.png"), full_page=True)
        phone = _login(browser, base, viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
        phone.goto(f"{base}/batches/{quote(NR_BATCH, safe='')}?as_of=2023-12-20")
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"the batch page scrolls sideways on a phone ({width} px)"
        phone.screenshot(path=str(shots / "batch-phone.png"), full_page=True)
        phone.goto(f"{base}/patches?q={quote('双凤')}")
        phone.screenshot(path=str(shots / "patches-phone.png"), full_page=True)
        phone.goto(f"{base}/due-soon?as_of=2023-12-20")
        assert phone.locator("#due-table tbody tr").count() == 2
        phone.screenshot(path=str(shots / "due-soon-phone.png"), full_page=True)
