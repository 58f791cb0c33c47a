"""How a delivery was read (its encoding, CRS, fields and units) reads Chinese on a page and stays
English in scripts: the decisions of an import report, the CRS and encoding reasons, the import
page's 坐标系依据, and CRS errors raised inside core and re-wrapped."""

from __future__ import annotations

import json
import pickle
import re
import zipfile
from datetime import date

import numpy as np
import pytest
import shapely
from pyproj import CRS

import bureau_files as bf
from test_chinese_pages import PASSWORD, client_for, english_words
from geo_tracker.catalogue import Note, text_of
from geo_tracker.core.crs import decide_crs, gauss_kruger_epsg, infer_crs
from geo_tracker.core.geometry import normalise_polygons
from geo_tracker.errors import CRSDetectionError
from geo_tracker.services import accounts
from geo_tracker.services.batch_import import ImportOptions, import_batch

#: Latin words a Chinese decision may show besides field and file names: formats and codes.
ALLOWED = {"cgcs2000", "epsg", "ascii", "utf-8", "gbk", "gb18030", "txt", "jcbh", "jcmj", "gdmj"}
WORD = re.compile(r"[A-Za-z][A-Za-z0-9_-]{3,}")
#: The decisions the import page shows, by key.
SHOWN = ("profile", "patch_code", "issued_area", "cultivated_area")


def options(**kw) -> ImportOptions:
    return ImportOptions(**{**dict(source="natural-resources", batch="2023年第2批", issued_on=date(2023, 6, 30)),
                            **kw})


def latin_words(text: str, *names: str) -> list[str]:
    """Words of 4+ Latin letters a reader sees in ``text``, once the given field and file names are
    taken out (upper-case codes such as EPSG, GBK and field names like JCBH are fine)."""
    for name in sorted(names, key=len, reverse=True):
        text = text.replace(name, " ")
    return [w for w in WORD.findall(text) if w.lower() not in ALLOWED and not w.isupper()]


def assert_chinese(value, *names: str) -> str:
    """``value`` is a catalogue note: its Chinese reads Chinese, its str() is its English."""
    assert isinstance(value, Note), repr(value)
    zh = value.text("zh", "web")
    assert re.search(r"[\u4e00-\u9fff]", zh), zh
    assert latin_words(zh, *names) == [], zh
    assert "--" not in zh, zh
    assert str(value) == value.text("en", "cli")
    return zh


def test_a_gbk_shapefile_without_cpg_or_prj_says_how_it_was_read_in_both_languages(store, tmp_path):
    shp = bf.weipian_gbk_noprj(tmp_path)
    report = import_batch(store, shp, options())
    assert report.encoding == "GBK"
    assert str(report.encoding_reason) == "no .cpg; all 11 non-ASCII texts decode as GBK"
    assert assert_chinese(report.encoding_reason) == "无.cpg文件；全部11个非ASCII文字均可按GBK解码"
    assert str(report.crs_reason).startswith("eastings carry zone prefix 35")
    assert "第35带" in assert_chinese(report.crs_reason)

    fields = report.fields
    assert str(fields["profile"]) == "weipian: 卫片执法 (natural-resources satellite enforcement)"
    assert fields["profile"].text("zh", "web") == "卫片执法"
    assert str(fields["patch_code"]) == "from field JCBH"
    assert assert_chinese(fields["patch_code"], "JCBH") == "取自字段JCBH"
    assert str(fields["issued_area"]).startswith("JCMJ in 亩: values match the computed areas (median ratio")
    assert assert_chinese(fields["issued_area"], "JCMJ").startswith("JCMJ按亩计：数值与计算面积相符（中位比值")
    assert str(fields["cultivated_area"]) == "from field GDMJ in 亩"
    assert assert_chinese(fields["cultivated_area"], "GDMJ") == "取自字段GDMJ，按亩计"

    # A page gets them in Chinese; scripts and the stored report in English, as before.
    chinese = report.to_dict("zh", "web")
    assert chinese["encoding_reason"] == "无.cpg文件；全部11个非ASCII文字均可按GBK解码"
    assert chinese["fields"]["patch_code"] == "取自字段JCBH"
    english = json.loads(json.dumps(report.to_dict()))
    assert english["encoding_reason"] == "no .cpg; all 11 non-ASCII texts decode as GBK"
    assert english["fields"]["cultivated_area"] == "from field GDMJ in 亩"
    again = pickle.loads(pickle.dumps(report.fields["issued_area"]))
    assert again == report.fields["issued_area"] and again.text("zh") == fields["issued_area"].text("zh")


def test_repairs_and_wrong_geometry_types_read_chinese():
    bowtie = shapely.Polygon([(106.50, 29.80), (106.51, 29.81), (106.51, 29.80), (106.50, 29.81)])
    checked = normalise_polygons([bowtie, shapely.Point(106.5, 29.8)])
    repaired = checked.flags[0]["repaired"]
    assert str(repaired).startswith("Self-intersection[")
    assert repaired.text("zh").startswith("图形无效（自相交[")
    assert str(checked.problems[1]) == "is a Point, not a polygon: only polygon patches can be imported"
    assert checked.problems[1].text("zh") == "是点，不是面：只能导入面状图斑"


