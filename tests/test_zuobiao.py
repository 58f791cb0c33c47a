"""The 坐标txt (报部格式) parser reads every variant writers produce, in GIS axis order."""

from __future__ import annotations

import math
import time
from pathlib import Path

import pytest
import shapely

from geo_tracker.errors import InputFileError, ZuobiaoFormatError
from geo_tracker.io.readers.zuobiao import (
    ZuobiaoFile,
    ZuobiaoParcel,
    looks_like_zuobiao,
    parse_zuobiao,
)

FIXTURES = Path(__file__).parent / "fixtures" / "zuobiao"

SHILONG_FIRST_VERTEX = (35512345.67, 3307123.45)
HEADER = "\n".join([
    "[属性描述]",
    "坐标系=2000国家大地坐标系",
    "几度分带=3",
    "投影类型=高斯克吕格",
    "计量单位=米",
    "带号=35",
])


def parse_fixture(name: str) -> ZuobiaoFile:
    path = FIXTURES / name
    return parse_zuobiao(path.read_bytes(), path=str(path))


def parse_lines(*lines: str, header: bool = True) -> ZuobiaoFile:
    text = (HEADER + "\n" if header else "") + "\n".join(lines) + "\n"
    return parse_zuobiao(text.encode("utf-8"), path="inline.txt")


def rect_lines(e: float, n: float, width: float, height: float, label: int = 1,
               *, easting_first: bool = False, closed: bool = True) -> list[str]:
    corners = [(e, n), (e + width, n), (e + width, n + height), (e, n + height)]
    if closed:
        corners.append((e, n))
    pairs = [(x, y) if easting_first else (y, x) for x, y in corners]
    return [f"J{i},{label},{a:.2f},{b:.2f}" for i, (a, b) in enumerate(pairs, start=1)]


def only_parcel(parsed: ZuobiaoFile) -> ZuobiaoParcel:
    assert len(parsed.parcels) == 1
    return parsed.parcels[0]


def one_rectangle(header_line: str) -> ZuobiaoParcel:
    """A 40 m × 30 m parcel under the given header line."""
    return only_parcel(parse_lines("[地块坐标]", header_line, *rect_lines(35505000, 3310000, 40, 30)))


# --- the canonical file in its three encodings ----------------------------------------


def test_canonical_header_and_attributes():
    parsed = parse_fixture("canonical_utf8.txt")
    assert parsed.encoding == "utf-8"
    assert parsed.axis_order == "northing,easting"
    assert parsed.warnings == []
    assert parsed.header["坐标系"] == "2000国家大地坐标系"
    assert parsed.header["几度分带"] == "3"
    assert parsed.header["带号"] == "35"
    assert parsed.header["转换参数"] == ",,,,,,"
    assert len(parsed.header) == 10

    first, second = parsed.parcels
    assert (first.line_no, first.parcel_no, first.shape_kind) == (13, "1", "面")
    assert first.name == "石龙村违法占地"
    assert (first.declared_points, first.points_counted) == (11, 11)
    assert (first.area, first.area_unit) == (0.55, "ha")
    assert (first.sheet_no, first.use, first.land_class) == ("H48G013045", "", "0101")
    assert first.extra == {}
    assert first.warnings == []
    assert (second.line_no, second.parcel_no, second.land_class) == (25, "2", "0103")
    assert second.name == "新华村临时用地"
    assert (second.declared_points, second.points_counted, second.area) == (5, 5, 0.2)


def test_canonical_hole_given_as_ring_2_is_an_interior():
    first, second = parse_fixture("canonical_utf8.txt").parcels
    geometry = first.geometry
    assert isinstance(geometry, shapely.MultiPolygon)
    assert len(geometry.geoms) == 1
    polygon = geometry.geoms[0]
    assert polygon.exterior.coords[0] == SHILONG_FIRST_VERTEX
    assert polygon.exterior.coords[3] == (35512385.67, 3307203.45)
    assert len(polygon.interiors) == 1
    assert shapely.Polygon(polygon.interiors[0]).area == pytest.approx(100.0, abs=1e-4)
    assert polygon.area == pytest.approx(5500.0, abs=1e-3)
    assert geometry.bounds == pytest.approx((35512345.67, 3307123.45, 35512425.67, 3307203.45))

    assert isinstance(second.geometry, shapely.MultiPolygon)
    assert second.geometry.geoms[0].exterior.coords[0] == (35498210.30, 3312456.80)
    assert second.geometry.area == pytest.approx(2000.0, abs=1e-3)


