"""Statistics, reports and exports, on SpatiaLite and PostGIS."""

from __future__ import annotations

import json
import time
import warnings
from datetime import date, datetime, timezone

import numpy as np
import pyogrio
import pytest
from click.testing import CliRunner

import bureau_files as bf
from geo_tracker.cli import cli
from geo_tracker.core.rounding import round_parts
from geo_tracker.services import cases, tracking
from geo_tracker.services.batches import ImportOptions, import_batch
from geo_tracker.services.boundaries import BoundaryOptions, import_boundaries
from geo_tracker.services.exports import export_patches
from geo_tracker.services.patches import list_patches
from geo_tracker.services.report import report_context
from geo_tracker.services.stats import compute_stats
from geo_tracker.store import open_store

CODES = [f"500109{i:04d}" for i in range(1, 7)]


@pytest.fixture
def tracked(store, tmp_path):
    """Three villages, the canonical batch, and a year of records on it."""
    import_boundaries(store, bf.township_shapefile(tmp_path), BoundaryOptions(level="township"))
    import_boundaries(store, bf.villages_shapefile(tmp_path), BoundaryOptions(level="village"))
    import_batch(store, bf.weipian_geojson(tmp_path), ImportOptions(
        source="natural-resources", batch="2023年第2批", issued_on=date(2023, 6, 30), deadline=date(2023, 11, 30)))
    for code in CODES[:4]:
        tracking.verify_patch(store, code, "illegal", date(2023, 7, 5))
    tracking.verify_patch(store, CODES[4], "legal", date(2023, 7, 5))
    cases.open_case(store, "C-1", date(2023, 7, 10), patches_refs=CODES[:2], violation="非法占用土地", act="建房")
    cases.decide_case(store, "C-1", date(2023, 8, 1), fine_yuan=5000)
    cases.close_case(store, "C-1", date(2023, 12, 1))
    tracking.rectify_patch(store, CODES[0], date(2023, 8, 1), "demolition", full=True)
    tracking.rectify_patch(store, CODES[1], date(2023, 9, 1), "restore_farmland", area_mu=1.234, cultivated_mu=0.5)
    tracking.close_patch(store, CODES[0], date(2023, 10, 1))
    return store


def independent(store, as_of, key):
    """The same figures from the Python fold of each patch (list_patches), aggregated in pandas."""
    frame = list_patches(store, as_of=as_of)
    frame["illegal"] = frame["verified"] == "illegal"
    frame["key"] = frame[key]
    out = {}
    for value, g in frame.groupby("key", dropna=False):
        out[value] = {"patches": len(g), "area_mu": g["area_mu"].sum(), "cultivated_mu": g["cultivated_mu"].sum(),
                      "illegal": int(g["illegal"].sum()), "rectified_mu": g["rectified_mu"].sum(),
                      "rectified_cultivated_mu": g["rectified_cultivated_mu"].sum(),
                      "closed": int((g["status"] == "closed").sum()), "overdue": int(g["overdue"].sum()),
                      "case_filed": int(g["case_numbers"].map(bool).sum())}
    return out


@pytest.mark.parametrize("key, by", [("village_code", "village"), ("status", "status"), ("batch", "batch")])
@pytest.mark.parametrize("as_of", [date(2023, 7, 31), date(2023, 9, 15), date(2023, 12, 31)])
def test_grouped_figures_equal_an_independent_computation(tracked, key, by, as_of):
    sql = compute_stats(tracked, as_of=as_of, by=[by])
    expected = independent(tracked, as_of, key)
    assert len(sql["groups"]) == len(expected)
    for group in sql["groups"]:
        want = expected[group["key"][by]]
        for name, value in want.items():
            assert group[name] == pytest.approx(value, abs=1e-9), (group["key"], name)
    assert sql["total"]["patches"] == 6
    assert sql["total"]["area_mu"] == pytest.approx(bf.expected_area_mu().sum(), abs=1e-6)


def test_case_and_fine_figures(tracked):
    early = compute_stats(tracked, as_of=date(2023, 7, 31))["total"]
    late = compute_stats(tracked, as_of=date(2023, 12, 31))["total"]
    assert (early["cases"], early["cases_closed"], early["fines_yuan"]) == (1, 0, 0)
    assert (late["cases"], late["cases_closed"], late["fines_yuan"]) == (1, 1, 5000)
    assert late["fines_wan"] == 0.5 and late["case_closing_rate"] == 1.0
    assert late["case_filing_rate"] == pytest.approx(2 / 4)
    area = list_patches(tracked, codes=[CODES[0]]).iloc[0]["area_mu"]
    assert late["demolished_mu"] == pytest.approx(area)
    assert late["demolished_m2"] == pytest.approx(area * 10000 / 15)
    assert late["rectification_rate_count"] == pytest.approx(1 / 4)
    # Past 2023-11-30 and unsettled: CODES[1] (partly rectified), CODES[2] and [3] (illegal), CODES[5] (unverified).
    assert late["overdue"] == 4


