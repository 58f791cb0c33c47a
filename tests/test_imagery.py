"""Imagery (影像): GeoTIFFs in Gauss-Krüger (zone in the eastings or not) and lon/lat, a COG, an
MBTiles and a delivery's clips, imported once and served as Web Mercator tiles where the image
really is; bad rasters refused with nothing kept; tiles and layers limited to a user's units."""

from __future__ import annotations

import io
import json
from datetime import date

import numpy as np
import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from fastapi.testclient import TestClient
from PIL import Image

import bureau_files as bf
import imagery_files as imf
from geo_tracker.cli import cli
from geo_tracker.config import ServiceSettings
from geo_tracker.server.app import create_app
from geo_tracker.services import accounts
from geo_tracker.services.batches import ImportOptions, import_batch
from geo_tracker.services.boundaries import BoundaryOptions, import_boundaries
from geo_tracker.services.imagery import import_imagery, list_imagery, remove_imagery

PASSWORD = "imagery-password-1"
#: Inside CGCS2000 3° zone 36 (CM 108°E), away from the test township: the middle of a zoom-17 tile.
_TILE = imf.TMS.bounds(imf.TMS.tile(108.1, 29.8, 17))
PLACE = ((_TILE.left + _TILE.right) / 2, (_TILE.bottom + _TILE.top) / 2)
OTHER_TOWNSHIP = bf.OTHER_TOWNSHIP_CODE


@pytest.fixture(autouse=True)
def fresh_layers():
    """Each test's database is new: no list of layers kept from the one before."""
    from geo_tracker.services import imagery

    imagery.forget_layers()


def run(db_url, *args):
    return CliRunner().invoke(cli, ["--db", db_url, *args], catch_exceptions=False)


def client(store, user="admin") -> TestClient:
    if accounts.list_users(store) == [] or user not in {u["username"] for u in accounts.list_users(store)}:
        accounts.add_user(store, user, PASSWORD, "admin" if user == "admin" else "viewer",
                          ["*"] if user == "admin" else [bf.TOWNSHIP_CODE])
    token = accounts.create_token(store, user, "test")
    return TestClient(create_app(store, ServiceSettings()), headers={"Authorization": f"Bearer {token}"})


def tile_image(response) -> np.ndarray:
    assert response.status_code == 200, response.text
    return np.asarray(Image.open(io.BytesIO(response.content)).convert("RGBA"))


def red_columns(image: np.ndarray, row: int) -> np.ndarray:
    line = image[row, :, :3].astype(int)
    return np.flatnonzero((line[:, 0] > 180) & (line[:, 1] < 80))


@pytest.mark.parametrize("crs, coords", [("EPSG:4524", None), ("EPSG:4545", None), ("EPSG:4490", None),
                                         (None, "EPSG:4524")],
                         ids=["gk-zone-prefix", "gk-no-prefix", "cgcs2000-lonlat", "no-crs-zone-eastings"])
def test_a_tile_at_zoom_17_has_the_square_where_it_lies(store, db_url, tmp_path, crs, coords):
    tif = imf.square_geotiff(tmp_path / "dom.tif", crs, PLACE, coords_crs=coords)
    done = run(db_url, "imagery", "import", str(tif), "--date", "2023-10-15", "--label", "后时相", "--json")
    assert done.exit_code == 0, done.output
    layer = json.loads(done.output)["imported"][0]
    assert layer["crs"] == (crs or coords) and layer["zooms"][1] >= 17 and layer["converted"]
    tile = imf.TMS.tile(*PLACE, 17)
    image = tile_image(client(store).get(f"/imagery/{layer['id']}/tiles/17/{tile.x}/{tile.y}.png"))
    grid = crs or coords
    west, south, east, north = imf.square_lonlat_bounds(PLACE, 20.0, grid)
    (left, top), (right, bottom) = imf.tile_pixel(west, north, tile), imf.tile_pixel(east, south, tile)
    cx, cy = imf.tile_pixel(*PLACE, tile)
    assert 8 < cx < 248 and 8 < cy < 248
    assert tuple(image[int(cy), int(cx), :3]) == imf.RED
    reds = red_columns(image, int(cy))
    assert abs(reds.min() - left) <= 1.0 and abs(reds.max() + 1 - right) <= 1.0
    column = image[:, int(cx), :3].astype(int)
    rows = np.flatnonzero((column[:, 0] > 180) & (column[:, 1] < 80))
    assert abs(rows.min() - top) <= 1.0 and abs(rows.max() + 1 - bottom) <= 1.0
    assert tuple(image[int(top) - 3, int(cx), :3]) == imf.GREEN       # just north of the square: the field
    assert image[..., 3].min() == 255                                 # the whole tile is image, nothing transparent