@pytest.mark.parametrize(
    ("name", "encoding"),
    [("canonical_gb18030_crlf.txt", "gb18030"), ("canonical_utf8_bom.txt", "utf-8-sig")],
)
def test_other_encodings_read_the_same(name, encoding):
    reference = parse_fixture("canonical_utf8.txt")
    parsed = parse_fixture(name)
    assert parsed.encoding == encoding
    assert parsed.header == reference.header
    assert parsed.warnings == []
    for got, want in zip(parsed.parcels, reference.parcels, strict=True):
        assert (got.line_no, got.parcel_no, got.name, got.area, got.land_class) == (
            want.line_no, want.parcel_no, want.name, want.area, want.land_class
        )
        assert got.geometry.equals_exact(want.geometry, tolerance=0)
        assert got.warnings == []


def test_encoding_override():
    data = (FIXTURES / "canonical_gb18030_crlf.txt").read_bytes()
    assert parse_zuobiao(data, encoding="gb18030").parcels[0].name == "石龙村违法占地"
    with pytest.raises(ZuobiaoFormatError, match="cannot decode"):
        parse_zuobiao(data, path="g.txt", encoding="utf-8")


# --- 界址点数 and the header columns -----------------------------------------------------


def test_declared_points_off_by_one_is_accepted_and_a_mismatch_warned():
    parcels = parse_fixture("point_counts.txt").parcels
    assert [p.declared_points for p in parcels] == [4, 5, 6, 12, 10]
    assert [p.points_counted for p in parcels] == [5, 5, 5, 5, 8]
    for quiet in (parcels[0], parcels[1], parcels[2], parcels[4]):
        assert quiet.warnings == []
    (warning,) = parcels[3].warnings
    assert "line 31" in warning
    assert "界址点数 12" in warning
    assert "5 coordinate lines" in warning
    assert parcels[3].geometry.area == pytest.approx(1200.0, abs=1e-3)


def test_two_open_rings_numbered_1_and_2_make_a_polygon_with_a_hole():
    parcel = parse_fixture("point_counts.txt").parcels[4]
    (polygon,) = parcel.geometry.geoms
    assert len(polygon.interiors) == 1
    assert polygon.area == pytest.approx(1100.0, abs=1e-3)


def test_missing_point_count_column():
    first, second = parse_fixture("no_count_column.txt").parcels
    assert first.declared_points is None
    assert (first.area, first.parcel_no, first.shape_kind) == (0.55, "1", "面")
    assert first.name == "石龙村违法占地"
    assert (first.sheet_no, first.land_class) == ("H48G013045", "0101")
    assert first.warnings == []
    assert first.geometry.area == pytest.approx(5500.0, abs=1e-3)
    assert second.declared_points is None
    assert second.land_class == "0103"


def test_empty_point_count_gives_none_without_warning():
    parcel = one_rectangle(",0.12,1,空界址点数,面,,,0101,@")
    assert parcel.declared_points is None
    assert parcel.warnings == []


def test_area_units_in_the_value():
    parcels = parse_fixture("area_units.txt").parcels
    assert [(p.area, p.area_unit) for p in parcels] == [
        (0.7655, "ha"), (11.48, "mu"), (7655.0, "m2")
    ]
    assert all(p.warnings == [] for p in parcels)
    assert parcels[0].geometry.area == pytest.approx(7655.0, abs=1e-3)


@pytest.mark.parametrize(
    ("text", "area", "unit"),
    [
        ("1.5", 1.5, "ha"), ("1.5ha", 1.5, "ha"), ("22.5 亩", 22.5, "mu"),
        ("300㎡", 300.0, "m2"), ("300m2", 300.0, "m2"),
    ],
)
def test_area_unit_spellings(text, area, unit):
    parcel = one_rectangle(f"5,{text},1,地块,面,,,0101,@")
    assert (parcel.area, parcel.area_unit) == (area, unit)


def test_unknown_area_unit_is_warned_and_dropped():
    parcel = one_rectangle("5,3平方公里,1,地块,面,,,0101,@")
    assert parcel.area is None
    assert len(parcel.warnings) == 1 and "地块面积 '3平方公里'" in parcel.warnings[0]


