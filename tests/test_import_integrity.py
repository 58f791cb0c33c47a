"""Imports a liaison can trust, on SpatiaLite and PostGIS: the same delivery never counts twice,
re-issues say what really changed, repeated codes, multi-file 坐标txt, stated planar areas,
the bureau's attributes in every output, and the current state as a GIS layer."""

from __future__ import annotations

import json
import subprocess
import zipfile
from datetime import date

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

import bureau_files as bf
from state_check import assert_stored_state_is_the_fold
from geo_tracker.cli import cli
from geo_tracker.errors import BatchImportError, CRSDetectionError, DuplicateDeliveryError, LayerSelectionError
from geo_tracker.services.batches import ImportOptions, import_batch
from geo_tracker.services.boundaries import BoundaryOptions, import_boundaries
from geo_tracker.services.demo import DATA_DIR, SAMPLE_BOUNDARIES
from geo_tracker.services.patches import list_patches, show_patch
from geo_tracker.services.stats import compute_stats
from geo_tracker.services import tracking
from geo_tracker.store.url import parse_url

SAMPLE = dict(source="natural-resources", batch="2023年第2批", issued_on=date(2023, 6, 30))


def options(**kw) -> ImportOptions:
    return ImportOptions(**{**SAMPLE, **kw})


def current_count(store) -> int:
    with store.engine.connect() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM patches WHERE is_current AND NOT withdrawn")).scalar_one()


def relapse_links(store) -> list[tuple]:
    with store.engine.connect() as conn:
        return conn.execute(sa.text("SELECT patch_id, earlier_patch_id FROM patch_relapses")).all()


@pytest.fixture
def township(store):
    for name, level in SAMPLE_BOUNDARIES:
        import_boundaries(store, DATA_DIR / name, BoundaryOptions(level=level))
    import_batch(store, bf.SAMPLE_ZIP, options(user="联络员小王"))
    return store


def test_the_same_delivery_rezipped_under_another_batch_is_refused(township, tmp_path):
    store = township
    before = compute_stats(store, as_of=date(2023, 12, 31))["total"]
    copy = bf.rezipped_sample(tmp_path)
    again = options(batch="2023年第2批（重发）", issued_on=date(2023, 7, 10))
    with pytest.raises(DuplicateDeliveryError, match=r"imported on \d{4}-\d\d-\d\d by 联络员小王 as batch '2023年第2批'") as e:
        import_batch(store, copy, again)
    assert e.value.http_status == 409
    assert current_count(store) == 15
    assert compute_stats(store, as_of=date(2023, 12, 31))["total"] == before

    dry = import_batch(store, copy, options(batch="2023年第2批（重发）", dry_run=True))
    assert dry.duplicate_of["batch"] == "2023年第2批" and dry.duplicate_of["imported_by"] == "联络员小王"
    assert len(dry.duplicates) == 15 and all(d["same_shape"] for d in dry.duplicates)
    assert dry.needs_accept_duplicates and dry.to_dict()["needs_accept_duplicates"]


def test_duplicates_accepted_are_listed_and_never_relapse_onto_themselves(township, tmp_path):
    store = township
    old = list_patches(store).iloc[0]
    tracking.verify_patch(store, old["patch_code"], "illegal", date(2023, 7, 5))
    tracking.rectify_patch(store, old["patch_code"], date(2023, 7, 20), "demolition", full=True)
    report = import_batch(store, bf.rezipped_sample(tmp_path),
                          options(batch="2023年第2批（重发）", issued_on=date(2023, 8, 1), accept_duplicates=True))
    assert report.accepted == 15 and len(report.duplicates) == 15
    assert report.flags["duplicate"] == 15 and "relapse" not in report.flags
    assert relapse_links(store) == []
    assert current_count(store) == 30


