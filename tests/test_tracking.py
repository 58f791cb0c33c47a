"""A patch's life: verification, cases, rectification, closure, relapses, audit, as of any date."""

from __future__ import annotations

import json
import re
import shutil
import time
from datetime import date, datetime, timezone

import geopandas as gpd
import pandas as pd
import pytest
import shapely
import sqlalchemy as sa
from click.testing import CliRunner

import bureau_files as bf
from state_check import assert_stored_state_is_the_fold
from geo_tracker.cli import cli
from geo_tracker.core.lifecycle import TransitionError
from geo_tracker.errors import BatchImportError, GeoTrackerError, InvalidValueError, StaleRowError
from geo_tracker.services import cases, tracking
from geo_tracker.services.batches import ImportOptions, import_batch
from geo_tracker.services.patches import list_patches, patches_geojson
from geo_tracker.store import open_store

LON0, LAT0 = bf.LON0, bf.LAT0
CODE = "5001090001"


@pytest.fixture
def batch(store, tmp_path):
    """The canonical 卫片 batch, issued 2023-06-30 with deadline 2023-12-31."""
    import_batch(store, bf.weipian_geojson(tmp_path), ImportOptions(
        source="natural-resources", batch="2023年第2批", issued_on=date(2023, 6, 30), deadline=date(2023, 12, 31)))
    return store


def area_of(store, code=CODE) -> float:
    return float(list_patches(store, codes=[code]).iloc[0]["area_mu"])


def state(store, code=CODE, **kw) -> dict:
    return tracking.patch_state(store, code, **kw)


def counts(store) -> dict:
    with store.engine.connect() as conn:
        return {t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()
                for t in ("events", "cases", "case_patches", "evidence")}


def test_full_life_of_a_patch(batch, tmp_path):
    store = batch
    area = area_of(store)
    steps = [
        tracking.verify_patch(store, CODE, "illegal", date(2023, 7, 5), cadre="村干部张三", user="liaison"),
        cases.open_case(store, "X镇综执罚〔2023〕12号", date(2023, 7, 20), patches_refs=[CODE],
                        violation="非法占用土地", act="建房", fine_yuan=3000, user="officer")["linked"][0],
        tracking.rectify_patch(store, CODE, date(2023, 8, 10), "demolition", area_mu=area * 0.4, user="team"),
        tracking.rectify_patch(store, CODE, date(2023, 9, 15), "restore_farmland", full=True, user="team"),
        tracking.close_patch(store, CODE, date(2023, 12, 20), user="county"),
    ]
    assert [s["status"] for s in steps] == ["illegal", "case_filed", "rectifying", "rectified", "closed"]
    assert steps[2]["rectified_mu"] == pytest.approx(area * 0.4)
    assert steps[3]["rectified_mu"] == pytest.approx(area)
    cases.decide_case(store, "X镇综执罚〔2023〕12号", date(2023, 8, 1), fine_yuan=2500)
    cases.close_case(store, "X镇综执罚〔2023〕12号", date(2023, 12, 25))
    row = list_patches(store, codes=[CODE]).iloc[0]
    assert row["status"] == "closed" and row["status_on"] == date(2023, 12, 20)
    assert row["case_numbers"] == ["X镇综执罚〔2023〕12号"] and not row["overdue"]
    history = tracking.patch_history(store, CODE)
    assert [h["kind"] for h in history] == ["verified", "case_linked", "rectified", "rectified", "closed"]
    assert [h["actor"] for h in history] == ["liaison", "officer", "team", "team", "county"]
    assert history[0]["payload"]["before"] == {"status": "issued"} and history[0]["payload"]["cadre"] == "村干部张三"
    listed = cases.list_cases(store)
    assert listed[0]["status"] == "closed" and listed[0]["decided_fine_yuan"] == 2500 and listed[0]["patches"] == [CODE]
    assert cases.list_cases(store, as_of=date(2023, 7, 31))[0]["status"] == "open"


