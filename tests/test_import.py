"""Importing batches as bureaus send them, on SpatiaLite and PostGIS."""

from __future__ import annotations

import json
import tempfile
from datetime import date
from pathlib import Path

import numpy as np
import pytest
import shapely
import sqlalchemy as sa
from click.testing import CliRunner

import bureau_files as bf
from geo_tracker.cli import cli
from geo_tracker.errors import (
    DuplicateDeliveryError,
    BatchImportError,
    CRSDetectionError,
    EncodingDetectionError,
    InputFileError,
    LayerSelectionError,
    UnsafeArchiveError,
    UnsupportedFormatError,
    ZuobiaoFormatError,
)
from geo_tracker.services.batches import ImportOptions, import_batch, list_batches, show_batch

ZUOBIAO = Path(__file__).parent / "fixtures" / "zuobiao"
TABLES = ["batches", "batch_imports", "patches", "events"]


def options(**kw) -> ImportOptions:
    base = dict(source="natural-resources", batch="2023年第2批", issued_on=date(2023, 6, 30))
    return ImportOptions(**{**base, **kw})


def snapshot(store) -> dict[str, int]:
    with store.engine.connect() as conn:
        return {t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES}


def stored_patches(store) -> list[dict]:
    with store.engine.connect() as conn:
        rows = conn.execute(sa.text(
            f"SELECT patch_code, version, is_current, withdrawn, area_mu, issued_area_mu, cultivated_mu, "
            f"attrs, flags, {store.geometry_as_wkb('geom')} AS wkb FROM patches ORDER BY patch_code, version"
        )).mappings().all()
    out = []
    for r in rows:
        item = dict(r)
        for key in ("attrs", "flags"):
            if isinstance(item[key], str):
                item[key] = json.loads(item[key])
        item["geom"] = shapely.from_wkb(bytes(item.pop("wkb")))
        out.append(item)
    return out


def add_township(store, geom=None):
    """Load a township outline directly (the boundaries command comes with its own issue)."""
    geom = geom or bf.township_polygon()
    with store.transaction() as conn:
        conn.execute(sa.text(
            "INSERT INTO admin_units (code, name, level, valid_from, attrs, geom) VALUES "
            f"('500109107', '澄江镇', 'township', '2020-01-01', '{{}}', {store.geometry_from_wkb('g')})"
        ), {"g": shapely.to_wkb(geom)})


def assert_canonical(report, store):
    assert report.features_read == 6 and report.accepted == 6 and report.rejected == []
    assert report.flags == {"repaired": 1, "duplicate_vertices": 1, "area_deviation": 1}
    expected = bf.expected_area_mu()
    assert report.area_mu == pytest.approx(expected.sum(), abs=0.001)
    rows = [r for r in stored_patches(store) if r["is_current"]]
    assert [r["patch_code"] for r in rows] == [f"500109{i:04d}" for i in range(1, 7)]
    np.testing.assert_allclose([r["area_mu"] for r in rows], expected, atol=0.001)
    assert rows[0]["attrs"]["XZQMC"] == "北碚区澄江镇"
    assert rows[0]["attrs"]["BZ"] == "村民自建房屋，未办理用地手续"
    assert rows[5]["attrs"]["BZ"] == "备注：<b>加急</b>"
    assert set(rows[3]["flags"]) == {"repaired"} and "Self-intersection" in rows[3]["flags"]["repaired"]
    assert set(rows[5]["flags"]) == {"area_deviation"}
    assert rows[1]["geom"].geoms[0].interiors and len(rows[2]["geom"].geoms) == 2
    assert all(r["geom"].is_valid and r["geom"].geom_type == "MultiPolygon" for r in rows)


# --- formats -------------------------------------------------------------------------


def test_gbk_shapefile_without_prj_in_zone_prefixed_gauss_kruger(store, tmp_path):
    report = import_batch(store, bf.weipian_gbk_noprj(tmp_path), options())
    assert report.crs == "EPSG:4523"
    assert "zone prefix 35" in report.crs_reason
    assert report.encoding == "GBK" and "no .cpg" in report.encoding_reason
    assert report.fields["issued_area"].startswith("JCMJ in 亩")
    assert report.cultivated_mu == pytest.approx(sum(bf.canonical_patches().GDMJ), abs=1e-6)
    assert report.diff == {"unchanged": 0, "attributes_changed": 0, "changed": 0, "withdrawn": 0, "new": 6}
    assert_canonical(report, store)