def test_13_field_variant_and_extension_section():
    parsed = parse_fixture("tudi_zhengzhi_13field.txt")
    assert parsed.encoding == "gb18030"
    first, second = parsed.parcels
    assert (first.parcel_no, first.use, first.land_class) == ("TZ2023-001", "耕地", "0103")
    assert first.name == "柳荫镇东升村高标准农田"
    assert first.extra == {
        "图斑类型": "提质改造",
        "地类": "旱地",
        "改造前质量等别": "10",
        "改造后质量等别": "8",
        "备注": "旱改水已完工，待验收",
    }
    assert second.extra == {"图斑类型": "复垦", "地类": "水田", "改造前质量等别": "", "改造后质量等别": "9", "备注": ""}
    assert first.geometry.area == pytest.approx(6000.0, abs=1e-3)
    assert second.points_counted == 5
    assert parsed.header["扩展信息.项目名称"] == "北碚区柳荫镇土地综合整治项目"
    assert parsed.header["带号"] == "35"


def test_trailing_spaces_after_the_at_sign():
    parcel = one_rectangle("5,0.12,1,地块,面,H48G013045,,0101,@   ")
    assert (parcel.land_class, parcel.sheet_no, parcel.extra) == ("0101", "H48G013045", {})


# --- rings: hole or part by containment, never by 圈号 --------------------------------------


def test_ring_2_outside_ring_1_is_a_separate_part():
    geometry = only_parcel(parse_fixture("separate_part_ring2.txt")).geometry
    assert len(geometry.geoms) == 2
    assert all(len(part.interiors) == 0 for part in geometry.geoms)
    assert sorted(round(part.area, 3) for part in geometry.geoms) == [2200.0, 3000.0]


def test_every_ring_numbered_1():
    parts_parcel, hole_parcel = parse_fixture("all_rings_one.txt").parcels
    assert parts_parcel.points_counted == 10
    assert len(parts_parcel.geometry.geoms) == 2
    assert sorted(round(part.area, 3) for part in parts_parcel.geometry.geoms) == [2000.0, 2500.0]
    assert parts_parcel.warnings == []
    (polygon,) = hole_parcel.geometry.geoms
    assert len(polygon.interiors) == 1
    assert polygon.area == pytest.approx(2400.0, abs=1e-3)


def test_hole_listed_before_its_outer_ring():
    parcel = only_parcel(parse_lines(
        "[地块坐标]",
        "10,0.24,1,地块,面,,,0101,@",
        *rect_lines(35505010, 3310010, 10, 10, label=1),
        *rect_lines(35505000, 3310000, 50, 50, label=2),
    ))
    (polygon,) = parcel.geometry.geoms
    assert polygon.exterior.coords[0] == (35505000.0, 3310000.0)
    assert len(polygon.interiors) == 1
    assert polygon.area == pytest.approx(2400.0, abs=1e-3)


def test_island_inside_a_hole_is_a_separate_part():
    parcel = only_parcel(parse_lines(
        "[地块坐标]",
        "15,0.2,1,地块,面,,,0101,@",
        *rect_lines(35505000, 3310000, 100, 100, label=1),
        *rect_lines(35505020, 3310020, 60, 60, label=2),
        *rect_lines(35505040, 3310040, 20, 20, label=3),
    ))
    parts = sorted(parcel.geometry.geoms, key=lambda p: p.area)
    assert len(parts) == 2
    assert parts[0].area == pytest.approx(400.0, abs=1e-3)
    assert len(parts[1].interiors) == 1
    assert parts[1].area == pytest.approx(10000.0 - 3600.0, abs=1e-3)


def test_open_ring_is_closed_in_a_messy_file():
    parsed = parse_fixture("open_ring_messy.txt")
    assert parsed.header == {}
    assert parsed.encoding == "utf-8"
    parcel = only_parcel(parsed)
    assert (parcel.line_no, parcel.parcel_no, parcel.land_class) == (2, "3", "0101")
    assert parcel.name == "蔡家岗街道嘉德村硬化"
    assert (parcel.declared_points, parcel.points_counted) == (4, 4)
    assert parcel.warnings == []
    coords = list(parcel.geometry.geoms[0].exterior.coords)
    assert len(coords) == 5
    assert coords[0] == coords[-1] == (35506000.0, 3309500.0)
    assert coords[1] == (35506040.0, 3309500.0)
    assert parcel.geometry.area == pytest.approx(1200.0, abs=1e-3)