def test_every_action_and_void_leaves_the_stored_state_equal_to_the_fold(batch):
    """Listings, OGC pages and SQL sorting read each patch's state from its row; every path that
    writes an event must keep that row equal to the fold of the events, voids included."""
    store = batch
    codes = sorted(list_patches(store)["patch_code"])[:4]
    for code in codes:
        tracking.verify_patch(store, code, "illegal", date(2023, 7, 5))
    opened = cases.open_case(store, "X镇综执罚〔2023〕7号", date(2023, 7, 20), patches_refs=codes[:2],
                             violation="非法占用土地", act="建房")
    first = tracking.rectify_patch(store, codes[0], date(2023, 8, 1), "demolition", area_mu=area_of(store, codes[0]) / 3)
    tracking.rectify_patch(store, codes[0], date(2023, 8, 9), "restore_farmland", area_mu=area_of(store, codes[0]) / 3)
    tracking.rectify_patch(store, codes[1], date(2023, 8, 2), "demolition", full=True)
    tracking.rectify_patch(store, codes[2], date(2023, 7, 30), "demolition", full=True)
    tracking.close_patch(store, codes[2], date(2023, 9, 1))
    assert_stored_state_is_the_fold(store)
    tracking.void_event(store, first["event_id"], "面积量错")
    linked = next(h["id"] for h in tracking.patch_history(store, codes[1]) if h["kind"] == "case_linked")
    tracking.void_event(store, linked, "关联错案件")
    closed = next(h["id"] for h in tracking.patch_history(store, codes[2]) if h["kind"] == "closed")
    tracking.void_event(store, closed, "误销号")
    assert assert_stored_state_is_the_fold(store) == 6
    listed = list_patches(store, codes=codes).set_index("patch_code")
    assert listed.loc[codes[0], "rectified_mu"] == pytest.approx(area_of(store, codes[0]) / 3)
    assert listed.loc[codes[1], "case_numbers"] == [] and listed.loc[codes[0], "case_numbers"] == [opened["case_no"]]
    assert listed.loc[codes[2], "status"] == "rectified" and listed.loc[codes[3], "verified"] == "illegal"
    by_area = list_patches(store, sortby="-rectified_mu", limit=2)["patch_code"].tolist()
    assert by_area == [codes[1], codes[2]] or by_area == [codes[2], codes[1]]


def test_partial_rectifications_sum_to_the_area_and_one_more_is_refused(batch):
    store = batch
    area = area_of(store)
    tracking.verify_patch(store, CODE, "illegal", date(2023, 7, 5))
    for i, share in enumerate((0.25, 0.5, 0.25)):
        result = tracking.rectify_patch(store, CODE, date(2023, 8, 1 + i), "demolition", area_mu=area * share)
    assert result["status"] == "rectified" and result["rectified_mu"] == pytest.approx(area)
    before = counts(store)
    with pytest.raises(TransitionError, match=r"cannot rectify patch 2023年第2批/5001090001: it is rectified"):
        tracking.rectify_patch(store, CODE, date(2023, 8, 10), "demolition", area_mu=0.01)
    tracking.void_event(store, tracking.patch_history(store, CODE)[-1]["id"], "entered twice")
    expected = (f"rectifying {area * 0.25 + 0.3:.4f} 亩 would bring patch 2023年第2批/5001090001 to "
                f"{area + 0.3:.4f} 亩 rectified, more than its {area:.4f} 亩 ({area * 0.25:.4f} 亩 remain)")
    with pytest.raises(GeoTrackerError, match=re.escape(expected)):
        tracking.rectify_patch(store, CODE, date(2023, 8, 10), "demolition", area_mu=area * 0.25 + 0.3)
    assert counts(store)["events"] == before["events"] + 1  # only the void