def test_webp_tiles_etags_and_a_tile_beside_the_image(store, tmp_path):
    tif = imf.square_geotiff(tmp_path / "dom.tif", "EPSG:4524", PLACE, size=200)
    layer = import_imagery(store, tif, acquired_on=date(2023, 10, 15)).imported[0]
    web = client(store)
    tile = imf.TMS.tile(*PLACE, 17)
    url = f"/imagery/{layer['id']}/tiles/17/{tile.x}/{tile.y}"
    webp = web.get(url + ".webp")
    assert webp.headers["content-type"] == "image/webp" and webp.content[:4] == b"RIFF"
    png = web.get(url + ".png")
    assert png.headers["content-type"] == "image/png" and "max-age" in png.headers["cache-control"]
    assert web.get(url + ".png", headers={"If-None-Match": png.headers["etag"]}).status_code == 304
    far = imf.TMS.tile(PLACE[0] + 0.01, PLACE[1], 17)
    assert web.get(f"/imagery/{layer['id']}/tiles/17/{far.x}/{far.y}.png").status_code == 404
    assert web.get(url + ".gif").status_code == 404
    assert web.get(f"/imagery/{layer['id'] + 99}/tiles/17/{tile.x}/{tile.y}.png").status_code == 404


def test_an_mbtiles_is_passed_through(store, db_url, tmp_path):
    path, (z, x, y), data = imf.mbtiles(tmp_path / "县DOM.mbtiles", PLACE)
    done = run(db_url, "imagery", "import", str(path), "--date", "2023-06-01", "--label", "DOM")
    assert done.exit_code == 0, done.output
    layer = list_imagery(store)[0]
    assert layer["kind"] == "mbtiles" and layer["label"] == "DOM" and (layer["min_zoom"], layer["max_zoom"]) == (z, z)
    got = client(store).get(f"/imagery/{layer['id']}/tiles/{z}/{x}/{y}.png")
    assert got.status_code == 200 and got.content == data and got.headers["content-type"] == "image/png"
    assert client(store).get(f"/imagery/{layer['id']}/tiles/{z}/{x + 1}/{y}.png").status_code == 404


def test_the_same_image_twice_is_kept_once_and_removing_it_removes_its_file(store, db_url, tmp_path):
    tif = imf.square_geotiff(tmp_path / "dom.tif", "EPSG:4490", PLACE, size=200)
    first = import_imagery(store, tif, acquired_on=date(2023, 10, 15), label="后时相")
    again = run(db_url, "--lang", "zh", "imagery", "import", str(tif), "--date", "2023-10-15", "--label", "后时相")
    assert again.exit_code == 0 and "未重复导入" in again.output
    listed = json.loads(run(db_url, "imagery", "list", "--json").output)
    assert [(i["id"], i["name"], i["date"], i["label"]) for i in listed] == [(first.imported[0]["id"], "dom",
                                                                              "2023-10-15", "后时相")]
    assert set(listed[0]) >= {"id", "name", "date", "label", "bounds"}
    west, south, east, north = listed[0]["bounds"]
    assert west < PLACE[0] < east and south < PLACE[1] < north
    kept = list((tmp_path / "imagery").rglob("*.tif"))
    assert len(kept) == 1
    remove_imagery(store, listed[0]["id"])
    assert list_imagery(store) == [] and not kept[0].exists()
    assert run(db_url, "imagery", "remove", str(listed[0]["id"])).exit_code == 2