def test_a_wrong_cpg_an_encoding_given_and_a_declared_unit_say_so(store, tmp_path):
    shp = bf.weipian_gbk_noprj(tmp_path)
    shp.with_suffix(".cpg").write_text("UTF-8", encoding="ascii")
    report = import_batch(store, shp, options(dry_run=True, area_unit="m2", cultivated_field=""))
    assert str(report.encoding_reason).startswith(f"{shp.stem}.cpg says UTF-8, but the text is not UTF-8")
    zh = assert_chinese(report.encoding_reason, shp.stem)
    assert zh.startswith(f"{shp.stem}.cpg声明为UTF-8，但文字并非UTF-8编码") and zh.endswith("按GBK解码")
    assert str(report.fields["issued_area"]) == "JCMJ in 平方米 (declared)"
    assert assert_chinese(report.fields["issued_area"], "JCMJ") == "JCMJ按平方米计（已指定）"
    declined = report.fields["cultivated_area"]
    assert str(declined) == "none: declared with --cultivated-field ''"
    assert declined.text("zh", "web") == "无：已声明成果不含耕地面积字段"

    given = import_batch(store, shp, options(dry_run=True, encoding="GB18030"))
    assert given.encoding_reason == "given with --encoding"
    assert assert_chinese(given.encoding_reason) == "按指定的编码"


def test_generated_codes_name_the_option_on_the_cli_and_the_bureau_on_a_page(store, tmp_path):
    frame = bf.canonical_patches().drop(columns=["JCBH"])
    shp = bf.write_shapefile(frame, tmp_path / "无编号.shp", crs=4523, keep_prj=False, keep_cpg=False)
    report = import_batch(store, shp, options(dry_run=True))
    decision = report.fields["patch_code"]
    assert str(decision) == "no patch-code field found: codes generated: use --id-field"
    page = assert_chinese(decision, "JCBH")
    assert page.startswith("未找到图斑编号字段：已自动生成编号：") and "县局" in page
    assert "--id-field" in decision.text("zh", "cli")
    assert report.fields["profile"].text("zh") == "通用（未识别出已知的字段方案）"


def test_a_forestry_file_with_its_prj_names_its_crs_in_chinese(store, tmp_path):
    shp = bf.forestry_shapefile(tmp_path, keep_prj=True)
    report = import_batch(store, shp, options(source="forestry", batch="2023年森林督查", dry_run=True))
    assert report.crs == "EPSG:4544"
    assert str(report.crs_reason) == "from the file (EPSG:4544, CGCS2000 / 3-degree Gauss-Kruger CM 105E)"
    assert assert_chinese(report.crs_reason) == "按文件自带坐标系（EPSG:4544，CGCS2000 3°带高斯-克吕格投影（中央经线105°E））"
    assert report.fields["profile"].text("zh") == "森林督查"
    assert assert_chinese(report.fields["patch_code"], "图斑号") == "取自字段图斑号"
    assert assert_chinese(report.fields["issued_area"]).startswith("面积按公顷计")
    assert assert_chinese(report.fields["cultivated_area"]) == "无耕地面积字段"


def test_zuobiao_files_say_their_encodings_and_codes_from_file_names(store, tmp_path):
    single = import_batch(store, bf.zuobiao_zip_fid0(tmp_path), options(dry_run=True))
    assert str(single.encoding_reason) == "坐标txt decoded as gb18030"
    assert assert_chinese(single.encoding_reason) == "坐标txt按gb18030解码"
    codes = single.fields["patch_code"]
    assert str(codes) == ("from field 地块号; 3 codes taken from the file names "
                          "(地块号 a placeholder or repeated across files)")
    assert assert_chinese(codes) == "取自字段地块号；其中3个编号取自文件名（地块号为占位值或在多个文件中重复）"
    assert assert_chinese(single.fields["issued_area"]) == "取自字段地块面积（除数值注明单位外按公顷计）"

    # Files in different encodings and zones: the reasons list each file's.
    archive = tmp_path / "两种编码.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for k, (name, codec, zone) in enumerate([("甲村.txt", "utf-8", 35), ("乙村.txt", "gb18030", 36)]):
            ring = bf.gk_square(zone * 1e6 + 512000.0, 3307000.0, 50.0)
            z.writestr(name, bf.zuobiao_text([(f"DK00{k + 1}", 0.25, ring)]).encode(codec))
    mixed = import_batch(store, archive, options(batch="2024年报部", dry_run=True))
    assert mixed.encoding == "GB18030/UTF-8"   # the files in the order of their names
    assert str(mixed.encoding_reason) == "乙村.txt: GB18030; 甲村.txt: UTF-8"
    assert assert_chinese(mixed.encoding_reason, "甲村.txt", "乙村.txt") == "乙村.txt：GB18030；甲村.txt：UTF-8"
    assert str(mixed.crs_reason).startswith("乙村.txt: EPSG:4524 (eastings carry zone prefix 36: ")
    zh = assert_chinese(mixed.crs_reason, "甲村.txt", "乙村.txt")
    assert zh.startswith("乙村.txt：EPSG:4524（横坐标带号为36：") and "；甲村.txt：EPSG:4523（横坐标带号为35：" in zh