def test_zipped_shapefile_in_subfolder_with_gbk_member_names(store, tmp_path):
    before = set(Path(tempfile.gettempdir()).glob("geo_tracker_zip_*"))
    report = import_batch(store, bf.weipian_zip_subfolder(tmp_path), options())
    assert report.dataset == "澄江镇2023年第2批.zip:2023年卫片图斑.shp"
    assert report.crs == "EPSG:4523" and report.encoding == "GBK"
    assert_canonical(report, store)
    assert set(Path(tempfile.gettempdir()).glob("geo_tracker_zip_*")) == before


def test_utf8_shapefile_with_cpg_and_prj_and_square_metres(store, tmp_path):
    frame = bf.canonical_patches()
    frame["JCMJ"] = frame["JCMJ"] * 10000 / 15
    frame["GDMJ"] = frame["GDMJ"] * 10000 / 15
    shp = bf.write_shapefile(frame, tmp_path / "utf8.shp", encoding="UTF-8", crs=4545)
    assert shp.with_suffix(".cpg").exists() and shp.with_suffix(".prj").exists()
    report = import_batch(store, shp, options())
    assert report.encoding == "UTF-8" and report.encoding_reason == "from utf8.cpg"
    assert report.crs == "EPSG:4545" and report.crs_reason.startswith("from the file")
    assert report.fields["issued_area"].startswith("JCMJ in 平方米")
    assert report.cultivated_mu == pytest.approx(sum(bf.canonical_patches().GDMJ), abs=1e-4)
    assert_canonical(report, store)


def test_shapefile_folder(store, tmp_path):
    shp = bf.weipian_gbk_noprj(tmp_path / "delivery")
    assert_canonical(import_batch(store, shp.parent, options()), store)


def test_geopackage_picks_the_polygon_layer(store, tmp_path):
    report = import_batch(store, bf.weipian_gpkg(tmp_path), options())
    assert report.layer == "tb_2023" and report.crs == "EPSG:4496"
    assert_canonical(report, store)


def test_geopackage_with_two_polygon_layers_needs_layer(store, tmp_path):
    path = bf.weipian_gpkg(tmp_path, second_polygon_layer=True)
    with pytest.raises(LayerSelectionError, match=r"卫片.gpkg has 2 polygon layers \(tb_2023, tb_2022\): choose one with --layer"):
        import_batch(store, path, options())
    with pytest.raises(LayerSelectionError, match=r"has no layer 'nope'; its layers are: tb_2023 \(MultiPolygon\), photo_points \(Point\)"):
        import_batch(store, path, options(layer="nope"))
    report = import_batch(store, path, options(layer="tb_2022"))
    assert report.accepted == 2


def test_geojson(store, tmp_path):
    report = import_batch(store, bf.weipian_geojson(tmp_path), options())
    assert report.crs == "EPSG:4490" and report.encoding == "UTF-8"
    assert_canonical(report, store)


@pytest.mark.parametrize("zipped", [False, True], ids=["gdb-folder", "gdb-zip"])
def test_file_geodatabase(store, tmp_path, zipped):
    report = import_batch(store, bf.weipian_gdb(tmp_path, zipped=zipped), options())
    assert report.driver == "OpenFileGDB" and report.layer == "WPTB"
    assert_canonical(report, store)


@pytest.mark.parametrize("kmz", [False, True], ids=["kml", "kmz"])
def test_ovital_kml_keeps_names_descriptions_and_folders(store, tmp_path, kmz):
    report = import_batch(store, bf.ovital_kml(tmp_path, kmz=kmz), options())
    assert report.accepted == 3 and report.fields["patch_code"] == "from field Name"
    rows = stored_patches(store)
    assert [r["patch_code"] for r in rows] == ["5001090001", "5001090002", "5001090006"]
    assert rows[0]["attrs"]["description"] == "村民自建房屋，未办理用地手续"
    assert rows[0]["attrs"]["folder"] == "2023卫片" and rows[2]["attrs"]["folder"] == "补充图斑"
    assert rows[0]["attrs"]["村"] == "石龙村"
    assert "tessellate" not in rows[0]["attrs"]
    np.testing.assert_allclose([r["area_mu"] for r in rows], bf.expected_area_mu()[[0, 1, 5]], atol=0.001)