def _broken(tmp_path) -> dict:
    good = imf.square_geotiff(tmp_path / "good.tif", "EPSG:4524", PLACE, size=300, compress=None)
    text = tmp_path / "不是影像.tif"
    text.write_text("this is a note, not an image", encoding="utf-8")
    return {
        "not a raster": (text, "不是可读取的栅格影像"),
        "truncated": (imf.truncated(tmp_path / "截断.tif", good), "不完整"),
        "no georeference": (imf.no_georeference(tmp_path / "无坐标.tif"), "没有地理参考"),
        "outside China (UTM 33N)": (imf.square_geotiff(tmp_path / "欧洲.tif", "EPSG:32633", (15.0, 50.0), size=64),
                                    "欧洲.tif"),
        "lon/lat outside China": (imf.square_geotiff(tmp_path / "经度10.tif", "EPSG:4490", (10.0, 50.0), size=64),
                                  "经度10.tif"),
        "16-bit": (_sixteen_bit(tmp_path / "十六位.tif"), "8位"),
    }


def _sixteen_bit(path):
    import rasterio
    from rasterio.transform import from_origin

    with rasterio.open(path, "w", driver="GTiff", width=32, height=32, count=1, dtype="uint16", crs="EPSG:4490",
                       transform=from_origin(108.0, 30.0, 1e-5, 1e-5)) as dst:
        dst.write(np.full((1, 32, 32), 3000, np.uint16))
    return path


def test_bad_rasters_are_refused_and_nothing_is_kept(store, db_url, tmp_path):
    for case, (path, words) in _broken(tmp_path).items():
        result = run(db_url, "--lang", "zh", "imagery", "import", str(path), "--date", "2023-10-15")
        assert result.exit_code == 2, (case, result.output)
        assert path.name in result.output and words in result.output, (case, result.output)
        assert "Traceback" not in result.output
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM imagery")).scalar_one() == 0
    assert not [p for p in (tmp_path / "imagery").rglob("*") if p.is_file()]
    assert run(db_url, "imagery", "import", str(tmp_path / "good.tif")).exit_code == 2   # no --date
    assert run(db_url, "imagery", "import", str(tmp_path / "nowhere.tif"), "--date", "2023-01-01").exit_code == 2


def test_xian80_is_converted_with_a_warning(store, db_url, tmp_path):
    tif = imf.square_geotiff(tmp_path / "西安80.tif", "EPSG:2381", PLACE, size=100)
    done = run(db_url, "--lang", "zh", "imagery", "import", str(tif), "--date", "2020-05-01")
    assert done.exit_code == 0, done.output
    assert "西安80" in done.output and "注意" in done.output


@pytest.fixture
def townships(store, tmp_path):
    """The test township with its villages, a second township beside it, and a viewer of the first."""
    import_boundaries(store, bf.township_shapefile(tmp_path), BoundaryOptions(level="township"))
    import_boundaries(store, bf.villages_shapefile(tmp_path), BoundaryOptions(level="village"))
    import_boundaries(store, bf.other_township_shapefile(tmp_path), BoundaryOptions(level="township"))
    return store


def test_a_township_sees_only_imagery_over_its_units(townships, tmp_path):
    store = townships
    here = (bf.LON0 + 0.002, bf.LAT0 + 0.002)
    there = (bf.LON0 + 0.055, bf.LAT0 + 0.002)
    mine = import_imagery(store, imf.square_geotiff(tmp_path / "mine.tif", "EPSG:4523", here, size=200),
                          acquired_on=date(2023, 5, 1)).imported[0]
    theirs = import_imagery(store, imf.square_geotiff(tmp_path / "theirs.tif", "EPSG:4523", there, size=200),
                            acquired_on=date(2023, 5, 1)).imported[0]
    viewer = client(store, "look")
    assert [i["id"] for i in viewer.get("/api/v1/imagery").json()] == [mine["id"]]
    assert {i["id"] for i in client(store).get("/api/v1/imagery").json()} == {mine["id"], theirs["id"]}
    own, other = imf.TMS.tile(*here, 17), imf.TMS.tile(*there, 17)
    assert viewer.get(f"/imagery/{mine['id']}/tiles/17/{own.x}/{own.y}.png").status_code == 200
    assert viewer.get(f"/imagery/{theirs['id']}/tiles/17/{other.x}/{other.y}.png").status_code == 404
    assert client(store).get(f"/imagery/{theirs['id']}/tiles/17/{other.x}/{other.y}.png").status_code == 200
    anonymous = TestClient(create_app(store, ServiceSettings()))
    assert anonymous.get(f"/imagery/{mine['id']}/tiles/17/{own.x}/{own.y}.png").status_code == 401