def test_as_of_figures_unchanged_by_later_edits(tracked):
    time.sleep(0.05)
    printed_then = datetime.now(timezone.utc)
    time.sleep(0.05)
    before = compute_stats(tracked, as_of=date(2023, 12, 31), by=["village"], known_at=printed_then)
    rectify = [h for h in tracking.patch_history(tracked, CODES[1]) if h["kind"] == "rectified"][0]
    tracking.void_event(tracked, rectify["id"], "measured wrong")
    tracking.rectify_patch(tracked, CODES[1], date(2023, 9, 1), "restore_farmland", area_mu=2.0)
    tracking.verify_patch(tracked, CODES[5], "illegal", date(2023, 8, 1))
    after_known = compute_stats(tracked, as_of=date(2023, 12, 31), by=["village"], known_at=printed_then)
    strip = lambda d: json.loads(json.dumps({k: d[k] for k in ("groups", "total")}, default=str))  # noqa: E731
    assert strip(after_known) == strip(before)
    now = compute_stats(tracked, as_of=date(2023, 12, 31))["total"]
    assert now["rectified_mu"] == pytest.approx(before["total"]["rectified_mu"] - 1.234 + 2.0)
    assert now["illegal"] == before["total"]["illegal"] + 1


def test_printed_parts_add_up_to_printed_totals(tracked):
    assert round_parts([0.335, 0.335, 0.335]) == [0.34, 0.34, 0.33]
    parts = round_parts([1.004, 2.004, 3.004])
    assert sum(parts) == pytest.approx(6.01) and all(abs(p - v) <= 0.01 for p, v in zip(parts, [1.004, 2.004, 3.004]))
    data = compute_stats(tracked, by=["village"])
    for name in ("area_mu", "cultivated_mu", "rectified_mu", "illegal_area_mu", "demolished_m2"):
        parts = sum(float(g["printed"][name]) for g in data["groups"])
        assert parts == pytest.approx(float(data["total"]["printed"][name]), abs=1e-9), name
        assert data["total"]["printed"][name] == f"{data['total'][name]:.2f}"


def test_accountability_ratio_needs_the_denominator(tracked):
    total = compute_stats(tracked, approved_cultivated_mu=2.0)["total"]
    illegal_cultivated = sum(bf.canonical_patches().GDMJ[:4])
    assert total["illegal_cultivated_share"] == pytest.approx(illegal_cultivated / 2.0)
    assert total["accountability_triggered"] is (illegal_cultivated / 2.0 >= 0.15)
    assert "illegal_cultivated_share" not in compute_stats(tracked)["total"]


def test_demo_prints_the_township_figures(empty_db_url, tmp_path):
    from geo_tracker.services.demo import run_demo

    run_demo(empty_db_url)
    with open_store(empty_db_url) as store:
        context = report_context(store, year=2023, chart_dir=tmp_path / "charts")
        by_source = {g["key"]["source"]: g for g in compute_stats(store, year=2023, by=["source"])["groups"]}
    nr = context["sentences"]["natural_resources"]
    for text in ("图斑面积70.37亩", "含耕地面积4.87亩", "已完成整改面积50.89亩", "其中耕地面积4.33亩"):
        assert text in nr
    forestry = context["sentences"]["forestry"]
    assert forestry.startswith("县林业局下发森林违法图斑12个")
    assert "已全部完成立案查处" in forestry and "全面完成复绿" in forestry
    f = by_source["forestry"]
    assert (f["patches"], f["illegal"], f["case_filed"], f["rectified"]) == (12, 12, 12, 12)
    assert by_source["natural-resources"]["printed"]["rectified_mu"] == "50.89"
    # The month-end chart climbs to the year's figures (a shadowed scope once made it all zeros).
    monthly = context["monthly"]
    assert [label for label, _, _ in monthly] == [f"{m}月" for m in range(1, 13)]
    assert monthly[0][1] == 0 and monthly[-1][1] == pytest.approx(context["total"]["rectified_mu"])
    assert monthly[-1][2] == pytest.approx(context["total"]["illegal_area_mu"])
    assert [p[1] for p in monthly] == sorted(p[1] for p in monthly)