def test_zuobiao_canonical(store):
    report = import_batch(store, ZUOBIAO / "canonical_utf8.txt", options())
    assert report.driver == "zuobiao" and report.crs == "EPSG:4523"
    rows = stored_patches(store)
    assert [r["patch_code"] for r in rows] == ["1", "2"]
    assert rows[0]["attrs"]["地块名称"] == "石龙村违法占地"
    # 5500 m² drawn in the plane of zone 35 near its central meridian; ellipsoidal within 0.01 %.
    assert rows[0]["area_mu"] == pytest.approx(5500 / (10000 / 15), rel=1e-4)
    assert rows[0]["issued_area_mu"] == pytest.approx(0.55 * 15)
    assert len(rows[0]["geom"].geoms[0].interiors) == 1


def test_zuobiao_gb18030_crlf_matches_utf8(store):
    report = import_batch(store, ZUOBIAO / "canonical_gb18030_crlf.txt", options())
    assert report.encoding == "GB18030"
    assert stored_patches(store)[0]["attrs"]["地块名称"] == "石龙村违法占地"


def test_zuobiao_without_zone_prefix_uses_header_zone(store):
    report = import_batch(store, ZUOBIAO / "no_zone_prefix.txt", options())
    assert report.crs == "EPSG:4544"
    assert "带号=35" in report.crs_reason


def test_zuobiao_line_record_is_rejected_by_name(store):
    before = snapshot(store)
    with pytest.raises(BatchImportError, match=r"is a 线 record, not a polygon patch.*--skip-invalid"):
        import_batch(store, ZUOBIAO / "line_record.txt", options())
    assert snapshot(store) == before
    report = import_batch(store, ZUOBIAO / "line_record.txt", options(skip_invalid=True))
    assert report.accepted == 1 and len(report.rejected) == 1
    with store.engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT report FROM batch_imports")).scalar_one()
    stored = json.loads(stored) if isinstance(stored, str) else stored
    assert "线 record" in stored["rejected"][0]["problem"]


def test_forestry_chinese_fields_hectares_and_unprefixed_eastings(store, tmp_path):
    shp = bf.forestry_shapefile(tmp_path)
    before = snapshot(store)
    with pytest.raises(CRSDetectionError, match=r"no zone prefix.*no admin boundaries are loaded.*give --crs \(candidates: .*EPSG:4544 \(CM 105°E\)"):
        import_batch(store, shp, options(source="forestry"))
    assert snapshot(store) == before
    add_township(store)
    report = import_batch(store, shp, options(source="forestry"))
    assert report.crs == "EPSG:4544" and "only central meridian 105°E" in report.crs_reason
    assert report.encoding == "GBK"
    assert report.fields["profile"].startswith("forestry")
    assert report.fields["issued_area"].startswith("面积 in 公顷")
    rows = stored_patches(store)
    assert [r["patch_code"] for r in rows] == ["LD001", "LD002", "LD003", "LD004"]
    assert rows[0]["attrs"]["变化原因"] == "建坟"
    np.testing.assert_allclose([r["issued_area_mu"] for r in rows],
                               [r["area_mu"] for r in rows], atol=0.01)


def test_crs_override(store, tmp_path):
    report = import_batch(store, bf.forestry_shapefile(tmp_path), options(crs="EPSG:4544"))
    assert report.crs == "EPSG:4544" and report.crs_reason.startswith("given with --crs")


def test_geographic_prj_contradicting_coordinates_suggests_the_crs(store, tmp_path):
    shp = bf.weipian_gbk_noprj(tmp_path)
    shp.with_suffix(".prj").write_text(_wkt_4490(), encoding="ascii")
    before = snapshot(store)
    with pytest.raises(CRSDetectionError, match=r"declares its own CRS EPSG:4490.*do not fall in China.*rerun with --crs EPSG:4523"):
        import_batch(store, shp, options())
    assert snapshot(store) == before


def _wkt_4490() -> str:
    from pyproj import CRS

    return CRS.from_epsg(4490).to_wkt("WKT1_ESRI")