def test_a_deliverys_clips_are_matched_to_their_patches_and_shown_on_the_patch_page(townships, db_url, tmp_path):
    store = townships
    frame = bf.canonical_patches()
    archive = imf.clip_delivery(tmp_path, frame, {0: {"QS": imf.GREEN, "HS": imf.RED}, 5: {"HS": imf.RED}},
                                jpeg=frozenset({(5, "HS")}))
    import_batch(store, archive, ImportOptions(source="natural-resources", batch="2023年第2批",
                                               issued_on=date(2023, 6, 30)))
    done = run(db_url, "imagery", "import", str(archive), "--json")
    assert done.exit_code == 0, done.output
    report = json.loads(done.output)
    assert sorted((i["name"], i["date"], i["label"]) for i in report["imported"]) == [
        ("5001090001 前时相", "2022-10-01", "前时相"), ("5001090001 后时相", "2023-04-01", "后时相"),
        ("5001090006 后时相", "2023-04-01", "后时相")]
    assert {i["patch"] for i in list_imagery(store)} == {"2023年第2批/5001090001", "2023年第2批/5001090006"}
    again = json.loads(run(db_url, "imagery", "import", str(archive), "--json").output)
    assert again["imported"] == [] and len(again["already"]) == 3
    web = client(store, "look")
    pair = web.get("/api/v1/patches/2023年第2批/5001090001/imagery").json()
    assert pair["divide"] == "2022-10-01"
    assert (pair["before"]["label"], pair["before"]["date"]) == ("前时相", "2022-10-01")
    assert (pair["after"]["label"], pair["after"]["date"]) == ("后时相", "2023-04-01")
    page = web.get("/patches/2023年第2批/5001090001").text
    assert "影像对比" in page and "2022-10-01" in page and "2023-04-01" in page
    assert web.get("/api/v1/patches/2023年第2批/5001090002/imagery").json()["before"] is None
    assert "影像对比" not in web.get("/patches/2023年第2批/5001090002").text


def test_clips_of_patches_not_imported_or_missing_files_are_refused_whole(townships, db_url, tmp_path):
    store = townships
    archive = imf.clip_delivery(tmp_path, bf.canonical_patches(), {0: {"QS": imf.GREEN}, 1: {"HS": imf.RED}})
    refused = run(db_url, "--lang", "zh", "imagery", "import", str(archive))
    assert refused.exit_code == 2 and "5001090001" in refused.output and "尚未导入" in refused.output
    assert list_imagery(store) == []
    plain = imf.square_geotiff(tmp_path / "plain.zip.d" / "a.tif", "EPSG:4490", PLACE, size=50)
    import zipfile

    only_raster = tmp_path / "只有影像.zip"
    with zipfile.ZipFile(only_raster, "w") as zf:
        zf.write(plain, "a.tif")
    result = run(db_url, "imagery", "import", str(only_raster))
    assert result.exit_code == 2 and "只有影像.zip" in result.output


def test_which_image_is_before_and_after():
    """The 前时相 divides; without it the day before the 后时相; an image of all the patch beats a
    neighbour's clip that only touches it; a delivery's own clip beats both."""
    import pandas as pd
    import shapely

    from geo_tracker.core.imagery import before_and_after, phase_date, reference_date

    assert [phase_date(v) for v in ("20230301", "2023/3/1", "2023年3月", pd.NaT, None, "", "无")] == [
        date(2023, 3, 1), date(2023, 3, 1), date(2023, 3, 1), None, None, None, None]
    assert phase_date(pd.Timestamp("2023-04-20 08:00")) == date(2023, 4, 20)
    assert reference_date({"QSX": "2022-10-01", "HSX": "2023-04-01"}, date(2023, 6, 30)) == date(2022, 10, 1)
    assert reference_date({"HSX": "2023-04-01"}, date(2023, 6, 30)) == date(2023, 3, 31)
    assert reference_date({"QSX": pd.NaT}, date(2023, 6, 30)) == date(2023, 6, 30)
    patch = shapely.box(0, 0, 1, 1)
    county = {"id": 1, "acquired_on": date(2022, 9, 1), "footprint": shapely.box(-5, -5, 5, 5), "label": None}
    corner = {"id": 2, "acquired_on": date(2022, 9, 20), "footprint": shapely.box(0.9, 0.9, 2, 2), "label": "前时相",
              "lineage_id": 99}
    newer = {"id": 3, "acquired_on": date(2023, 5, 1), "footprint": shapely.box(-5, -5, 5, 5), "label": None}
    chosen = before_and_after([county, corner, newer], patch, 7, date(2022, 10, 1))
    assert chosen["before"]["id"] == 1 and chosen["after"]["id"] == 3
    own = {**corner, "id": 4, "lineage_id": 7}
    assert before_and_after([county, own, newer], patch, 7, date(2022, 10, 1))["before"]["id"] == 4
    assert before_and_after([newer], patch, 7, date(2022, 10, 1))["before"] is None


