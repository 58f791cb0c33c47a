"""Boundaries with history and patch-to-village matching, on SpatiaLite and PostGIS."""

from __future__ import annotations

import json
from datetime import date

import geopandas as gpd
import pytest
import shapely
from click.testing import CliRunner

import bureau_files as bf
from geo_tracker.cli import cli
from geo_tracker.core.area import CGCS2000_GEOD
from geo_tracker.core.matching import match_villages
from geo_tracker.errors import BatchImportError, FieldMappingError, InvalidValueError
from geo_tracker.services.batches import ImportOptions, import_batch
from geo_tracker.services.boundaries import BoundaryOptions, import_boundaries, list_boundaries
from geo_tracker.services.patches import PATCH_PROPERTIES, list_patches, patches_geojson, rematch_patches, show_patch

LON0, LAT0, D = bf.LON0, bf.LAT0, bf.D
SPLIT = LON0 + 0.005  # 石龙村 | 新华村


def load_township_and_villages(store, tmp_path, villages=None, **kw):
    import_boundaries(store, bf.township_shapefile(tmp_path), BoundaryOptions(level="township"))
    return import_boundaries(store, bf.villages_shapefile(tmp_path, villages, **kw), BoundaryOptions(level="village"))


def import_patches(store, tmp_path, geoms, codes=None, batch="B", issued_on=date(2023, 6, 30)):
    codes = codes or [f"P{i + 1}" for i in range(len(geoms))]
    frame = gpd.GeoDataFrame({"JCBH": codes}, geometry=geoms, crs=4490)
    folder = tmp_path / f"batch_{batch}"
    folder.mkdir(exist_ok=True)
    path = folder / "tb.geojson"
    frame.to_file(path, driver="GeoJSON")
    # Later batches here reuse earlier sites on purpose (boundaries change under the same land).
    return import_batch(store, path, ImportOptions(source="natural-resources", batch=batch, issued_on=issued_on,
                                                   accept_duplicates=True))


def by_code(store, **filters):
    frame = list_patches(store, **filters)
    return {row.patch_code: row for row in frame.itertuples()}


# --- boundaries ----------------------------------------------------------------------


def test_sample_boundaries_import_with_history_fields(store):
    from geo_tracker.services.demo import DATA_DIR, SAMPLE_BOUNDARIES

    reports = [import_boundaries(store, DATA_DIR / name, BoundaryOptions(level=level))
               for name, level in SAMPLE_BOUNDARIES]
    assert [r.units for r in reports] == [1, 1, 12]
    assert reports[2].crs == "EPSG:4523" and reports[2].encoding == "GBK"
    assert reports[2].fields == {"code": "CJQYDM", "name": "CJQYMC", "parent": "from the codes"}
    assert reports[2].problems == [] and reports[2].valid_from == date(1900, 1, 1)
    villages = list_boundaries(store, "village")
    assert [v["name"] for v in villages][:3] == ["澄江社区", "温泉社区", "石龙村"]
    assert all(v["parent_code"] == "500109107" for v in villages)
    assert sum(v["area_mu"] for v in villages) == pytest.approx(reports[1].area_mu, rel=1e-4)


@pytest.mark.parametrize("keep_prj", [True, False], ids=["with-prj", "without-prj"])
def test_gbk_village_shapefile_with_and_without_prj(store, tmp_path, keep_prj):
    report = load_township_and_villages(store, tmp_path, keep_prj=keep_prj)
    assert report.units == 3 and report.encoding == "GBK" and report.crs == "EPSG:4523"
    assert report.crs_reason.startswith("from the file" if keep_prj else "eastings carry zone prefix 35")
    names = {v["code"]: v["name"] for v in list_boundaries(store, "village")}
    assert names == {"500109107201": "石龙村", "500109107202": "新华村", "500109107203": "缙云村"}


def test_gaps_and_overlaps_are_reported_not_fixed(store, tmp_path):
    report = load_township_and_villages(store, tmp_path, bf.village_frame(gap=True, overlap=True))
    kinds = sorted((p["kind"], tuple(p.get("codes", [p.get("parent")]))) for p in report.problems)
    assert kinds == [("gap", ("500109107",)),
                     ("overlap", ("500109107201", "500109107203")),
                     ("overlap", ("500109107202", "500109107203"))]
    gap = next(p for p in report.problems if p["kind"] == "gap")
    # 0.0005° wide, 0.0195° high (缙云村 overlaps the top 0.0005°), at 29.8°N: ~48 m × 2 160 m
    assert gap["area_m2"] == pytest.approx(0.0005 * 0.0195 * 96_640 * 110_860, rel=0.01)
    stored = list_boundaries(store, "village")
    assert len(stored) == 3