def test_a_new_patch_overlapping_a_rectified_one_is_a_relapse_of_that_one(township, tmp_path):
    store = township
    old = list_patches(store).iloc[0]
    tracking.verify_patch(store, old["patch_code"], "illegal", date(2023, 7, 5))
    tracking.rectify_patch(store, old["patch_code"], date(2023, 7, 20), "demolition", full=True)
    frame = bf.gpd.GeoDataFrame({"JCBH": ["R0001"]}, geometry=[old.geometry.buffer(0.00003)], crs=4490)
    path = tmp_path / "relapse.geojson"
    frame.to_file(path, driver="GeoJSON")
    report = import_batch(store, path, options(batch="2024年第1批", issued_on=date(2024, 3, 1)))
    assert report.duplicates == [] and report.flags["relapse"] == 1
    assert old["patch_code"] in next(p["problem"] for p in report.problems if p["patch_code"] == "R0001")
    [(new_id, earlier_id)] = relapse_links(store)
    assert new_id != earlier_id


def test_a_reissue_that_edits_remarks_keeps_everything_and_names_the_two_moved(township, tmp_path):
    store = township
    codes = list_patches(store).sort_values("patch_code")["patch_code"].tolist()
    kept, moved = codes[0], [codes[3], codes[7]]
    tracking.verify_patch(store, kept, "illegal", date(2023, 7, 5))
    tracking.rectify_patch(store, kept, date(2023, 7, 20), "demolition", area_mu=1.0)
    tracking.verify_patch(store, moved[0], "illegal", date(2023, 7, 5))
    tracking.rectify_patch(store, moved[0], date(2023, 7, 20), "demolition", full=True)
    path = bf.sample_reissue(tmp_path, moved=(3, 7), jitter_m=0.0004)

    dry = import_batch(store, path, options(dry_run=True))
    assert dry.diff == {"unchanged": 0, "attributes_changed": 13, "changed": 2, "withdrawn": 0, "new": 0}
    assert sorted(dry.diff_codes["changed"]) == sorted(moved)

    report = import_batch(store, path, options(issued_on=date(2023, 9, 1)))
    assert report.diff == dry.diff and report.flags["recheck"] == 2
    after = show_patch(store, kept)
    assert after["status"] == "rectifying" and after["rectified_mu"] == pytest.approx(1.0)
    assert after["attrs"]["BZ"].endswith("（已更正）") and "QSX" not in after["attrs"]
    assert "recheck" not in after["flags"] and after["version"] == 2
    moved_now = show_patch(store, moved[0])
    assert "recheck" in moved_now["flags"] and moved_now["status"] == "rectified"
    assert current_count(store) == 15
    assert assert_stored_state_is_the_fold(store) == 15


def test_a_reissue_that_shrinks_a_rectified_patch_caps_and_flags_it(township, tmp_path):
    store = township
    code = list_patches(store).sort_values("patch_code")["patch_code"].iloc[3]
    tracking.verify_patch(store, code, "illegal", date(2023, 7, 5))
    tracking.rectify_patch(store, code, date(2023, 7, 20), "demolition", full=True)
    frame = bf.sample_frame()
    frame.loc[3, "geometry"] = frame.geometry[3].buffer(-3)
    path = bf.write_shapefile(frame, tmp_path / "缩小" / "WPZF_2023_2.shp", keep_prj=False, keep_cpg=False)
    report = import_batch(store, path, options(issued_on=date(2023, 9, 1)))
    assert report.diff["changed"] == 1 and report.diff["unchanged"] == 14
    shown = show_patch(store, code)
    assert "rectified_capped" in shown["flags"] and shown["rectified_mu"] == pytest.approx(shown["area_mu"])
    assert list_patches(store, codes=[code]).iloc[0]["rectified_mu"] == pytest.approx(shown["area_mu"])
    assert assert_stored_state_is_the_fold(store) == 15