def test_degenerate_ring_gives_no_geometry_and_a_warning():
    first, second = parse_lines(
        "[地块坐标]",
        "3,0.1,1,退化地块,面,,,0101,@",
        "J1,1,3310000.00,35505000.00",
        "J2,1,3310010.00,35505000.00",
        "J3,1,3310000.00,35505000.00",
        "5,0.12,2,正常地块,面,,,0101,@",
        *rect_lines(35505100, 3310000, 40, 30),
    ).parcels
    assert first.geometry is None
    assert first.points_counted == 3
    (warning,) = first.warnings
    assert "fewer than 3 distinct points" in warning and "line 8" in warning and "退化地块" in warning
    assert second.geometry.area == pytest.approx(1200.0, abs=1e-3)


def test_parcel_without_points_is_warned():
    first, _ = parse_lines(
        "[地块坐标]",
        "0,0.1,1,空地块,面,,,0101,@",
        "5,0.12,2,地块,面,,,0101,@",
        *rect_lines(35505100, 3310000, 40, 30),
    ).parcels
    assert first.geometry is None
    assert first.points_counted == 0
    assert first.warnings == ["line 8: parcel 1 (空地块) has no coordinate lines"]


# --- axis order ----------------------------------------------------------------------------


def test_swapped_columns_are_detected():
    reference = parse_fixture("canonical_utf8.txt").parcels[0].geometry
    parsed = parse_fixture("swapped_columns.txt")
    assert parsed.axis_order == "easting,northing"
    assert len(parsed.warnings) == 1 and "swapped" in parsed.warnings[0]
    geometry = only_parcel(parsed).geometry
    assert geometry.geoms[0].exterior.coords[0] == SHILONG_FIRST_VERTEX
    assert geometry.equals_exact(reference, tolerance=0)
    assert geometry.area == pytest.approx(5500.0, abs=1e-3)


def test_eastings_without_zone_prefix():
    parsed = parse_fixture("no_zone_prefix.txt")
    assert parsed.axis_order == "northing,easting"
    assert parsed.warnings == []
    assert parsed.header["带号"] == "35"
    geometry = only_parcel(parsed).geometry
    assert geometry.geoms[0].exterior.coords[0] == (512345.67, 3307123.45)
    assert geometry.bounds == pytest.approx((512345.67, 3307123.45, 512425.67, 3307203.45))
    assert geometry.area == pytest.approx(5500.0, abs=1e-3)


def test_swapped_columns_without_zone_prefix():
    parsed = parse_lines(
        "[地块坐标]",
        "5,0.12,1,地块,面,,,0101,@",
        *rect_lines(505000, 3310000, 40, 30, easting_first=True),
    )
    assert parsed.axis_order == "easting,northing"
    assert only_parcel(parsed).geometry.geoms[0].exterior.coords[1] == (505040.0, 3310000.0)


def test_lat_lon_file():
    parsed = parse_fixture("lonlat.txt")
    assert parsed.axis_order == "lat,lon"
    assert parsed.warnings == []
    assert parsed.header["计量单位"] == "度"
    geometry = only_parcel(parsed).geometry
    assert geometry.geoms[0].exterior.coords[0] == (106.4521478, 29.8632141)
    assert geometry.bounds == pytest.approx((106.4521478, 29.8632141, 106.4531478, 29.8641141))
    assert geometry.area == pytest.approx(0.001 * 0.0009, rel=1e-6)


def test_lon_lat_file_is_read_with_a_warning():
    parsed = parse_lines(
        "[地块坐标]",
        "4,0.9,1,地块,面,,,0101,@",
        "J1,1,106.4521478,29.8632141",
        "J2,1,106.4531478,29.8632141",
        "J3,1,106.4531478,29.8641141",
        "J4,1,106.4521478,29.8641141",
    )
    assert parsed.axis_order == "lon,lat"
    assert len(parsed.warnings) == 1 and "lon,lat" in parsed.warnings[0]
    assert only_parcel(parsed).geometry.geoms[0].exterior.coords[2] == (106.4531478, 29.8641141)


def test_mixed_axis_orders_are_refused():
    expected = r"not in the same order.*first at line 9.*first at line 14"
    with pytest.raises(ZuobiaoFormatError, match=expected):
        parse_lines(
            "[地块坐标]",
            "5,0.12,1,地块,面,,,0101,@",
            *rect_lines(35505000, 3310000, 40, 30),
            *rect_lines(35505100, 3310000, 40, 30, label=2, easting_first=True),
        )