def test_a_clip_path_is_found_by_its_longest_unique_ending():
    from pathlib import Path

    from geo_tracker.services.imagery_clips import resolve_clip

    files = {"截图/QS/001.jpg": Path("qs"), "截图/HS/001.jpg": Path("hs"), "其他/002.tif": Path("two")}
    assert resolve_clip(files, "D:\\卫片\\QS\\001.jpg") == Path("qs")
    assert resolve_clip(files, "截图\\HS\\001.jpg") == Path("hs")
    assert resolve_clip(files, "..\\..\\002.tif") == Path("two")
    assert resolve_clip(files, "001.jpg") is None                  # two files of that name: neither is guessed
    assert resolve_clip(files, "/") is None and resolve_clip(files, "") is None


def test_a_tile_reaching_beyond_a_townships_units_is_cut_to_them(townships, tmp_path):
    store = townships
    across = (bf.LON0 + 0.04, bf.LAT0 + 0.005)                    # from the test township over 三溪镇
    layer = import_imagery(store, imf.square_geotiff(tmp_path / "county.tif", "EPSG:4490", across, pixel=5.0,
                                                     size=1800, square_m=50.0),
                           acquired_on=date(2023, 5, 1)).imported[0]
    tile = imf.TMS.tile(bf.LON0 + 0.03, bf.LAT0 + 0.005, 12)                 # one tile over both townships
    viewer, admin = client(store, "look"), client(store)
    seen = tile_image(viewer.get(f"/imagery/{layer['id']}/tiles/12/{tile.x}/{tile.y}.png"))
    whole = tile_image(admin.get(f"/imagery/{layer['id']}/tiles/12/{tile.x}/{tile.y}.png"))
    own_x, row = (int(v) for v in imf.tile_pixel(bf.LON0 + 0.015, bf.LAT0 + 0.005, tile))
    other_x, _ = (int(v) for v in imf.tile_pixel(bf.LON0 + 0.06, bf.LAT0 + 0.005, tile))
    assert 0 <= own_x < other_x < 256 and 0 <= row < 256
    assert whole[row, own_x, 3] == 255 and whole[row, other_x, 3] == 255
    assert seen[row, own_x, 3] == 255 and seen[row, other_x, 3] == 0
    assert tuple(seen[row, own_x, :3]) == tuple(whole[row, own_x, :3])


def test_an_mbtiles_without_bounds_and_a_rotated_world_file(store, db_url, tmp_path):
    import sqlite3

    path, (z, x, y), _ = imf.mbtiles(tmp_path / "无范围.mbtiles", PLACE)
    with sqlite3.connect(path) as db:
        db.execute("DELETE FROM metadata WHERE name IN ('bounds', 'minzoom')")
    assert run(db_url, "imagery", "import", str(path), "--date", "2023-06-01").exit_code == 0
    west, south, east, north = list_imagery(store)[0]["bounds"]
    assert west < PLACE[0] < east and south < PLACE[1] < north and list_imagery(store)[0]["min_zoom"] == z
    rotated = imf.square_geotiff(tmp_path / "旋转.jpg", None, PLACE, size=64, coords_crs="EPSG:4524", driver="JPEG")
    world = rotated.with_suffix(".wld")
    lines = world.read_text().split()
    world.write_text("\n".join([lines[0], "0.1", "0.1", *lines[3:]]))
    refused = run(db_url, "--lang", "zh", "imagery", "import", str(rotated), "--date", "2023-06-01")
    assert refused.exit_code == 2 and "旋转" in refused.output and "gdalwarp" in refused.output