def test_cultivated_rectification_is_bounded_by_cultivated_area(batch):
    store = batch
    cultivated = float(bf.canonical_patches().GDMJ[0])
    tracking.verify_patch(store, CODE, "illegal", date(2023, 7, 5))
    with pytest.raises(GeoTrackerError, match="more than its .* 亩 of 耕地"):
        tracking.rectify_patch(store, CODE, date(2023, 8, 1), "restore_farmland", area_mu=cultivated + 1,
                               cultivated_mu=cultivated + 0.5)


def test_as_of_reconstruction_at_three_dates_after_later_corrections(batch):
    store = batch
    area = area_of(store)
    tracking.verify_patch(store, CODE, "illegal", date(2023, 7, 5))
    first = tracking.rectify_patch(store, CODE, date(2023, 8, 1), "demolition", area_mu=1.0)
    tracking.rectify_patch(store, CODE, date(2023, 10, 1), "regreen", area_mu=2.0)
    time.sleep(0.05)
    before_correction = datetime.now(timezone.utc)
    time.sleep(0.05)
    # Later it turns out 1.5 亩 were demolished in August, not 1.0: void and re-record, back-dated.
    tracking.void_event(store, first["event_id"], "measured again: 1.5 亩")
    tracking.rectify_patch(store, CODE, date(2023, 8, 1), "demolition", area_mu=1.5)

    assert state(store, as_of=date(2023, 7, 31))["status"] == "illegal"
    assert state(store, as_of=date(2023, 7, 31))["rectified_mu"] == 0
    assert state(store, as_of=date(2023, 8, 31))["rectified_mu"] == pytest.approx(1.5)
    assert state(store, as_of=date(2023, 12, 31))["rectified_mu"] == pytest.approx(3.5)
    assert state(store, as_of=date(2023, 12, 31))["status"] == "rectifying"
    # Exactly as known before the correction: what a report printed then said.
    known = dict(known_at=before_correction)
    assert state(store, as_of=date(2023, 8, 31), **known)["rectified_mu"] == pytest.approx(1.0)
    assert state(store, as_of=date(2023, 12, 31), **known)["rectified_mu"] == pytest.approx(3.0)
    listed = list_patches(store, as_of=date(2023, 8, 31))
    assert listed.set_index("patch_code").loc[CODE, "rectified_mu"] == pytest.approx(1.5)
    assert len(list_patches(store, as_of=date(2023, 6, 1))) == 0  # not yet issued
    assert area > 3.5


def test_invalid_transitions_are_refused_with_the_next_steps(batch):
    store = batch
    with pytest.raises(TransitionError, match=r"cannot close patch .*: it is issued \(下发\); next you can verify it"):
        tracking.close_patch(store, CODE, date(2023, 7, 1))
    tracking.verify_patch(store, CODE, "legal", date(2023, 7, 5))
    with pytest.raises(TransitionError, match=r"cannot rectify patch .*: it is legal \(合法\); next you can close it"):
        tracking.rectify_patch(store, CODE, date(2023, 8, 1), "demolition", area_mu=1)
    with pytest.raises(TransitionError, match=r"cannot link case patch .*: it is legal"):
        cases.open_case(store, "C-1", date(2023, 8, 1), patches_refs=[CODE])
    assert cases.list_cases(store) == []
    with pytest.raises(GeoTrackerError, match="is before patch .* was issued"):
        tracking.verify_patch(store, "5001090002", "illegal", date(2023, 1, 1))
    # A back-dated verification that would precede the patch's closing is checked too.
    tracking.close_patch(store, CODE, date(2023, 9, 1))
    with pytest.raises(TransitionError):
        tracking.verify_patch(store, CODE, "illegal", date(2023, 8, 1))


def test_case_vocabulary_is_configurable(batch):
    store = batch
    with pytest.raises(InvalidValueError, match=r"--act '私挖乱采' is not in this office's list .*vocab add act"):
        cases.open_case(store, "C-2", date(2023, 8, 1), act="私挖乱采")
    cases.add_vocabulary(store, "act", "私挖乱采")
    assert cases.open_case(store, "C-2", date(2023, 8, 1), act="私挖乱采")["linked"] == []
    assert "私挖乱采" in cases.list_vocabulary(store)["act"]