def test_a_repeated_code_is_refused_or_skipped_with_every_feature_named(store, tmp_path):
    frame = bf.canonical_patches()
    frame.loc[4, "JCBH"] = frame.loc[1, "JCBH"]
    path = tmp_path / "repeated.geojson"
    frame.to_file(path, driver="GeoJSON")
    with pytest.raises(BatchImportError, match=r"5001090002 \(features 2, 5\)"):
        import_batch(store, path, options())
    assert current_count(store) == 0
    report = import_batch(store, path, options(skip_invalid=True))
    assert report.accepted == 4
    assert sorted(r["feature"] for r in report.rejected) == [2, 5]
    assert all("5001090002 occurs more than once" in r["problem"] for r in report.rejected)
    assert sorted(list_patches(store)["patch_code"]) == ["5001090001", "5001090003", "5001090004", "5001090006"]


def test_a_repeated_code_across_chunks_is_skipped_whole(store, tmp_path, monkeypatch):
    from geo_tracker.io import readers

    monkeypatch.setattr(readers, "CHUNK_FEATURES", 2)
    frame = bf.canonical_patches()
    frame.loc[4, "JCBH"] = frame.loc[0, "JCBH"]
    path = tmp_path / "repeated.geojson"
    frame.to_file(path, driver="GeoJSON")
    report = import_batch(store, path, options(skip_invalid=True))
    assert report.accepted == 4 and sorted(r["feature"] for r in report.rejected) == [1, 5]
    assert "5001090001" not in set(list_patches(store)["patch_code"]) and current_count(store) == 4
    assert report.area_mu == pytest.approx(list_patches(store)["area_mu"].sum())


def test_a_reissue_skipping_an_invalid_feature_does_not_withdraw_its_patch(store, tmp_path):
    frame = bf.canonical_patches()
    path = tmp_path / "b.geojson"
    frame.to_file(path, driver="GeoJSON")
    import_batch(store, path, options())
    frame.loc[2, "geometry"] = bf.shapely.Point(bf.LON0, bf.LAT0)
    frame.loc[0, "BZ"] = "更正"
    path2 = tmp_path / "b2.geojson"
    frame.to_file(path2, driver="GeoJSON")
    report = import_batch(store, path2, options(skip_invalid=True))
    assert report.diff["withdrawn"] == 0 and report.diff["attributes_changed"] == 1
    assert current_count(store) == 6


def test_a_zip_of_three_zuobiao_files_with_placeholder_codes_is_one_batch(store, tmp_path):
    report = import_batch(store, bf.zuobiao_zip_fid0(tmp_path), options(batch="报部坐标"))
    assert report.accepted == 3 and report.flags["code_from_file"] == 3
    assert sorted(f["file"] for f in report.files) == ["报部坐标/新华村.txt", "报部坐标/石龙村一组.txt", "报部坐标/金星村.txt"]
    codes = sorted(list_patches(store)["patch_code"])
    assert codes == ["新华村", "石龙村一组", "金星村"]
    assert "file names" in report.fields["patch_code"]
    shown = show_patch(store, "新华村")
    assert shown["attrs"]["源文件"] == "报部坐标/新华村.txt" and shown["attrs"]["地块号"] == "FID_0"


def test_several_shapefiles_import_together_only_when_asked(store, tmp_path):
    frame = bf.canonical_patches()
    folder = tmp_path / "两个乡镇"
    bf.write_shapefile(frame.iloc[:3], folder / "甲镇.shp")
    bf.write_shapefile(frame.iloc[3:], folder / "乙镇.shp")
    archive = tmp_path / "两个乡镇.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for f in folder.iterdir():
            z.write(f, f"两个乡镇/{f.name}")
    with pytest.raises(LayerSelectionError, match="--all-layers"):
        import_batch(store, archive, options())
    report = import_batch(store, archive, options(all_layers=True))
    assert report.accepted == 6 and [f["features"] for f in sorted(report.files, key=lambda f: f["file"])] == [3, 3]