def test_xian80_is_transformed_with_a_datum_warning(store, tmp_path):
    shp = bf.write_shapefile(bf.canonical_patches(), tmp_path / "xian80.shp", crs=2380)
    report = import_batch(store, shp, options())
    assert report.crs == "EPSG:2380"
    assert any("Xian 1980" in w and "7-parameter" in w for w in report.warnings)


def test_missing_shx_is_rebuilt_with_a_warning(store, tmp_path):
    shp = bf.weipian_gbk_noprj(tmp_path)
    shp.with_suffix(".shx").unlink()
    report = import_batch(store, shp, options())
    assert any("no .shx index" in w for w in report.warnings)
    assert_canonical(report, store)
    assert not shp.with_suffix(".shx").exists()


def test_encoding_override(store, tmp_path):
    report = import_batch(store, bf.weipian_gbk_noprj(tmp_path), options(encoding="gb18030"))
    assert report.encoding == "GB18030" and report.encoding_reason == "given with --encoding"
    assert stored_patches(store)[0]["attrs"]["XZQMC"] == "北碚区澄江镇"


# --- bad input: clear message, database unchanged ------------------------------------


def _no_dbf(tmp):
    shp = bf.weipian_gbk_noprj(tmp)
    shp.with_suffix(".dbf").unlink()
    return shp


def _zero_bytes(tmp):
    path = tmp / "下发图斑.gpkg"
    path.write_bytes(b"")
    return path


def _mixed_geojson(tmp):
    frame = bf.canonical_patches()
    frame.loc[2, "geometry"] = shapely.Point(bf.LON0, bf.LAT0)
    path = tmp / "mixed.geojson"
    frame.to_file(path, driver="GeoJSON")
    return path


def _duplicate_codes(tmp):
    frame = bf.canonical_patches()
    frame.loc[4, "JCBH"] = frame.loc[1, "JCBH"]
    return bf.write_shapefile(frame, tmp / "dup.shp", crs=4523, keep_prj=False, keep_cpg=False)


def _latin1_dbf(tmp):
    frame = bf.canonical_patches()[["JCBH", "JCMJ", "geometry"]].copy()
    frame["BZ"] = "\u00e9t\u00e9 \u00ff\u00fe"
    shp = bf.write_shapefile(frame, tmp / "latin.shp", encoding="ISO-8859-1", keep_cpg=False)
    return shp


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


BAD_INPUTS = [
    (bf.csv_table, UnsupportedFormatError, r"图斑台账.csv is a table without geometry"),
    (bf.points_shapefile, BatchImportError, r"2 of 2 features cannot be imported: feature 1 \(P1\): is a Point, not a polygon"),
    (bf.lines_geojson, UnsupportedFormatError, r"lines.geojson has no polygon layer \(layers: lines \(LineString\)\)"),
    (bf.raster, UnsupportedFormatError, r"影像.tif is a raster image, not polygon data"),
    (lambda t: bf.truncate_shp(bf.weipian_gbk_noprj(t)), UnsupportedFormatError,
     r"2023年卫片图斑.shp is truncated: its header says \d+ bytes but the file has \d+"),
    (_no_dbf, UnsupportedFormatError, r"2023年卫片图斑.shp has no 2023年卫片图斑.dbf beside it"),
    (_zero_bytes, UnsupportedFormatError, r"下发图斑.gpkg is empty \(0 bytes\)"),
    (bf.empty_geojson, UnsupportedFormatError, r"empty.geojson .*has no (features|polygon layer)"),
    (lambda t: t / "nowhere.shp", InputFileError, r"nowhere.shp does not exist"),
    (bf.evil_zip, UnsafeArchiveError, r"evil.zip: member '../../evil.shp' points outside the archive"),
    (bf.zip_bomb, UnsafeArchiveError, r"bomb.zip: member 'big.shp' expands more than 200×"),
    (lambda t: bf.ovital_kml(t, only_points=True), BatchImportError,
     r"奥维标注.kml: 3 of 3 features cannot be imported: feature 1 \(5001090001\): is a Point, not a polygon"),
    (_mixed_geojson, BatchImportError, r"1 of 6 features cannot be imported: feature 3 \(5001090003\): is a Point"),
    (_duplicate_codes, BatchImportError, r"1 patch codes occur more than once: 5001090002 \(features 2, 5\)"),
    (_latin1_dbf, EncodingDetectionError, None),
    (lambda t: _write(t / "plan.dwg", b"AC1027"), UnsupportedFormatError,
     r"plan.dwg: unsupported file type .dwg"),
    (lambda t: ZUOBIAO / "missing_coord_section.txt", ZuobiaoFormatError, r"missing_coord_section.txt.*\[地块坐标\]"),
    (lambda t: ZUOBIAO / "bad_number.txt", InputFileError, r"bad_number.txt.*line 16"),
]