def _write_results(path, rows):
    frame = pd.DataFrame(rows, columns=["图斑编号", "核查结果", "核查日期", "备注", "核查人"])
    if path.suffix == ".xlsx":
        frame.to_excel(path, index=False)
    else:
        frame.to_csv(path, index=False, encoding="gbk")
    return path


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_bulk_verification_with_one_bad_row_changes_nothing(batch, tmp_path, suffix):
    store = batch
    bad = _write_results(tmp_path / f"结果{suffix}", [
        ["5001090001", "违法", "2023-07-05", "建房", "张三"],
        ["5001090002", "合法", "2023-07-05", "", "张三"],
        ["5001090003", "说不清", "2023-07-06", "", "李四"],
    ])
    before = counts(store)
    with pytest.raises(BatchImportError, match=r"1 rows cannot be recorded, so none were: row 4 \(5001090003\): result '说不清'"):
        tracking.verify_from_file(store, bad)
    assert counts(store) == before
    assert state(store)["status"] == "issued"
    good = _write_results(tmp_path / f"ok{suffix}", [
        ["5001090001", "违法", "2023-07-05", "建房", "张三"],
        ["5001090002", "伪变化", "2023-07-05", "", "张三"],
    ])
    done = tracking.verify_from_file(store, good, user="liaison")
    assert done["verified"] == 2 and done["results"] == {"legal": 0, "no_change": 1, "illegal": 1}
    assert state(store, "5001090002")["status"] == "no_change"


def test_relapse_detected_on_a_second_batch(batch, tmp_path):
    store = batch
    tracking.verify_patch(store, CODE, "illegal", date(2023, 7, 5))
    tracking.rectify_patch(store, CODE, date(2023, 8, 1), "demolition", full=True)
    tracking.close_patch(store, CODE, date(2023, 9, 1))
    old = bf.canonical_patches().geometry[0]
    again = shapely.affinity.translate(old, xoff=(old.bounds[2] - old.bounds[0]) * 0.5)  # half on the old site
    far = shapely.affinity.translate(old, xoff=0.05)
    frame = gpd.GeoDataFrame({"JCBH": ["2024-001", "2024-002"]}, geometry=[again, far], crs=4490)
    path = tmp_path / "2024.geojson"
    frame.to_file(path, driver="GeoJSON")
    report = import_batch(store, path, ImportOptions(source="natural-resources", batch="2024年第1批",
                                                     issued_on=date(2024, 3, 1)))
    assert report.flags == {"relapse": 1}
    rows = list_patches(store, batch="2024年第1批").set_index("patch_code")
    assert rows.loc["2024-001", "relapse_of"] == [CODE] and "relapse" in rows.loc["2024-001", "flags"]
    assert rows.loc["2024-002", "relapse_of"] == []
    props = patches_geojson(list_patches(store, batch="2024年第1批"))["features"][0]["properties"]
    assert props["relapse_of"] == [CODE]
    for name in ("rectified_mu", "rectified_cultivated_mu", "case_numbers", "deadline", "overdue", "status_on"):
        assert name in props


def test_stale_update_from_a_second_connection_is_refused(batch, db_url):
    with open_store(db_url) as first, open_store(db_url) as second:
        with first.engine.connect() as conn:
            version = conn.execute(sa.text("SELECT row_version FROM patches WHERE patch_code = :c"),
                                   {"c": CODE}).scalar_one()
        tracking.verify_patch(second, CODE, "illegal", date(2023, 7, 5))
        with pytest.raises(StaleRowError, match=r"patch 2023年第2批/5001090001 was changed by someone else"):
            tracking.rectify_patch(first, CODE, date(2023, 8, 1), "demolition", area_mu=1.0,
                                   expected_version=version)
        assert state(first)["rectified_mu"] == 0