def test_report_docx_md_html_and_cjk_chart(tracked, tmp_path):
    from docx import Document
    from matplotlib import ft2font

    from geo_tracker.reports.charts import cjk_font, font_path
    from geo_tracker.reports.render import inline_images, render_text, write_docx

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        context = report_context(tracked, year=2023, chart_dir=tmp_path / "charts")
    assert not [w for w in caught if "missing from" in str(w.message)], "a glyph fell back to a box"
    charmap = ft2font.FT2Font(font_path(cjk_font())).get_charmap()
    labels = "分村图斑与整改面积累计整改面积违法图斑面积月份亩石龙村新华村缙云村"
    assert all(ord(c) in charmap for c in labels)
    for chart in context["charts"].values():
        assert open(chart, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    path = write_docx(context, tmp_path / "report.docx")
    text = "\n".join(p.text for p in Document(path).paragraphs)
    assert context["sentences"]["natural_resources"] in text
    table = Document(path).tables[0]
    assert table.rows[0].cells[0].text == "行政村" and table.rows[-1].cells[0].text == "合计"
    md = render_text(context, "md")
    assert "| 石龙村 |" in md and context["sentences"]["cases"] in md
    html = render_text(inline_images(context), "html")
    assert "data:image/png;base64," in html and "http" not in html.replace("http-equiv", "")


@pytest.mark.parametrize("suffix", [".shp", ".gpkg", ".geojson"])
def test_exports_reimport_with_the_same_areas_and_text(tracked, tmp_path, suffix):
    path = tmp_path / f"export{suffix}"
    export_patches(tracked, path, batch="2023年第2批")
    if suffix == ".shp":
        assert path.with_suffix(".cpg").read_text() == "GBK" and path.with_suffix(".prj").exists()
        names = pyogrio.read_info(path, encoding="GBK")["fields"]
        assert all(len(n.encode("gbk")) <= 10 for n in names)
        assert {"GT_ZT", "GT_ZGMJ", "GT_CJMC"} <= set(names)
    report = import_batch(tracked, path, ImportOptions(source="other", batch="re-import", issued_on=date(2024, 1, 1),
                                                             accept_duplicates=True))
    assert report.accepted == 6
    again = list_patches(tracked, batch="re-import").set_index("patch_code")
    first = list_patches(tracked, batch="2023年第2批").set_index("patch_code")
    np.testing.assert_allclose(again.loc[CODES, "area_mu"], first.loc[CODES, "area_mu"], rtol=1e-9)
    with tracked.engine.connect() as conn:
        import sqlalchemy as sa

        attrs = conn.execute(sa.text("SELECT attrs FROM patches p JOIN batches b ON b.id = p.batch_id "
                                     "WHERE b.name = 're-import' ORDER BY p.patch_code")).scalars().first()
    attrs = json.loads(attrs) if isinstance(attrs, str) else attrs
    assert attrs["XZQMC"] == "北碚区澄江镇" and attrs["BZ"] == "村民自建房屋，未办理用地手续"
    status_field = "GT_ZTMC" if suffix == ".shp" else ("GT_ZTMC" if suffix == ".gpkg" else "status_label")
    assert attrs[status_field] == "已销号"


def test_xlsx_export_has_chinese_headers_and_a_frozen_row(tracked, tmp_path):
    from openpyxl import load_workbook

    path = tmp_path / "export.xlsx"
    export_patches(tracked, path)
    ws = load_workbook(path).worksheets[1]    # the first batch's sheet, after 汇总
    headers = [c.value for c in ws[1]]
    assert "状态名称" in headers and "整改面积（亩）" in headers and "监测编号 JCBH（亩）" not in headers
    assert any(h.endswith("JCBH") for h in headers)
    assert ws.freeze_panes == "A2"
    col = headers.index("计算面积（亩）") + 1
    assert ws.cell(row=2, column=col).number_format == "0.00"


def test_cli_stats_and_report(db_url, tmp_path):
    with open_store(db_url) as store:
        import_batch(store, bf.weipian_geojson(tmp_path), ImportOptions(
            source="natural-resources", batch="B", issued_on=date(2023, 6, 30)))
        tracking.verify_patch(store, CODES[0], "illegal", date(2023, 7, 1))
    runner = CliRunner()
    out = runner.invoke(cli, ["--db", db_url, "stats", "--year", "2023", "--by", "source", "--format", "json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert set(data) >= {"as_of", "filters", "by", "groups", "total"}
    assert data["as_of"] == "2023-12-31" and data["groups"][0]["key"] == {"source": "natural-resources"}
    assert data["total"]["illegal"] == 1 and "printed" in data["total"]
    xlsx = tmp_path / "s.xlsx"
    assert runner.invoke(cli, ["--db", db_url, "stats", "--format", "xlsx", "-o", str(xlsx)]).exit_code == 0
    assert xlsx.stat().st_size > 0
    docx = tmp_path / "r.docx"
    out = runner.invoke(cli, ["--db", db_url, "report", "--year", "2023", "-o", str(docx)])
    assert out.exit_code == 0, out.output
    assert "上级共下发自然资源图斑6个" in out.output
    bad = runner.invoke(cli, ["--db", db_url, "stats", "--by", "colour"])
    assert bad.exit_code == 2


def test_a_county_chart_shows_its_largest_villages_and_says_so(tmp_path, monkeypatch):
    from geo_tracker.reports import charts

    drawn = {}
    monkeypatch.setattr(charts, "village_figure", lambda rows, title: drawn.update(rows=rows, title=title) or
                        charts.plt.figure())
    rows = [(f"村{i}", float(i), float(i) / 2) for i in range(1, 1001)]
    charts.village_chart(rows, tmp_path / "villages.png", "分村图斑与整改面积")
    assert [r[0] for r in drawn["rows"]] == [f"村{i}" for i in range(1000, 980, -1)]
    assert drawn["title"] == "分村图斑与整改面积（图斑面积最大的20个村，共1000个村）"
    charts.village_chart(rows[:5], tmp_path / "few.png", "分村图斑与整改面积")
    assert len(drawn["rows"]) == 5 and drawn["title"] == "分村图斑与整改面积"
