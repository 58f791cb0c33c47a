"""Patrols, findings, complaints and case categories, on SpatiaLite and PostGIS."""

from __future__ import annotations

import json
from datetime import date

import pytest
from click.testing import CliRunner

import bureau_files as bf
from geo_tracker.cli import cli
from geo_tracker.core.rounding import format_rate
from geo_tracker.errors import InputFileError, InvalidValueError
from geo_tracker.services import cases, complaints, patrols, tracking
from geo_tracker.services.boundaries import BoundaryOptions, import_boundaries
from geo_tracker.services.report import report_context
from geo_tracker.services.stats import compute_stats, subject_stats
from geo_tracker.units import M2_PER_MU

LON0, LAT0 = bf.LON0, bf.LAT0


@pytest.fixture
def township(store, tmp_path):
    import_boundaries(store, bf.township_shapefile(tmp_path), BoundaryOptions(level="township"))
    import_boundaries(store, bf.villages_shapefile(tmp_path), BoundaryOptions(level="village"))
    return store


def gpx(path, points):
    segment = "".join(f'<trkpt lat="{lat}" lon="{lon}"><time>2024-03-05T09:00:00Z</time></trkpt>' for lon, lat in points)
    path.write_text('<?xml version="1.0" encoding="UTF-8"?><gpx version="1.1" creator="两步路" '
                    'xmlns="http://www.topografix.com/GPX/1/1"><trk><name>巡查</name><trkseg>'
                    f"{segment}</trkseg></trk></gpx>", encoding="utf-8")
    return path


def test_rates_print_as_reports_do():
    assert format_rate(502, 509) == "98.62%"
    assert format_rate(509, 509) == "100%"
    assert format_rate(50899, 50900) == "99.99%"
    assert format_rate(0, 0) == "-"


def test_patrol_track_covers_the_villages_it_crosses(township, tmp_path):
    track = gpx(tmp_path / "轨迹.gpx", [(LON0 - 0.005, LAT0), (LON0 + 0.004, LAT0 + 0.002), (LON0 + 0.012, LAT0 + 0.004)])
    result = patrols.add_patrol(township, date(2024, 3, 5), track=track, members="张三、李四",
                                departments=["派出所"])
    assert result["villages"] == ["500109107201", "500109107202"]
    assert 1.5 < result["track_km"] < 2.0
    listed = patrols.list_patrols(township)
    assert listed[0]["villages"] == ["500109107201", "500109107202"] and listed[0]["departments"] == ["派出所"]
    with pytest.raises(InputFileError, match="holds no track"):
        patrols.add_patrol(township, date(2024, 3, 6), track=bf.weipian_geojson(tmp_path))
    with pytest.raises(InvalidValueError, match="--villages 500109107299: no such village"):
        patrols.add_patrol(township, date(2024, 3, 6), villages=["500109107299"])


def test_finding_becomes_a_patch_then_a_case_then_rectified_counted_once(township, tmp_path):
    store = township
    patrol = patrols.add_patrol(store, date(2024, 3, 5), villages=["500109107202"])
    finding = patrols.record_finding(store, patrol["patrol_id"], category="违法占地",
                                     point=(LON0 + 0.01, LAT0), radius_m=20)
    polygon_area_m2 = 32 * 20 ** 2 * __import__("math").sin(2 * __import__("math").pi / 64)
    assert finding["area_mu"] == pytest.approx(polygon_area_m2 / M2_PER_MU, rel=2e-3)
    assert finding["village_code"] == "500109107202" and finding["village_name"] == "新华村"
    ref = finding["patch"]
    tracking.verify_patch(store, ref, "illegal", date(2024, 3, 6))
    cases.open_case(store, "X镇综执罚〔2024〕3号", date(2024, 3, 8), patches_refs=[ref], category="自然资源",
                    violation="非法占用土地")
    tracking.rectify_patch(store, ref, date(2024, 4, 1), "demolition", full=True)
    by_source = {g["key"]["source"]: g for g in compute_stats(store, as_of=date(2024, 4, 30), by=["source"])["groups"]}
    assert by_source["patrol"]["patches"] == 1 and by_source["patrol"]["rectified"] == 1
    assert by_source["patrol"]["rectified_mu"] == pytest.approx(finding["area_mu"])
    patrol_figures = subject_stats(store, "patrols", as_of=date(2024, 4, 30))
    assert patrol_figures["total"] == {"patrols": 1, "findings": 1, "findings_area_mu": pytest.approx(finding["area_mu"])}
    assert compute_stats(store, as_of=date(2024, 4, 30))["total"]["patches"] == 1


def test_coverage_flags_villages_patrolled_too_rarely(township):
    store = township
    for day in (3, 17):
        patrols.add_patrol(store, date(2024, 3, day), villages=["500109107201", "500109107202"])
    patrols.add_patrol(store, date(2024, 3, 20), villages=["500109107203"])
    rows = patrols.coverage(store, date(2024, 3, 1), date(2024, 3, 31), min_per_month=2)
    assert [(r["village_code"], r["patrols"]) for r in rows] == [("500109107203", 1)]
    april = patrols.coverage(store, date(2024, 3, 1), date(2024, 4, 30), min_per_month=2)
    assert {r["village_code"] for r in april if r["month"] == "2024-04"} == {"500109107201", "500109107202",
                                                                                "500109107203"}