def _photo(path, lon, lat):
    from PIL import Image, TiffImagePlugin

    def dms(value):
        d = int(value)
        m = int((value - d) * 60)
        s = (value - d - m / 60) * 3600
        return (TiffImagePlugin.IFDRational(d, 1), TiffImagePlugin.IFDRational(m, 1),
                TiffImagePlugin.IFDRational(int(s * 1000), 1000))

    image = Image.new("RGB", (32, 24), (90, 140, 60))
    exif = image.getexif()
    exif[0x8825] = {1: "N", 2: dms(lat), 3: "E", 4: dms(lon)}
    exif[306] = "2023:08:01 10:30:00"
    image.save(path, exif=exif)
    return path


def test_evidence_is_stored_once_with_exif_time_and_place(batch, tmp_path):
    store = batch
    tracking.verify_patch(store, CODE, "illegal", date(2023, 7, 5))
    photo = _photo(tmp_path / "现场1.jpg", LON0 + 0.0003, LAT0 + 0.0003)
    copy = tmp_path / "现场1-副本.jpg"
    shutil.copyfile(photo, copy)
    far = _photo(tmp_path / "远处.jpg", LON0 + 0.01, LAT0)
    tracking.rectify_patch(store, CODE, date(2023, 8, 1), "demolition", area_mu=1.0, evidence=[photo, far])
    tracking.rectify_patch(store, CODE, date(2023, 8, 2), "demolition", area_mu=1.0, evidence=[copy])
    assert counts(store)["evidence"] == 2
    stored = [p for p in store.evidence_dir.rglob("*.jpg")]
    assert len(stored) == 2
    record = tracking.patch_history(store, CODE)[1]["payload"]["evidence"]
    assert record[0]["taken_at"] == "2023-08-01 10:30:00"
    assert record[0]["lon"] == pytest.approx(LON0 + 0.0003, abs=1e-6)
    assert record[0]["distance_to_patch_m"] == 0.0
    assert record[1]["distance_to_patch_m"] == pytest.approx(0.01 * 96_640 - 0.0008 * 96_640, rel=0.02)


def test_rectified_part_geometry_gives_its_area_and_must_lie_within(batch, tmp_path):
    from geo_tracker.core.area import geodesic_area_mu

    store = batch
    tracking.verify_patch(store, CODE, "illegal", date(2023, 7, 5))
    part = shapely.box(LON0, LAT0, LON0 + 0.0004, LAT0 + 0.0004)
    gpd.GeoDataFrame(geometry=[part], crs=4490).to_file(tmp_path / "part.geojson", driver="GeoJSON")
    result = tracking.rectify_patch(store, CODE, date(2023, 8, 1), "demolition", geometry=tmp_path / "part.geojson")
    assert result["rectified_mu"] == pytest.approx(geodesic_area_mu([part])[0], rel=1e-9)
    outside = shapely.box(LON0 + 0.0006, LAT0, LON0 + 0.0012, LAT0 + 0.0004)
    gpd.GeoDataFrame(geometry=[outside], crs=4490).to_file(tmp_path / "out.geojson", driver="GeoJSON")
    with pytest.raises(GeoTrackerError, match=r"out.geojson: .* lie outside patch"):
        tracking.rectify_patch(store, CODE, date(2023, 8, 2), "demolition", geometry=tmp_path / "out.geojson")


def test_overdue_as_of_a_date(batch):
    store = batch
    tracking.verify_patch(store, CODE, "illegal", date(2023, 7, 5))
    tracking.verify_patch(store, "5001090002", "legal", date(2023, 7, 5))
    rows = list_patches(store, as_of=date(2024, 1, 15)).set_index("patch_code")
    assert rows.loc[CODE, "overdue"] and not rows.loc["5001090002", "overdue"]
    assert rows.loc["5001090003", "overdue"]  # never verified
    assert not list_patches(store, as_of=date(2023, 12, 1)).set_index("patch_code").loc[CODE, "overdue"]
    tracking.set_deadline(store, CODE, date(2024, 6, 30))
    assert not list_patches(store, as_of=date(2024, 1, 15)).set_index("patch_code").loc[CODE, "overdue"]