def test_bad_codes_names_the_feature_and_field(store, tmp_path):
    frame = bf.village_frame()
    frame.loc[1, "CJQYDM"] = "50010910720"
    before = list_boundaries(store)
    with pytest.raises(BatchImportError, match=r"feature 2 \(CJQYDM\): '50010910720' is not a 12-digit village code"):
        import_boundaries(store, bf.villages_shapefile(tmp_path, frame), BoundaryOptions(level="village"))
    frame = bf.village_frame()
    frame.loc[2, "CJQYDM"] = frame.loc[0, "CJQYDM"]
    with pytest.raises(BatchImportError, match=r"feature 3 \(CJQYDM\): code 500109107201 repeats feature 1"):
        import_boundaries(store, bf.villages_shapefile(tmp_path, frame, name="dup.shp"), BoundaryOptions(level="village"))
    assert list_boundaries(store) == before


def test_given_parent_must_exist(store, tmp_path):
    with pytest.raises(BatchImportError, match=r"parent township\(s\) 500109108 are not loaded: import the township"):
        import_boundaries(store, bf.villages_shapefile(tmp_path), BoundaryOptions(level="village", parent_code="500109108"))
    with pytest.raises(InvalidValueError, match="--parent-code '5001' is not a 9-digit township code"):
        import_boundaries(store, bf.villages_shapefile(tmp_path), BoundaryOptions(level="village", parent_code="5001"))
    assert list_boundaries(store) == []


# --- matching ------------------------------------------------------------------------


def test_patch_across_two_villages_60_40(store, tmp_path):
    load_township_and_villages(store, tmp_path)
    width = 0.002
    patch = shapely.box(SPLIT - 0.6 * width, LAT0, SPLIT + 0.4 * width, LAT0 + 0.001)
    report = import_patches(store, tmp_path, [patch])
    assert report.villages == {"matched": 1, "outside": 0, "straddles": 1}
    row = by_code(store)["P1"]
    assert row.village_code == "500109107201" and row.village_name == "石龙村"
    assert row.village_shares["500109107201"] == pytest.approx(0.6, abs=0.001)
    assert row.village_shares["500109107202"] == pytest.approx(0.4, abs=0.001)
    assert row.straddles and not row.outside


def test_multipolygon_with_parts_in_two_villages(store, tmp_path):
    load_township_and_villages(store, tmp_path)
    a = shapely.box(LON0, LAT0, LON0 + 0.001, LAT0 + 0.001)                   # in 石龙村
    b = shapely.box(SPLIT + 0.002, LAT0, SPLIT + 0.004, LAT0 + 0.001)          # twice as big, in 新华村
    import_patches(store, tmp_path, [shapely.MultiPolygon([a, b])])
    row = by_code(store)["P1"]
    assert row.village_code == "500109107202"
    assert row.village_shares == pytest.approx({"500109107202": 2 / 3, "500109107201": 1 / 3}, abs=0.001)


def test_patch_outside_the_township_gets_the_nearest_village_and_distance(store, tmp_path):
    load_township_and_villages(store, tmp_path)
    east = LON0 + 0.02  # 新华村's and 缙云村's east edge
    patch = shapely.box(east + 0.01, LAT0, east + 0.011, LAT0 + 0.001)
    import_patches(store, tmp_path, [patch])
    row = by_code(store)["P1"]
    assert row.outside and row.village_code is None and row.village_shares == {}
    assert row.nearest_code == "500109107202"
    _, _, expected = CGCS2000_GEOD.inv(east, LAT0, east + 0.01, LAT0)
    assert row.nearest_distance_m == pytest.approx(expected, abs=1.0)
    shown = show_patch(store, "B/P1")
    assert shown["outside"] is True and shown["villages"] == []