@pytest.mark.parametrize("make, error, message", BAD_INPUTS, ids=[
    "csv", "points", "lines", "raster", "truncated-shp", "no-dbf", "zero-bytes", "empty-layer",
    "missing-path", "zip-slip", "zip-bomb", "kml-points", "mixed-geometries", "duplicate-codes",
    "latin1", "dwg", "zuobiao-no-section", "zuobiao-bad-number"])
def test_bad_input_is_refused_and_nothing_is_written(store, tmp_path, make, error, message):
    (tmp_path / "ok").mkdir()
    import_batch(store, bf.weipian_geojson(tmp_path / "ok"), options(batch="existing"))
    before = snapshot(store)
    path = make(tmp_path)
    with pytest.raises(error, match=message) as info:
        import_batch(store, path, options())
    assert snapshot(store) == before
    assert len(str(info.value)) < 2000


def test_latin1_dbf_is_read_with_an_explicit_encoding(store, tmp_path):
    report = import_batch(store, _latin1_dbf(tmp_path), options(encoding="ISO-8859-1"))
    assert stored_patches(store)[0]["attrs"]["BZ"] == "\u00e9t\u00e9 \u00ff\u00fe"
    assert report.encoding == "ISO-8859-1"


def test_skip_invalid_imports_the_rest_and_keeps_the_list(store, tmp_path):
    report = import_batch(store, _mixed_geojson(tmp_path), options(skip_invalid=True))
    assert report.accepted == 5
    assert report.rejected == [{"feature": 3, "patch_code": "5001090003",
                                "problem": "is a Point, not a polygon: only polygon patches can be imported"}]
    shown = show_batch(store, "2023年第2批")
    assert shown["imports"][0]["report"]["rejected"][0]["feature"] == 3


# --- identity, re-issues, atomicity ---------------------------------------------------


def test_identical_file_again_is_a_no_op(store, tmp_path):
    path = bf.weipian_gbk_noprj(tmp_path)
    import_batch(store, path, options())
    before = snapshot(store)
    again = import_batch(store, path, options())
    assert again.already_imported and again.diff == {"unchanged": 6, "attributes_changed": 0, "changed": 0, "withdrawn": 0, "new": 0}
    assert snapshot(store) == before


def test_identical_file_under_another_batch_name_is_refused(store, tmp_path):
    path = bf.weipian_gbk_noprj(tmp_path)
    import_batch(store, path, options())
    before = snapshot(store)
    with pytest.raises(DuplicateDeliveryError, match=r"same delivery \(SHA-256 of its content\) as .*, imported on .* as batch '2023年第2批'"):
        import_batch(store, path, options(batch="2023年第3批"))
    assert snapshot(store) == before


def _reissue(tmp: Path) -> Path:
    frame = bf.canonical_patches()
    frame.loc[0, "geometry"] = shapely.affinity.translate(frame.geometry[0], 0.0001, 0)
    frame.loc[1, "BZ"] = "已核实"
    frame = frame.drop(index=4)
    extra = frame.iloc[[0]].copy()
    extra["JCBH"] = "5001090007"
    extra["geometry"] = [bf._square(bf.LON0 + 8 * bf.D, bf.LAT0, 0.5 * bf.D)]
    import pandas as pd

    frame = bf.gpd.GeoDataFrame(pd.concat([frame, extra], ignore_index=True), crs=4490)
    return bf.write_shapefile(frame, tmp / "reissue" / "2023年卫片图斑.shp", crs=4523,
                              keep_prj=False, keep_cpg=False)