def test_an_unknown_datum_is_named(store, tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text(bf.zuobiao_text([("1", 0.25, bf.gk_square(35512000.0, 3307000.0, 50.0))], datum="2000ff"),
                    encoding="utf-8")
    with pytest.raises(CRSDetectionError, match="坐标系=2000ff"):
        import_batch(store, path, options())


def test_a_stated_planar_area_is_recognised_and_not_flagged(store, tmp_path):
    path, planar_mu = bf.zuobiao_planar_300mu(tmp_path)
    report = import_batch(store, path, options(batch="三百亩"))
    assert report.stated_area["basis"] == "planar"
    assert "planar Gauss-Krüger" in report.fields["stated_area"]
    assert "area_deviation" not in report.flags
    assert report.issued_area_mu == pytest.approx(planar_mu, abs=0.001)
    assert report.area_mu == pytest.approx(planar_mu * (1 - 3.5e-4), rel=1e-4)   # ellipsoidal, smaller


def test_a_file_without_stated_areas_totals_null(store, tmp_path):
    frame = bf.canonical_patches().drop(columns=["JCMJ", "GDMJ"])
    path = tmp_path / "noarea.geojson"
    frame.to_file(path, driver="GeoJSON")
    report = import_batch(store, path, options())
    assert report.issued_area_mu is None and report.stated_area["basis"] is None
    line = next(l for l in _cli_import(store, path).splitlines() if l.startswith("issued area"))
    assert line.split()[-1] == "—"


def _cli_import(store, path) -> str:
    return CliRunner().invoke(cli, ["--db", store.url, "batches", "import", str(path), "--source", "forestry",
                                    "--batch", "无面积", "--issued-on", "2023-06-30", "--dry-run",
                                    "--accept-duplicates"], catch_exceptions=False).output


def test_a_shapefile_with_a_name_field_is_not_kml(store, tmp_path):
    frame = bf.canonical_patches().rename(columns={"JCBH": "name"})
    path = bf.write_shapefile(frame, tmp_path / "named.shp")
    report = import_batch(store, path, options(id_field="name"))
    assert not report.fields["profile"].startswith("kml")


def test_bureau_attributes_in_show_and_in_every_list_format(township, db_url, tmp_path):
    runner = CliRunner()
    code = list_patches(township).sort_values("patch_code")["patch_code"].iloc[0]
    shown = runner.invoke(cli, ["--db", db_url, "patches", "show", code], catch_exceptions=False).output
    assert "监测编号 (JCBH): " + code in shown and "备注 (BZ): 卫片执法监测图斑（样例数据）" in shown
    assert "前时相 (QSX)" in shown
    geojson = json.loads(runner.invoke(cli, ["--db", db_url, "patches", "list", "--format", "geojson"]).output)
    attrs = geojson["features"][0]["properties"]["attrs"]
    assert attrs["BZ"] == "卫片执法监测图斑（样例数据）" and attrs["XZQMC"] == "北碚区澄江镇"
    rows = json.loads(runner.invoke(cli, ["--db", db_url, "patches", "list", "--format", "json"]).output)
    assert rows[0]["attrs"]["BHLX"]
    csv_text = runner.invoke(cli, ["--db", db_url, "patches", "list", "--format", "csv"]).output
    assert "卫片执法监测图斑（样例数据）" in csv_text
    bare = json.loads(runner.invoke(cli, ["--db", db_url, "patches", "list", "--format", "geojson",
                                          "--no-attributes"]).output)
    assert "attrs" not in bare["features"][0]["properties"]


def test_ogrinfo_opens_the_current_patches_view(township, db_url, tmp_path, backend):
    store = township
    frame = bf.sample_frame()
    frame = frame.drop(index=[0, 1])
    path = bf.write_shapefile(frame, tmp_path / "撤回" / "WPZF_2023_2.shp", keep_prj=False, keep_cpg=False)
    import_batch(store, path, options(issued_on=date(2023, 9, 1)))
    code = list_patches(store).sort_values("patch_code")["patch_code"].iloc[0]
    tracking.verify_patch(store, code, "illegal", date(2023, 9, 5))
    tracking.rectify_patch(store, code, date(2023, 9, 20), "demolition", area_mu=0.5)
    target = _ogr_source(db_url)
    out = subprocess.run(["ogrinfo", "-ro", "-so", target, "current_patches"], capture_output=True, text=True,
                         check=True).stdout
    assert "Feature Count: 13" in out and "Multi Polygon" in out
    assert "4490" in out or "China Geodetic Coordinate System 2000" in out
    rows = subprocess.run(["ogrinfo", "-ro", "-q", target, "-sql",
                           f"SELECT patch_code, rectified_mu, village_name FROM current_patches WHERE patch_code = '{code}'"],
                          capture_output=True, text=True, check=True).stdout
    assert "rectified_mu (Real) = 0.5" in rows and "village_name (String) = " in rows


def _ogr_source(db_url: str) -> str:
    backend, url = parse_url(db_url)
    if backend == "spatialite":
        return url.database
    schema = url.query["options"].split("=")[1].split(",")[0]
    return f"PG:host={url.host} port={url.port} dbname={url.database} user={url.username} schemas={schema}"


def test_a_patch_code_with_a_slash_is_refused_by_feature(store, tmp_path):
    frame = bf.canonical_patches()
    frame.loc[2, "JCBH"] = "5001/0003"
    path = tmp_path / "slash.geojson"
    frame.to_file(path, driver="GeoJSON")
    with pytest.raises(BatchImportError, match=r"feature 3 \(5001/0003\): patch code '5001/0003' contains '/'"):
        import_batch(store, path, options())
    report = import_batch(store, path, options(skip_invalid=True))
    assert report.accepted == 5 and report.rejected[0]["feature"] == 3


def test_file_name_codes_follow_the_file_not_the_chunk(store, tmp_path, monkeypatch):
    from geo_tracker.io import readers

    monkeypatch.setattr(readers, "CHUNK_FEATURES", 2)
    parcels = [("FID_0", 0.25, bf.gk_square(35512000.0 + 300 * k, 3307000.0, 50.0)) for k in range(4)]
    out = tmp_path / "两个文件.zip"
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("甲村.txt", bf.zuobiao_text(parcels[:1]))
        z.writestr("乙村.txt", bf.zuobiao_text(parcels[1:]))
    report = import_batch(store, out, options(batch="跨块"))
    assert report.accepted == 4 and report.rejected == []
    assert sorted(list_patches(store)["patch_code"]) == ["乙村-1", "乙村-2", "乙村-3", "甲村"]


def test_a_township_account_cannot_move_a_shared_deadline_or_learn_of_other_deliveries(township, tmp_path):
    from geo_tracker.errors import PermissionDeniedError

    store = township
    codes = list_patches(store)
    own = frozenset(codes["village_code"].dropna().iloc[:1])
    with pytest.raises(PermissionDeniedError, match="deadline"):
        import_batch(store, bf.sample_reissue(tmp_path), options(deadline=date(2023, 8, 1), villages=own))
    with pytest.raises(PermissionDeniedError, match="outside your units"):   # not "imported on … by 联络员小王"
        import_batch(store, bf.rezipped_sample(tmp_path), options(batch="重发", villages=own))


def test_only_outages_are_outages():
    import sqlite3

    from sqlalchemy import exc as sa_exc

    from geo_tracker.errors import DatabaseUnavailableError, StorageFullError
    from geo_tracker.store.failures import translate

    def wrapped(message):
        return sa_exc.OperationalError("SELECT 1", {}, sqlite3.OperationalError(message))

    assert translate(wrapped("no such table: patches")) is None             # a bug stays a bug
    assert isinstance(translate(wrapped("database or disk is full")), StorageFullError)
    assert isinstance(translate(wrapped("unable to open database file")), DatabaseUnavailableError)
    assert "busy" in str(translate(wrapped("database is locked")))
    assert "disk is full" not in str(translate(wrapped("no such column: x")) or "")