def test_boundaries_replaced_from_a_date_keep_old_patches_on_old_villages(store, tmp_path):
    load_township_and_villages(store, tmp_path)
    # 2024: 石龙村 and 新华村 merge into 石新村 (a new code).
    merged = bf.village_frame()
    merged = gpd.GeoDataFrame({
        "CJQYDM": ["500109107211", "500109107203"], "CJQYMC": ["石新村", "缙云村"],
    }, geometry=[shapely.union_all(merged.geometry[:2]), merged.geometry[2]], crs=4490)
    report = import_boundaries(store, bf.villages_shapefile(tmp_path, merged, name="村界2024.shp"),
                               BoundaryOptions(level="village", valid_from=date(2024, 1, 1)))
    assert sorted(report.replaced) == ["500109107201", "500109107202", "500109107203"]
    history = list_boundaries(store, "village")
    assert len(history) == 5
    assert {v["code"]: str(v["valid_to"]) for v in history if v["valid_to"]} == {
        "500109107201": "2024-01-01", "500109107202": "2024-01-01", "500109107203": "2024-01-01"}
    assert [v["code"] for v in list_boundaries(store, "village", as_of=date(2021, 6, 30))] == [
        "500109107201", "500109107202", "500109107203"]

    inside_old_201 = shapely.box(LON0, LAT0, LON0 + 0.001, LAT0 + 0.001)
    import_patches(store, tmp_path, [inside_old_201], ["OLD"], batch="2021", issued_on=date(2021, 6, 30))
    import_patches(store, tmp_path, [inside_old_201], ["NEW"], batch="2024", issued_on=date(2024, 6, 30))
    rows = by_code(store)
    assert rows["OLD"].village_code == "500109107201" and rows["OLD"].village_name == "石龙村"
    assert rows["NEW"].village_code == "500109107211" and rows["NEW"].village_name == "石新村"
    counts = rematch_patches(store)
    assert counts == {"patches": 2, "matched": 2, "outside": 0, "straddles": 0}
    assert by_code(store)["OLD"].village_code == "500109107201"


def test_rematch_after_boundaries_arrive(store, tmp_path):
    import_patches(store, tmp_path, [shapely.box(LON0, LAT0, LON0 + 0.001, LAT0 + 0.001)])
    assert by_code(store)["P1"].village_code is None
    load_township_and_villages(store, tmp_path)
    assert rematch_patches(store, "B") == {"patches": 1, "matched": 1, "outside": 0, "straddles": 0}
    assert by_code(store, village="500109107201")["P1"].village_name == "石龙村"


def test_matching_core_on_hand_built_polygons():
    villages = bf.village_frame().rename(columns={"CJQYDM": "code", "CJQYMC": "name"})
    villages["id"] = [1, 2, 3]
    patch = shapely.box(SPLIT - 0.0006, LAT0, SPLIT + 0.0004, LAT0 + 0.0005)
    far = shapely.box(LON0 + 0.05, LAT0, LON0 + 0.051, LAT0 + 0.001)
    result = match_villages([patch, far], villages)
    assert result.matches["village_code"].tolist()[0] == "500109107201"
    assert result.matches["outside"].tolist() == [False, True]
    assert result.shares.groupby("patch")["share"].sum().tolist() == pytest.approx([1.0])


# --- listing and the command line -----------------------------------------------------


def test_geojson_properties_keep_their_names(store, tmp_path):
    load_township_and_villages(store, tmp_path)
    import_patches(store, tmp_path, [shapely.box(LON0, LAT0, LON0 + 0.001, LAT0 + 0.001)])
    feature = patches_geojson(list_patches(store))["features"][0]
    for name in PATCH_PROPERTIES:
        assert name in feature["properties"]
    props = feature["properties"]
    assert props["village_shares"] == {"500109107201": 1.0}
    assert props["issued_on"] == "2023-06-30" and props["batch"] == "B" and props["source"] == "natural-resources"
    assert props["outside"] is False and props["straddles"] is False and props["flags"] == []