def test_cli_tracking_commands(db_url, tmp_path):
    runner = CliRunner()

    def run(*args):
        result = runner.invoke(cli, ["--db", db_url, *args], env={"GEO_TRACKER_USER": "张三"})
        return result

    assert run("batches", "import", str(bf.weipian_geojson(tmp_path)), "--source", "natural-resources",
               "--batch", "B", "--issued-on", "2023-06-30", "--deadline", "2023-12-31").exit_code == 0
    out = run("patches", "verify", CODE, "--result", "illegal", "--on", "2023-07-05")
    assert out.exit_code == 0 and "issued -> illegal" in out.output
    out = run("cases", "open", "C-1", "--on", "2023-07-10", "--patch", CODE, "--violation", "非法占用土地")
    assert out.exit_code == 0 and "case_filed" in out.output
    out = run("patches", "rectify", CODE, "--on", "2023-08-01", "--measure", "demolition", "--full")
    assert out.exit_code == 0 and "-> rectified" in out.output
    bad = run("patches", "close", "5001090002", "--on", "2023-08-01")
    assert bad.exit_code == 2 and "next you can verify it" in bad.output
    history = json.loads(run("patches", "history", CODE, "--json").output)
    assert [h["actor"] for h in history] == ["张三", "张三", "张三"]
    out = run("patches", "void", str(history[-1]["id"]), "--reason", "wrong date")
    assert out.exit_code == 0 and "is now case_filed" in out.output
    shown = run("patches", "show", CODE, "--as-of", "2023-07-07")
    assert "status illegal since 2023-07-05" in shown.output
    listed = json.loads(run("cases", "list", "--json").output)
    assert listed[0]["patches"] == [CODE]
    overdue = json.loads(run("patches", "overdue", "--as-of", "2024-01-15", "--json").output)
    assert CODE in [r["patch_code"] for r in overdue]


def test_migration_0011_folds_the_existing_events_into_the_rows(batch):
    """A database from before 0011 (downgraded here, its events kept) gets every patch's state on its row."""
    from alembic import command

    from geo_tracker.store import migrate

    store = batch
    codes = sorted(list_patches(store)["patch_code"])[:3]
    for code in codes:
        tracking.verify_patch(store, code, "illegal", date(2023, 7, 5))
    cases.open_case(store, "X镇综执罚〔2023〕9号", date(2023, 7, 20), patches_refs=[codes[1]])
    half = tracking.rectify_patch(store, codes[0], date(2023, 8, 1), "demolition", area_mu=area_of(store, codes[0]) / 2)
    tracking.rectify_patch(store, codes[0], date(2023, 8, 5), "demolition", area_mu=0.01)
    tracking.void_event(store, half["event_id"], "量错")
    tracking.rectify_patch(store, codes[2], date(2023, 8, 2), "demolition", full=True)
    before = list_patches(store).set_index("patch_code")
    with store.transaction() as conn:
        command.downgrade(migrate._config(conn), "0010")
    with store.engine.connect() as conn:
        assert "rectified_mu" not in conn.execute(sa.text("SELECT * FROM patches LIMIT 0")).keys()
    with store.transaction() as conn:
        migrate.upgrade(conn)
    after = list_patches(store).set_index("patch_code")
    assert after.loc[codes[0], "rectified_mu"] == pytest.approx(0.01)
    assert after.loc[codes[2], "rectified_mu"] == pytest.approx(after.loc[codes[2], "area_mu"])
    assert after.loc[codes[1], "case_numbers"] == ["X镇综执罚〔2023〕9号"]
    assert after["verified"].tolist() == before["verified"].tolist()
    assert assert_stored_state_is_the_fold(store) == 6