def test_a_crs_zone_contradiction_reads_fully_chinese():
    x, y = np.array([12_512_000.0, 12_512_300.0]), np.array([3_307_000.0, 3_307_300.0])
    with pytest.raises(CRSDetectionError) as caught:
        decide_crs(x, y, declared=CRS.from_epsg(4490), source="村界.shp")
    error = caught.value
    english = str(error)
    assert "declares its own CRS EPSG:4490 (China Geodetic Coordinate System 2000)" in english
    assert "easting 12512000.00 starts with zone 12, which is neither a 6° zone" in english
    zh = text_of(error, "zh", "web")
    assert zh.startswith("村界.shp声明自带坐标系EPSG:4490（CGCS2000经纬度坐标系），但其坐标")
    assert "带号为12，既不是我国的6°带（13–23），也不是3°带（25–45）" in zh
    assert latin_words(zh, "村界.shp") == [] and "--" not in zh

    # A central meridian China has none of, given by the office: the reason travels into the error.
    x6, y6 = np.array([512_000.0, 512_300.0]), np.array([3_307_000.0, 3_307_300.0])
    with pytest.raises(CRSDetectionError) as caught:
        decide_crs(x6, y6, declared=CRS.from_epsg(4490), central_meridian=100, source="图斑.shp")
    zh = text_of(caught.value, "zh", "web")
    assert "中央经线100不是我国75–135°E之间每3°一条的中央经线之一" in zh
    assert latin_words(zh, "图斑.shp") == [] and "--" not in zh
    assert "central meridian 100 is not one of China's 75–135°E every 3°" in str(caught.value)
    with pytest.raises(CRSDetectionError) as caught:
        infer_crs(x6, y6, central_meridian=100)
    assert "--central-meridian" in str(caught.value) and "--" not in text_of(caught.value, "zh", "web")

    with pytest.raises(ValueError) as caught:
        gauss_kruger_epsg(zone=50)
    assert str(caught.value) == "zone 50 is neither a 6° zone (13–23) nor a 3° zone (25–45) of China"
    assert text_of(caught.value, "zh") == "带号50既不是我国的6°带（13–23），也不是3°带（25–45）"


def test_a_geographic_prj_on_metres_names_the_likely_crs_in_chinese(store, tmp_path):
    shp = bf.write_shapefile(bf.canonical_patches(), tmp_path / "声明经纬度.shp", crs=4523, keep_cpg=False)
    shp.with_suffix(".prj").write_text(CRS.from_epsg(4490).to_wkt("WKT1_ESRI"), encoding="ascii")
    with pytest.raises(CRSDetectionError) as caught:
        import_batch(store, shp, options(dry_run=True))
    zh = text_of(caught.value, "zh", "web")
    assert "坐标与EPSG:4523相符（横坐标带号为35" in zh
    assert latin_words(zh, shp.name) == [] and "--" not in zh


@pytest.fixture
def liaison(store):
    accounts.add_user(store, "lianluo", PASSWORD, "liaison", ["*"], display_name="联络员小王")
    client, csrf = client_for(store, "lianluo")
    return client, csrf


def test_the_import_page_shows_how_the_delivery_was_read_in_chinese(liaison, tmp_path):
    client, csrf = liaison
    archive = bf.weipian_zip_subfolder(tmp_path)
    form = {"csrf_token": csrf, "source": "natural-resources", "batch": "2023年第2批", "issued_on": "2023-06-30"}
    checked = client.post("/import", data=form, files=[("file", (archive.name, archive.read_bytes(),
                                                                  "application/zip"))])
    assert checked.status_code == 200, checked.text
    page = checked.text
    assert "坐标系依据" in page and "编码依据" in page
    for label in ("编号字段", "下发面积字段", "耕地面积字段"):
        assert label in page
    reason = re.search(r'id="import-crs-reason">([^<]*)<', page).group(1)
    assert reason.startswith("横坐标带号为35：CGCS2000 3°高斯-克吕格投影第35带")
    encoding = re.search(r'id="import-encoding-reason">([^<]*)<', page).group(1)
    assert encoding == "无.cpg文件；全部11个非ASCII文字均可按GBK解码"
    assert re.search(r'data-decision="patch_code">取自字段JCBH<', page)
    assert english_words(page) == []

    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    done = client.post("/import/confirm", data={"csrf_token": csrf, "token": token})
    assert done.status_code == 200, done.text
    assert "坐标系依据" in done.text and english_words(done.text) == []

    english = client.post("/import?lang=en", data={**form, "batch": "2023年第3批"},
                          files=[("file", (archive.name, archive.read_bytes(), "application/zip"))])
    assert "CRS decided by" in english.text and "eastings carry zone prefix 35" in english.text