def test_magnitudes_that_decide_nothing_fall_back_to_the_spec_order():
    parsed = parse_lines(
        "[地块坐标]", "4,0.1,1,地块,面,,,0101,@",
        "J1,1,300.0,500.0", "J2,1,300.0,540.0", "J3,1,330.0,540.0", "J4,1,330.0,500.0",
    )
    assert parsed.axis_order == "northing,easting"
    assert len(parsed.warnings) == 1 and "do not reveal" in parsed.warnings[0]
    assert only_parcel(parsed).geometry.geoms[0].exterior.coords[0] == (500.0, 300.0)


# --- records that are not patches, and files that cannot be read --------------------------------


def test_line_record_has_no_geometry():
    line, patch = parse_fixture("line_record.txt").parcels
    assert line.shape_kind == "线"
    assert line.geometry is None
    assert line.points_counted == 3
    assert line.area is None
    assert line.warnings == ["line 13: parcel 1 (静观镇素心村排水沟) is a 线 record, not a polygon patch"]
    assert patch.shape_kind == "面"
    assert patch.geometry.area == pytest.approx(1200.0, abs=1e-3)
    assert patch.warnings == []


def test_missing_coordinate_section():
    path = FIXTURES / "missing_coord_section.txt"
    with pytest.raises(ZuobiaoFormatError) as caught:
        parse_zuobiao(path.read_bytes(), path=str(path))
    assert isinstance(caught.value, InputFileError)
    message = str(caught.value)
    assert str(path) in message
    assert "[地块坐标]" in message and "missing" in message


def test_bad_number_names_path_line_and_text():
    with pytest.raises(ZuobiaoFormatError) as caught:
        parse_fixture("bad_number.txt")
    message = str(caught.value)
    assert "bad_number.txt line 16" in message
    assert "35512425.6O" in message


def test_empty_coordinate_section():
    with pytest.raises(ZuobiaoFormatError, match=r"inline\.txt.*has no parcels"):
        parse_lines("[地块坐标]", "", "   ")


def test_point_before_any_parcel_header():
    with pytest.raises(ZuobiaoFormatError, match=r"inline\.txt line 8: point line"):
        parse_lines("[地块坐标]", "J1,1,3310000.00,35505000.00")


def test_unrecognised_line_in_coordinate_section():
    with pytest.raises(ZuobiaoFormatError, match=r"line 9: .*neither a parcel header"):
        parse_lines("[地块坐标]", "5,0.12,1,地块,面,,,0101,@", "J1,1,3310000.00")


def test_non_finite_coordinate_is_refused():
    with pytest.raises(ZuobiaoFormatError, match="line 9"):
        parse_lines("[地块坐标]", "5,0.12,1,地块,面,,,0101,@", "J1,1,nan,35505000.00")


# --- sniffing and speed ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["canonical_utf8.txt", "canonical_gb18030_crlf.txt", "canonical_utf8_bom.txt",
             "open_ring_messy.txt", "missing_coord_section.txt"],
)
def test_looks_like_zuobiao_on_fixtures(name):
    assert looks_like_zuobiao((FIXTURES / name).read_bytes()) is True


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b'{"type": "FeatureCollection", "features": []}',
        "编号,名称,X,Y\n1,石龙村,3307123.45,35512345.67\n".encode("gb18030"),
        b"\x00\x00\x27\x0a" + bytes(96),
    ],
)
def test_looks_like_zuobiao_rejects_other_files(data):
    assert looks_like_zuobiao(data) is False


def test_fifty_thousand_points_parse_quickly():
    lines = ["[地块坐标]"]
    for p in range(500):
        lines.append(f"100,0.3,{p + 1},地块{p + 1},面,,,0101,@")
        east, north = 35500000.0 + 300 * p, 3305000.0
        for i in range(100):
            angle = 2 * math.pi * i / 100
            x, y = north + 100 * math.sin(angle), east + 100 * math.cos(angle)
            lines.append(f"J{i + 1},1,{x:.2f},{y:.2f}")
    data = "\n".join(lines).encode("utf-8")
    started = time.perf_counter()
    parsed = parse_zuobiao(data)
    elapsed = time.perf_counter() - started
    assert len(parsed.parcels) == 500
    assert sum(p.points_counted for p in parsed.parcels) == 50_000
    assert all(p.warnings == [] for p in parsed.parcels)
    assert parsed.parcels[-1].geometry.area == pytest.approx(math.pi * 100**2, rel=1e-2)
    assert elapsed < 1.0
