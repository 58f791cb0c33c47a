"""The error message catalogue: every key used exists, every entry is bilingual and well formed,
and real errors read Chinese on a page while ``str()`` keeps the English scripts rely on."""

from __future__ import annotations

import ast
import json
import pickle
import re
import string
from pathlib import Path

import pytest

import bureau_files as bf
from geo_tracker.catalogue import Listing, Message, entries, in_language, msg, note
from geo_tracker.errors import UnsupportedFormatError

PACKAGE = Path(__file__).resolve().parents[1] / "geo_tracker"


# --- import side (#19): keys, entries, placeholders, hints, import errors -----------------

#: English words a Chinese text may carry: formats, standards, codes and the like.
ZH_ALLOWED = {
    "geojson", "geopackage", "shapefile", "cgcs2000", "epsg", "wgs84", "dbase", "toml", "spatialite",
    "postgis", "postgresql", "sqlite", "python", "pysqlite3", "debian", "geodatabase", "gdal", "towgs84", "tmerc",
    "proj", "mod_spatialite", "pg_ctlcluster", "shape_restore_shx", "spatialite_library_path", "office", "file", "sqlite3",
}


def _used_keys() -> dict[str, str]:
    """Every literal key passed to msg/note/Message/Note in geo_tracker, with where it is used."""
    used = {}
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id in ("msg", "note", "Message", "Note") and node.args
                    and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                used[node.args[0].value] = f"{path.relative_to(PACKAGE.parent)}:{node.lineno}"
    return used


def _fields(template: str) -> set[str]:
    return {name.split(".")[0].split("[")[0] for _, name, _, _ in string.Formatter().parse(template) if name}


def _visible_words(zh: str) -> list[str]:
    """English words of 4+ letters a reader sees in a Chinese text: placeholders, `commands`,
    --options, file suffixes and EPSG-style codes left out."""
    text = re.sub(r"\{[^}]*\}", " ", zh)
    text = re.sub(r"`[^`]*`", " ", text)
    text = re.sub(r"--[\w-]+", " ", text)
    text = re.sub(r"\.[A-Za-z]{2,8}\b", " ", text)
    text = re.sub(r"\b[\w+.-]+://\S*", " ", text)
    words = re.findall(r"[A-Za-z][A-Za-z0-9_-]{3,}", text)
    return [w for w in words if w.lower().strip("_-") not in ZH_ALLOWED and not w.isupper()]


def test_every_key_used_in_the_code_is_in_the_catalogue():
    used = _used_keys()
    assert len(used) > 150   # the scan finds the keys (a broken scan would pass vacuously)
    missing = {key: where for key, where in used.items() if key not in entries()}
    assert missing == {}


@pytest.mark.parametrize("key", sorted(entries()))
def test_every_entry_is_bilingual_and_well_formed(key):
    entry = entries()[key]
    assert entry.zh.strip() and entry.en.strip()
    assert _fields(entry.zh) == _fields(entry.en), "zh and en must take the same values"
    for interface, (zh, en) in entry.hints.items():
        assert interface in ("cli", "web", "api", "any")
        assert zh.strip() and en.strip()
        assert _fields(zh) == _fields(en), f"the {interface} hint takes other values in zh and en"
        if interface == "web":
            assert "geo-tracker" not in zh + en and "--" not in zh + en, "a page cannot run commands"


@pytest.mark.parametrize("key", sorted(k for k in entries() if k.split(".")[0] in ("imports", "boundaries",
                                                                                  "storage", "config")))
def test_chinese_text_of_the_import_side_reads_chinese(key):
    entry = entries()[key]
    texts = [entry.zh] + [zh for interface, (zh, _) in entry.hints.items() if interface != "cli"]
    if not re.fullmatch(r"[\s{}\w（），、：；。“”]*\{\w+\}[\s（），、：；。“”]*", entry.zh):  # a pure "{x}" wrapper
        assert re.search(r"[\u4e00-\u9fff]", entry.zh), entry.zh
    for text in texts:
        assert _visible_words(text) == [], text
        prose = re.sub(r"“[^”]*”", "", text)      # quoted file content keeps its own commas
        assert not re.search(r"[\u4e00-\u9fff][,:;()][^/\w]", prose), f"half-width punctuation in {text!r}"


def test_the_check_on_chinese_text_can_fail():
    assert _visible_words("{name}不是有效的文件，please check") == ["please", "check"]
    assert _visible_words("请用 --crs 指定EPSG:4490，见`geo-tracker batches list`与{listed}") == []