def test_cli_boundaries_and_patches(db_url, tmp_path):
    runner = CliRunner()
    town = bf.township_shapefile(tmp_path)
    assert runner.invoke(cli, ["--db", db_url, "boundaries", "import", str(town), "--level", "township"]).exit_code == 0
    result = runner.invoke(cli, ["--db", db_url, "boundaries", "import", str(bf.villages_shapefile(tmp_path)),
                                 "--level", "village", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["units"] == 3
    listed = json.loads(runner.invoke(cli, ["--db", db_url, "boundaries", "list", "--level", "village", "--json"]).output)
    assert [v["name"] for v in listed] == ["石龙村", "新华村", "缙云村"]
    bad = runner.invoke(cli, ["--db", db_url, "boundaries", "import", str(town), "--level", "village"])
    assert bad.exit_code == 2 and "is not a 12-digit village code" in bad.output

    frame = gpd.GeoDataFrame({"JCBH": ["P1"]}, geometry=[shapely.box(LON0, LAT0, LON0 + 0.001, LAT0 + 0.001)], crs=4490)
    path = tmp_path / "p.geojson"
    frame.to_file(path, driver="GeoJSON")
    assert runner.invoke(cli, ["--db", db_url, "batches", "import", str(path), "--source", "other", "--batch", "B",
                               "--issued-on", "2023-06-30"]).exit_code == 0
    geojson = json.loads(runner.invoke(cli, ["--db", db_url, "patches", "list", "--format", "geojson"]).output)
    assert geojson["features"][0]["properties"]["village_name"] == "石龙村"
    csv = runner.invoke(cli, ["--db", db_url, "patches", "list", "--format", "csv"]).output
    assert csv.splitlines()[0].startswith("id,patch_code,batch,source,issued_on,area_mu")
    shown = runner.invoke(cli, ["--db", db_url, "patches", "show", "P1"])
    assert shown.exit_code == 0 and "village 500109107201 石龙村: share 1.0000" in shown.output
    missing = runner.invoke(cli, ["--db", db_url, "patches", "show", "nope"])
    assert missing.exit_code == 2 and "no current patch 'nope'" in missing.output
    rematch = runner.invoke(cli, ["--db", db_url, "patches", "rematch"])
    assert rematch.exit_code == 0 and "1 patches matched: 1 in a village" in rematch.output


# --- land use ---------------------------------------------------------------------------


def test_cultivated_and_forest_area_computed_from_dltb_when_not_issued(store, tmp_path):
    from geo_tracker.core.area import geodesic_area_mu
    from geo_tracker.services.landuse import import_landuse, list_layers

    report = import_landuse(store, bf.dltb_shapefile(tmp_path))
    assert (report.parcels, report.cultivated_parcels, report.forest_parcels) == (3, 1, 1)
    assert report.crs == "EPSG:4523" and report.encoding == "GBK"
    west = shapely.box(SPLIT - 0.0006, LAT0, SPLIT, LAT0 + 0.001)
    east = shapely.box(SPLIT, LAT0, SPLIT + 0.0004, LAT0 + 0.001)
    imported = import_patches(store, tmp_path, [shapely.union(west, east)])
    assert imported.fields["cultivated_area"].startswith("computed from the 三调 land-use layer")
    row = by_code(store)["P1"]
    assert row.cultivated_source == "computed"
    assert row.cultivated_mu == pytest.approx(geodesic_area_mu([west])[0] * 0.9, rel=1e-6)
    assert row.forest_mu == pytest.approx(geodesic_area_mu([east])[0], rel=1e-6)
    assert imported.cultivated_mu == pytest.approx(row.cultivated_mu)
    again = import_landuse(store, bf.dltb_shapefile(tmp_path))
    assert again.replaced == 3 and list_layers(store)[0]["parcels"] == 3


def test_issued_cultivated_area_is_kept_and_marked_issued(store, tmp_path):
    from geo_tracker.services.landuse import import_landuse

    import_landuse(store, bf.dltb_shapefile(tmp_path))
    import_batch(store, bf.weipian_geojson(tmp_path), ImportOptions(source="natural-resources", batch="W",
                                                                     issued_on=date(2023, 6, 30)))
    rows = by_code(store)
    assert rows["5001090001"].cultivated_source == "issued"
    assert rows["5001090001"].cultivated_mu == pytest.approx(bf.canonical_patches().GDMJ[0])


def test_dltb_without_dlbm_is_refused(store, tmp_path):
    from geo_tracker.services.landuse import import_landuse

    with pytest.raises(FieldMappingError, match=r"has no DLBM \(地类编码\) field"):
        import_landuse(store, bf.weipian_geojson(tmp_path))


def test_rematch_computes_landuse_loaded_after_the_patches(store, tmp_path):
    from geo_tracker.services.landuse import import_landuse

    import_patches(store, tmp_path, [shapely.box(SPLIT + 0.001, LAT0, SPLIT + 0.002, LAT0 + 0.001)])
    assert by_code(store)["P1"].cultivated_source is None
    import_landuse(store, bf.dltb_shapefile(tmp_path))
    rematch_patches(store)
    row = by_code(store)["P1"]
    assert row.cultivated_source == "computed" and row.cultivated_mu == 0.0
    assert row.forest_mu == pytest.approx(row.area_mu, rel=1e-6)