def test_reissue_reports_and_records_the_diff(store, tmp_path):
    import_batch(store, bf.weipian_gbk_noprj(tmp_path), options())
    path = _reissue(tmp_path)
    before = snapshot(store)
    dry = import_batch(store, path, options(dry_run=True))
    assert dry.diff == {"unchanged": 3, "attributes_changed": 1, "changed": 1, "withdrawn": 1, "new": 1}
    assert dry.diff_codes == {"attributes_changed": ["5001090002"], "changed": ["5001090001"],
                              "withdrawn": ["5001090005"], "new": ["5001090007"]}
    assert snapshot(store) == before

    report = import_batch(store, path, options(issued_on=date(2023, 8, 1)))
    assert report.diff == dry.diff
    rows = {(r["patch_code"], r["version"]): r for r in stored_patches(store)}
    assert rows[("5001090001", 1)]["is_current"] is False or rows[("5001090001", 1)]["is_current"] == 0
    assert rows[("5001090001", 2)]["is_current"]
    assert rows[("5001090002", 2)]["attrs"]["BZ"] == "已核实"
    assert rows[("5001090005", 1)]["withdrawn"]
    assert rows[("5001090007", 1)]["is_current"]
    with store.engine.connect() as conn:
        kinds = dict(conn.execute(sa.text("SELECT kind, count(*) FROM events GROUP BY kind")).all())
    assert kinds == {"batch_imported": 2, "reissued": 2, "withdrawn": 1}
    batches = list_batches(store)
    assert len(batches) == 1 and batches[0]["patches"] == 6 and batches[0]["withdrawn"] == 1
    assert batches[0]["imports"] == 2


def test_failure_while_writing_leaves_nothing(store, tmp_path, monkeypatch):
    import geo_tracker.store.batches as repo

    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(repo, "record_import_events", explode)
    before = snapshot(store)
    with pytest.raises(RuntimeError, match="disk full"):
        import_batch(store, bf.weipian_gbk_noprj(tmp_path), options())
    assert snapshot(store) == before


# --- command line ---------------------------------------------------------------------