def test_complaint_rates_as_of_two_dates(township):
    store = township
    ids = [complaints.add_complaint(store, date(2024, 5, 1 + i), "12345", "违法建设", f"举报内容{i}",
                                    village="500109107201")["id"] for i in range(4)]
    complaints.respond(store, ids[0], date(2024, 5, 2))
    complaints.respond(store, ids[1], date(2024, 5, 20))
    complaints.close(store, ids[0], date(2024, 5, 10), "已拆除")
    early = complaints.complaint_figures(store, date(2024, 5, 15))
    assert (early["received"], early["responded"], early["closed"]) == (4, 1, 1)
    assert early["response_rate"] == "25.00%" and early["completion_rate"] == "25.00%"
    for cid in ids[1:]:
        complaints.close(store, cid, date(2024, 5, 25), "已处理")
    late = complaints.complaint_figures(store, date(2024, 5, 31))
    assert late["response_rate"] == "100%" and late["completion_rate"] == "100%"
    assert complaints.complaint_figures(store, date(2024, 5, 15)) == early


def test_report_prints_patrol_complaint_and_case_category_paragraphs(township):
    store = township
    for day in (5, 12, 19):
        patrols.add_patrol(store, date(2024, 3, day), villages=["500109107201"])
    patrols.record_finding(store, 1, category="乱搭乱建", point=(LON0 + 0.001, LAT0 + 0.001))
    patrols.record_finding(store, 2, category="违法占地", point=(LON0 + 0.002, LAT0 + 0.001))
    cid = complaints.add_complaint(store, date(2024, 4, 1), "phone", "噪音", "夜间施工")["id"]
    complaints.respond(store, cid, date(2024, 4, 1))
    for i, (category, outcome) in enumerate([("城市规划", "行政处罚"), ("城市规划", "行政警告"), ("林业", "行政处罚")]):
        cases.open_case(store, f"C-{i}", date(2024, 4, 2), category=category)
        cases.decide_case(store, f"C-{i}", date(2024, 4, 5), fine_yuan=1000.5 * (i + 1), outcome=outcome)
    sentences = report_context(store, as_of=date(2024, 12, 31))["sentences"]
    assert sentences["patrols"] == "累积开展巡查3次，发现问题2宗。"
    assert "受理投诉举报1件" in sentences["complaints"]
    assert "群众诉求回应率100%，事项办结率0.00%" in sentences["complaints"]
    assert "立案查处城市规划类案件2宗" in sentences["case_categories"]
    assert "立案查处林业类案件1宗" in sentences["case_categories"]
    assert "作出行政警告1宗" in sentences["case_categories"]
    figures = subject_stats(store, "cases", as_of=date(2024, 12, 31))
    assert figures["total"]["by_outcome"] == {"行政处罚": 2, "行政警告": 1}
    assert {g["key"]["category"]: g["fines_yuan"] for g in figures["groups"]} == {
        "城市规划": pytest.approx(1000.5 + 2001.0), "林业": pytest.approx(3001.5)}


def test_cli_patrols_and_complaints(db_url, tmp_path):
    runner = CliRunner()

    def run(*args):
        return runner.invoke(cli, ["--db", db_url, *args])

    assert run("boundaries", "import", str(bf.township_shapefile(tmp_path)), "--level", "township").exit_code == 0
    assert run("boundaries", "import", str(bf.villages_shapefile(tmp_path)), "--level", "village").exit_code == 0
    track = gpx(tmp_path / "t.gpx", [(LON0 - 0.005, LAT0), (LON0 + 0.004, LAT0 + 0.002)])
    out = run("patrols", "add", "--on", "2024-03-05", "--track", str(track), "--with", "国土所")
    assert out.exit_code == 0 and "villages: 500109107201" in out.output
    out = run("patrols", "find", "1", "--point", f"{LON0},{LAT0}", "--category", "违法占地")
    assert out.exit_code == 0 and "石龙村" in out.output
    bad = run("patrols", "find", "1", "--point", "106.4", "--category", "x")
    assert bad.exit_code == 2 and "is not LON,LAT" in bad.output
    out = run("complaints", "add", "--received", "2024-03-06", "--channel", "12345", "--category", "违建",
              "--content", "有人建房")
    assert out.exit_code == 0 and "respond by 2024-03-09" in out.output
    data = json.loads(run("stats", "--subject", "patrols", "--format", "json").output)
    assert data["total"]["patrols"] == 1 and data["total"]["findings"] == 1


def test_finding_can_open_a_case_directly(township):
    store = township
    patrol = patrols.add_patrol(store, date(2024, 3, 5), villages=["500109107201"])
    finding = patrols.record_finding(store, patrol["patrol_id"], category="违法占地", point=(LON0, LAT0))
    patrols.file_case(store, finding, "X镇综执罚〔2024〕9号", category="自然资源")
    state = tracking.patch_state(store, finding["patch"])
    assert state["status"] == "case_filed" and state["case_numbers"] == ("X镇综执罚〔2024〕9号",)


def test_finding_keeps_its_evidence_and_is_in_the_history(township, tmp_path):
    from PIL import Image

    photo = tmp_path / "现场.jpg"
    Image.new("RGB", (16, 16), (200, 30, 30)).save(photo)
    patrol = patrols.add_patrol(township, date(2024, 3, 5), villages=["500109107201"])
    finding = patrols.record_finding(township, patrol["patrol_id"], category="乱搭乱建", point=(LON0, LAT0),
                                     evidence=[photo, photo])
    assert len(finding["evidence"]) == 2 and finding["evidence"][0]["sha256"] == finding["evidence"][1]["sha256"]
    history = tracking.patch_history(township, finding["patch"])
    assert history[0]["kind"] == "finding_recorded" and history[0]["payload"]["category"] == "乱搭乱建"
    assert len(list(township.evidence_dir.rglob("*.jpg"))) == 1