def test_a_shapefile_without_its_dbf_reads_chinese_on_a_page_and_english_in_scripts(store, tmp_path):
    from geo_tracker.services.batch_import import ImportOptions, import_batch
    from datetime import date

    shp = bf.weipian_gbk_noprj(tmp_path)
    shp.with_suffix(".dbf").unlink()
    with pytest.raises(UnsupportedFormatError) as caught:
        import_batch(store, shp, ImportOptions(source="natural-resources", batch="b", issued_on=date(2023, 6, 30)))
    error = caught.value
    assert str(error) == (f"{shp.name} has no {shp.stem}.dbf beside it: the attribute table (patch codes, areas) "
                          "is missing: ask the bureau to send .shp, .shx, .dbf and .prj together")
    page = error.text("zh", "web")
    assert page == (f"{shp.name}旁边没有{shp.stem}.dbf：缺少属性表（图斑编号、面积）："
                    "请县局将.shp、.shx、.dbf和.prj一并发送")
    assert error.text("en", "api") == str(error)


def test_a_duplicate_delivery_names_the_review_box_on_a_page_and_the_option_on_the_cli(store, tmp_path):
    from datetime import date

    from geo_tracker.errors import DuplicateDeliveryError
    from geo_tracker.services.batch_import import ImportOptions, import_batch

    path = bf.weipian_geojson(tmp_path)
    first = ImportOptions(source="natural-resources", batch="2023年第2批", issued_on=date(2023, 6, 30), user="小王")
    import_batch(store, path, first)
    with pytest.raises(DuplicateDeliveryError) as caught:
        import_batch(store, path, ImportOptions(source="natural-resources", batch="2023年第3批",
                                                issued_on=date(2023, 9, 30)))
    error = caught.value
    assert "is the same delivery (SHA-256 of its content)" in str(error)
    assert str(error).endswith("rerun with --accept-duplicates")
    page = error.text("zh", "web")
    assert "同一份成果" in page and "由小王作为批次“2023年第2批”" in page and "我已核对" in page
    assert "--" not in page and "geo-tracker" not in page
    assert "--accept-duplicates" in error.text("zh", "cli")


def test_report_problems_and_warnings_render_in_chinese_and_stay_english_by_default(store, tmp_path):
    from datetime import date

    from geo_tracker.services.batch_import import ImportOptions, import_batch

    shp = bf.weipian_gbk_noprj(tmp_path)
    shp.with_suffix(".shx").unlink()
    report = import_batch(store, shp, ImportOptions(source="natural-resources", batch="b",
                                                    issued_on=date(2023, 6, 30)))
    english = report.to_dict()
    assert any("no .shx index" in w for w in english["warnings"])
    assert any(p["problem"].startswith("repaired: ") for p in english["problems"])
    chinese = report.to_dict(lang="zh")
    json.dumps(chinese, default=str)
    assert any("缺少.shx索引文件" in w for w in chinese["warnings"])
    assert any(p["problem"].startswith("图形已修复：图形无效（") for p in chinese["problems"])
    assert chinese["accepted"] == english["accepted"] and chinese["batch"] == "b"


def test_a_note_is_its_english_text_and_survives_pickling_and_json():
    warning = note("imports.zuobiao_no_points", line_no=8, parcel=msg("imports.zuobiao_parcel_named",
                                                                      number="1", name="空地块"))
    assert warning == "line 8: parcel 1 (空地块) has no coordinate lines"
    assert warning.text("zh") == "第8行：地块1（空地块）没有坐标行"
    assert json.loads(json.dumps({"w": warning})) == {"w": str(warning)}
    again = pickle.loads(pickle.dumps(warning))
    assert again == warning and again.text("zh") == warning.text("zh")
    assert {warning: 1}[str(warning)] == 1    # dedups and looks up as its English text


def test_lists_join_in_each_language_and_nest_notes():
    shown = Listing([msg("imports.feature_problem", feature=1, code="A", problem=note("imports.geometry_missing")),
                     msg("imports.feature_problem", feature=2, code="B", problem=note("imports.geometry_missing"))])
    error = msg("imports.features_rejected", name="x.shp", count=2, n=2, shown=shown, more="")
    assert str(error).startswith("x.shp: 2 of 2 features cannot be imported: feature 1 (A): empty or missing "
                                 "geometry; feature 2 (B): empty or missing geometry. Nothing was imported")
    assert error.text("zh", "web") == ("x.shp：2个要素中有2个不能导入：第1个要素（A）：图形为空或缺失；"
                                       "第2个要素（B）：图形为空或缺失。未导入任何图斑：请更正文件后重新上传")
    assert in_language({"p": [note("imports.geometry_missing")], "n": 3}, "zh") == {"p": ["图形为空或缺失"], "n": 3}
    assert isinstance(error, Message)