def test_cli_import_json_list_and_show(db_url, tmp_path):
    runner = CliRunner()
    path = bf.weipian_zip_subfolder(tmp_path)
    result = runner.invoke(cli, ["--db", db_url, "batches", "import", str(path), "--source",
                                 "natural-resources", "--batch", "2023年第2批", "--issued-on", "2023-06-30",
                                 "--deadline", "2023-12-31", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    for key in ("batch", "source", "features_read", "accepted", "rejected", "flags", "area_mu",
                "cultivated_mu", "issued_area_mu", "crs", "crs_reason", "encoding", "diff"):
        assert key in data
    assert data["diff"] == {"unchanged": 0, "attributes_changed": 0, "changed": 0, "withdrawn": 0, "new": 6}
    text = runner.invoke(cli, ["--db", db_url, "batches", "import", str(path), "--source",
                               "natural-resources", "--batch", "2023年第2批", "--issued-on", "2023-06-30"])
    assert text.exit_code == 0 and "nothing changed" in text.output
    listed = json.loads(runner.invoke(cli, ["--db", db_url, "batches", "list", "--json"]).output)
    assert listed[0]["name"] == "2023年第2批" and listed[0]["patches"] == 6
    assert listed[0]["deadline"] == "2023-12-31"
    shown = runner.invoke(cli, ["--db", db_url, "batches", "show", "2023年第2批"])
    assert shown.exit_code == 0 and "5001090006" in shown.output and "area_deviation" in shown.output


def test_cli_human_summary(db_url, tmp_path):
    result = CliRunner().invoke(cli, ["--db", db_url, "batches", "import", str(bf.weipian_gbk_noprj(tmp_path)),
                                      "--source", "natural-resources", "--batch", "B1", "--issued-on", "2023-06-30"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Imported 2023年卫片图斑.shp into batch B1" in out
    assert "EPSG:4523: eastings carry zone prefix 35" in out
    assert "GBK: no .cpg" in out
    assert "new 6" in out and "60.75 亩" in out


def test_cli_bad_input_exits_2_with_one_message(db_url, tmp_path):
    result = CliRunner().invoke(cli, ["--db", db_url, "batches", "import", str(bf.raster(tmp_path)),
                                      "--source", "forestry", "--batch", "B", "--issued-on", "2023-06-30"])
    assert result.exit_code == 2
    assert result.output.startswith("Error: 影像.tif is a raster image")


def test_cli_unknown_batch(db_url):
    result = CliRunner().invoke(cli, ["--db", db_url, "batches", "show", "nope"])
    assert result.exit_code == 2 and "no batch named 'nope'" in result.output


def test_chunked_parallel_checks_give_the_same_result(store, tmp_path, monkeypatch):
    import geo_tracker.services.batch_import as service

    monkeypatch.setattr(service, "PARALLEL_CHUNK", 2)
    report = import_batch(store, _mixed_geojson(tmp_path), options(skip_invalid=True))
    assert report.rejected == [{"feature": 3, "patch_code": "5001090003",
                                "problem": "is a Point, not a polygon: only polygon patches can be imported"}]
    assert report.flags == {"repaired": 1, "duplicate_vertices": 1, "area_deviation": 1}
    rows = stored_patches(store)
    assert [r["patch_code"] for r in rows] == ["5001090001", "5001090002", "5001090004", "5001090005", "5001090006"]
    np.testing.assert_allclose([r["area_mu"] for r in rows], bf.expected_area_mu()[[0, 1, 3, 4, 5]], atol=0.001)
    assert "Self-intersection" in rows[2]["flags"]["repaired"]


@pytest.fixture
def small_chunks(monkeypatch):
    """Read and write two features at a time, as a national batch is in 50 000s."""
    import geo_tracker.io.readers as readers

    monkeypatch.setattr(readers, "CHUNK_FEATURES", 2)


def test_chunked_import_gives_the_same_result(store, tmp_path, small_chunks):
    assert_canonical(import_batch(store, bf.weipian_gbk_noprj(tmp_path), options()), store)


def test_chunked_import_finds_duplicates_across_chunks(store, tmp_path, small_chunks):
    before = snapshot(store)
    with pytest.raises(BatchImportError, match=r"5001090002 \(features 2, 5\)"):
        import_batch(store, _duplicate_codes(tmp_path), options())
    assert snapshot(store) == before


def test_chunked_import_rejects_late_features_and_writes_nothing(store, tmp_path, small_chunks):
    frame = bf.canonical_patches()
    frame.loc[5, "geometry"] = shapely.Point(bf.LON0, bf.LAT0)
    path = tmp_path / "late.geojson"
    frame.to_file(path, driver="GeoJSON")
    before = snapshot(store)
    with pytest.raises(BatchImportError, match=r"1 of 6 features cannot be imported: feature 6 \(5001090006\)"):
        import_batch(store, path, options())
    assert snapshot(store) == before


def test_chunked_reissue(store, tmp_path, small_chunks):
    import_batch(store, bf.weipian_gbk_noprj(tmp_path), options())
    report = import_batch(store, _reissue(tmp_path), options())
    assert report.diff == {"unchanged": 3, "attributes_changed": 1, "changed": 1, "withdrawn": 1, "new": 1}
    assert len([r for r in stored_patches(store) if r["is_current"] and not r["withdrawn"]]) == 6


def test_generated_codes_are_numbered_by_feature(store, tmp_path, small_chunks):
    frame = bf.canonical_patches().drop(columns=["JCBH"])
    path = tmp_path / "nocode.geojson"
    frame.to_file(path, driver="GeoJSON")
    report = import_batch(store, path, options())
    assert report.fields["patch_code"].startswith("no patch-code field found")
    assert report.flags["generated_code"] == 6
    assert [r["patch_code"] for r in stored_patches(store)] == [f"AUTO-{i:05d}" for i in range(1, 7)]


def test_a_cpg_that_lies_is_overruled_by_the_text(store, tmp_path):
    shp = bf.weipian_gbk_noprj(tmp_path)
    shp.with_suffix(".cpg").write_text("UTF-8", encoding="ascii")
    report = import_batch(store, shp, options())
    assert report.encoding == "GBK"
    assert report.encoding_reason.startswith("2023年卫片图斑.cpg says UTF-8, but the text is not UTF-8")
    assert stored_patches(store)[0]["attrs"]["XZQMC"] == "北碚区澄江镇"
