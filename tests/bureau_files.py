"""Deliveries that look like what bureaus send, written into a test's tmp_path.

One canonical set of patches near 北碚区澄江镇 (Chongqing) goes out in every format
a township receives: a GBK shapefile without .prj or .cpg in a zone-prefixed
Gauss-Krüger CRS, a zipped one with GBK member names in a sub-folder, GeoPackage,
File Geodatabase, GeoJSON, 奥维 KML/KMZ, a 森林督查 shapefile with Chinese field
names and 公顷, and broken ones. Geometries include a hole, a multi-part patch, a
bow-tie self-intersection and a repeated vertex.
"""

from __future__ import annotations

import shutil
import struct
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
import shapely.affinity
from shapely.geometry import MultiPolygon, Polygon

from geo_tracker.core.area import reference_area_m2
from geo_tracker.units import M2_PER_MU

LON0, LAT0 = 106.4300, 29.8300
D = 0.001  # ~100 m in longitude here


def _square(cx, cy, w, h=None):
    h = h or w
    return Polygon([(cx, cy), (cx + w, cy), (cx + w, cy + h), (cx, cy + h), (cx, cy)])


def canonical_patches() -> gpd.GeoDataFrame:
    """Six 卫片执法 patches in EPSG:4490 with realistic attributes (areas in 亩)."""
    geoms = [
        _square(LON0, LAT0, 0.8 * D),                                   # plain
        Polygon(_square(LON0 + 2 * D, LAT0, D).exterior.coords,          # with a hole
                [_square(LON0 + 2.3 * D, LAT0 + 0.3 * D, 0.3 * D).exterior.coords]),
        MultiPolygon([_square(LON0, LAT0 + 2 * D, 0.5 * D),               # two parts
                      _square(LON0 + D, LAT0 + 2 * D, 0.4 * D)]),
        Polygon([(LON0 + 3 * D, LAT0 + 2 * D), (LON0 + 4 * D, LAT0 + 3 * D),  # bow-tie
                 (LON0 + 4 * D, LAT0 + 2 * D), (LON0 + 3 * D, LAT0 + 3 * D),
                 (LON0 + 3 * D, LAT0 + 2 * D)]),
        Polygon([(LON0 + 5 * D, LAT0), (LON0 + 5.6 * D, LAT0), (LON0 + 5.6 * D, LAT0),  # repeated vertex
                 (LON0 + 5.6 * D, LAT0 + 0.7 * D), (LON0 + 5 * D, LAT0 + 0.7 * D), (LON0 + 5 * D, LAT0)]),
        _square(LON0 + 6 * D, LAT0 + 4 * D, 1.5 * D, 0.6 * D),
    ]
    valid = [shapely.make_valid(g) for g in geoms]
    area_mu = [reference_area_m2(g) / M2_PER_MU for g in valid]
    frame = gpd.GeoDataFrame({
        "JCBH": [f"500109{i:04d}" for i in range(1, 7)],
        "XZQDM": ["500109107"] * 6,
        "XZQMC": ["北碚区澄江镇"] * 6,
        # Patch 6 was measured 5 % larger by the bureau: an area deviation to flag.
        "JCMJ": [round(a, 2) for a in area_mu[:5]] + [round(area_mu[5] * 1.05, 2)],
        "GDMJ": [round(a * 0.3, 2) for a in area_mu[:3]] + [0.0, 0.0, round(area_mu[5] * 0.5, 2)],
        "BHLX": ["建房", "建坟", "开路", "搭建农用设施", "乱堆乱放", "建房"],
        "QSX": ["2022-10-01"] * 6,
        "HSX": ["2023-04-01"] * 6,
        "BZ": ["村民自建房屋，未办理用地手续", "", "水泥路面硬化", "大棚", "建筑垃圾", "备注：<b>加急</b>"],
    }, geometry=geoms, crs=4490)
    return frame


def expected_area_mu() -> np.ndarray:
    """Reference (pyproj) geodesic areas of the canonical patches once repaired, in 亩."""
    return np.array([reference_area_m2(shapely.make_valid(g)) / M2_PER_MU
                     for g in canonical_patches().geometry])


def write_shapefile(frame: gpd.GeoDataFrame, path: Path, *, encoding="GBK", crs=None,
                    keep_prj=True, keep_cpg=True) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    out = frame.to_crs(crs) if crs else frame
    pyogrio.write_dataframe(out, path, encoding=encoding, promote_to_multi=False)
    if not keep_prj:
        path.with_suffix(".prj").unlink(missing_ok=True)
    if not keep_cpg:
        path.with_suffix(".cpg").unlink(missing_ok=True)
    return path


def weipian_gbk_noprj(tmp: Path) -> Path:
    """The classic: GBK .dbf, no .cpg, no .prj, CGCS2000 3° zone 35 with the prefix."""
    return write_shapefile(canonical_patches(), tmp / "2023年卫片图斑.shp", crs=4523,
                           keep_prj=False, keep_cpg=False)


class _GBKZipInfo(zipfile.ZipInfo):
    """A member name stored as GBK bytes without the UTF-8 flag, as Windows zip tools in China do."""

    def _encodeFilenameFlags(self):
        return self.filename.encode("gbk"), self.flag_bits & ~0x800


def weipian_zip_subfolder(tmp: Path) -> Path:
    """The same, zipped inside a Chinese-named sub-folder with GBK member names (no UTF-8 flag)."""
    shp = weipian_gbk_noprj(tmp / "src")
    archive = tmp / "澄江镇2023年第2批.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(shp.parent.iterdir()):
            info = _GBKZipInfo("澄江镇/下发图斑/" + f.name)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, f.read_bytes())
    shutil.rmtree(tmp / "src")
    return archive


def weipian_geojson(tmp: Path) -> Path:
    path = tmp / "patches.geojson"
    canonical_patches().to_file(path, driver="GeoJSON")
    return path


def weipian_gpkg(tmp: Path, *, second_polygon_layer=False) -> Path:
    """GeoPackage in 6° zone 18 (EPSG:4496) with a point layer beside the patches."""
    path = tmp / "卫片.gpkg"
    frame = canonical_patches()
    pyogrio.write_dataframe(frame.to_crs(4496), path, layer="tb_2023", promote_to_multi=True)
    points = gpd.GeoDataFrame({"name": ["照片点"]}, geometry=[shapely.Point(LON0, LAT0)], crs=4490)
    pyogrio.write_dataframe(points, path, layer="photo_points", append=True)
    if second_polygon_layer:
        pyogrio.write_dataframe(frame.iloc[:2], path, layer="tb_2022", append=True, promote_to_multi=True)
    return path


def weipian_gdb(tmp: Path, *, zipped=False) -> Path:
    path = tmp / "卫片2023.gdb"
    pyogrio.write_dataframe(canonical_patches(), path, layer="WPTB", driver="OpenFileGDB",
                            promote_to_multi=True)
    if not zipped:
        return path
    archive = tmp / "卫片2023.gdb.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(path.rglob("*")):
            zf.write(f, f"卫片2023.gdb/{f.relative_to(path)}")
    shutil.rmtree(path)
    return archive


def ovital_kml(tmp: Path, *, kmz=False, only_points=False) -> Path:
    """A KML as 奥维互动地图 exports it: folders, <name>, <description>, ExtendedData, Z values."""
    frame = canonical_patches().iloc[[0, 1, 5]]
    placemarks = []
    for code, desc, geom in zip(frame.JCBH, frame.BZ, frame.geometry):
        ring = " ".join(f"{x:.8f},{y:.8f},0" for x, y in geom.exterior.coords)
        holes = "".join(
            "<innerBoundaryIs><LinearRing><coordinates>"
            + " ".join(f"{x:.8f},{y:.8f},0" for x, y in h.coords)
            + "</coordinates></LinearRing></innerBoundaryIs>" for h in geom.interiors)
        shape = (f"<Point><coordinates>{geom.centroid.x:.8f},{geom.centroid.y:.8f},0</coordinates></Point>"
                 if only_points else
                 f"<Polygon><outerBoundaryIs><LinearRing><coordinates>{ring}</coordinates></LinearRing>"
                 f"</outerBoundaryIs>{holes}</Polygon>")
        placemarks.append(
            f"<Placemark><name>{code}</name><description><![CDATA[{desc}]]></description>"
            f"<ExtendedData><Data name=\"村\"><value>石龙村</value></Data></ExtendedData>"
            f"<Style><LineStyle><color>ff0000ff</color></LineStyle></Style>{shape}</Placemark>")
    kml = ('<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="http://www.opengis.net/kml/2.2">'
           "<Document><name>奥维互动地图</name>"
           f"<Folder><name>2023卫片</name>{placemarks[0]}{placemarks[1]}</Folder>"
           f"<Folder><name>补充图斑</name>{placemarks[2]}</Folder>"
           "</Document></kml>")
    path = tmp / ("奥维标注.kmz" if kmz else "奥维标注.kml")
    if kmz:
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("doc.kml", kml)
    else:
        path.write_text(kml, encoding="utf-8")
    return path


def forestry_shapefile(tmp: Path, *, crs=4544, keep_prj=False) -> Path:
    """森林督查: Chinese field names, 面积 in 公顷, 6-digit eastings (CM 105°E, EPSG:4544) without .prj."""
    frame = canonical_patches().iloc[[0, 1, 2, 5]].reset_index(drop=True)
    ha = [reference_area_m2(g) / 10000 for g in frame.geometry]
    forest = gpd.GeoDataFrame({
        "图斑号": ["LD001", "LD002", "LD003", "LD004"],
        "县": ["北碚区"] * 4, "乡镇": ["澄江镇"] * 4, "村": ["石龙村", "石龙村", "新华村", "新华村"],
        "面积": [round(a, 4) for a in ha],
        "林地面积": [round(a, 4) for a in ha],
        "变化原因": ["建坟", "开路", "建房", "擅自开垦"],
        "地类": ["乔木林地"] * 4,
    }, geometry=frame.geometry, crs=4490)
    return write_shapefile(forest, tmp / "森林督查2023.shp", crs=crs, keep_prj=keep_prj, keep_cpg=False)


def township_polygon() -> Polygon:
    """A township outline (EPSG:4490) around the canonical patches."""
    return shapely.box(LON0 - 0.02, LAT0 - 0.02, LON0 + 0.03, LAT0 + 0.03)


# --- broken deliveries ---------------------------------------------------------------


def truncate_shp(shp: Path) -> Path:
    data = shp.read_bytes()
    shp.write_bytes(data[: len(data) // 2])
    return shp


def points_shapefile(tmp: Path) -> Path:
    frame = gpd.GeoDataFrame({"JCBH": ["P1", "P2"]},
                             geometry=[shapely.Point(LON0, LAT0), shapely.Point(LON0 + D, LAT0)], crs=4490)
    path = tmp / "points.shp"
    pyogrio.write_dataframe(frame, path)
    return path


def lines_geojson(tmp: Path) -> Path:
    frame = gpd.GeoDataFrame({"JCBH": ["L1"]},
                             geometry=[shapely.LineString([(LON0, LAT0), (LON0 + D, LAT0)])], crs=4490)
    path = tmp / "lines.geojson"
    frame.to_file(path, driver="GeoJSON")
    return path


def csv_table(tmp: Path) -> Path:
    path = tmp / "图斑台账.csv"
    pd.DataFrame({"JCBH": ["1", "2"], "JCMJ": [1.2, 3.4]}).to_csv(path, index=False, encoding="gbk")
    return path


def raster(tmp: Path) -> Path:
    path = tmp / "影像.tif"
    path.write_bytes(b"II*\x00" + struct.pack("<I", 8) + b"\x00" * 64)
    return path


def empty_geojson(tmp: Path) -> Path:
    path = tmp / "empty.geojson"
    path.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    return path


def evil_zip(tmp: Path, member: str = "../../evil.shp") -> Path:
    path = tmp / "evil.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(member, b"x" * 100)
    return path


def zip_bomb(tmp: Path) -> Path:
    path = tmp / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("big.shp", b"\x00" * (50 * 1024 * 1024))
    return path


# --- boundaries ----------------------------------------------------------------------

TOWNSHIP_CODE = "500109107"


def village_frame(gap=False, overlap=False) -> gpd.GeoDataFrame:
    """Three villages tiling ``township_box()``: 石龙村 | 新华村 split at LON0 + 0.005, 缙云村 above."""
    x0, x1, x2 = LON0 - 0.01, LON0 + 0.005, LON0 + 0.02
    y0, y1, y2 = LAT0 - 0.01, LAT0 + 0.01, LAT0 + 0.02
    a = shapely.box(x0, y0, x1, y1)
    b = shapely.box(x1 + (0.0005 if gap else 0), y0, x2, y1)
    c = shapely.box(x0, y1 - (0.0005 if overlap else 0), x2, y2)
    return gpd.GeoDataFrame({
        "CJQYDM": ["500109107201", "500109107202", "500109107203"],
        "CJQYMC": ["石龙村", "新华村", "缙云村"],
        "XJQYDM": [TOWNSHIP_CODE] * 3,
    }, geometry=[a, b, c], crs=4490)


def township_box() -> shapely.Geometry:
    return shapely.box(LON0 - 0.01, LAT0 - 0.01, LON0 + 0.02, LAT0 + 0.02)


def township_shapefile(tmp: Path) -> Path:
    frame = gpd.GeoDataFrame({"XZQDM": [TOWNSHIP_CODE], "XZQMC": ["澄江镇"]}, geometry=[township_box()], crs=4490)
    return write_shapefile(frame, tmp / "澄江镇.shp", crs=4523, keep_cpg=False)


OTHER_TOWNSHIP_CODE = "500109108"


def other_township_shapefile(tmp: Path) -> Path:
    """三溪镇, a second township beside ``township_box()`` (0.05° east), for tests of a user's scope."""
    frame = gpd.GeoDataFrame({"XZQDM": [OTHER_TOWNSHIP_CODE], "XZQMC": ["三溪镇"]},
                             geometry=[shapely.affinity.translate(township_box(), 0.05)], crs=4490)
    return write_shapefile(frame, tmp / "other" / "三溪镇.shp", crs=4523, keep_cpg=False)


def villages_shapefile(tmp: Path, frame=None, *, keep_prj=True, name="村界.shp") -> Path:
    """Villages as a GBK shapefile without .cpg, in zone 35 with the prefix, with or without .prj."""
    frame = village_frame() if frame is None else frame
    return write_shapefile(frame, tmp / name, crs=4523, keep_prj=keep_prj, keep_cpg=False)


def dltb_shapefile(tmp: Path) -> Path:
    """A 三调 地类图斑 layer: 水田 (KCXS 0.1) west of LON0 + 0.005, 乔木林地 east of it, GBK, no .prj."""
    frame = gpd.GeoDataFrame({
        "BSM": ["1", "2", "3"],
        "DLBM": ["0101", "0301", "0702"],
        "DLMC": ["水田", "乔木林地", "农村宅基地"],
        "ZLDWDM": ["5001091072010000000", "5001091072020000000", "5001091072030000000"],
        "TBMJ": [1.0, 1.0, 1.0],
        "KCXS": [0.1, 0.0, 0.0],
    }, geometry=[shapely.box(LON0 - 0.01, LAT0 - 0.01, LON0 + 0.005, LAT0 + 0.01),
                 shapely.box(LON0 + 0.005, LAT0 - 0.01, LON0 + 0.02, LAT0 + 0.01),
                 shapely.box(LON0 - 0.01, LAT0 + 0.01, LON0 + 0.02, LAT0 + 0.02)], crs=4490)
    return write_shapefile(frame, tmp / "DLTB.shp", crs=4523, keep_prj=False, keep_cpg=False)


# --- the sample delivery as a liaison receives it twice, or corrected -------------------------

SAMPLE_ZIP = Path(__file__).resolve().parents[1] / "data" / "batches" / "2023年卫片执法第2批.zip"


def rezipped_sample(tmp: Path, name: str = "2023年第2批（重发）.zip") -> Path:
    """The sample delivery unpacked and zipped again under another name and folder, with
    GBK member names: the same content in another container (e-mail vs USB stick)."""
    out = tmp / name
    with zipfile.ZipFile(SAMPLE_ZIP) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for member in source.infolist():
            if member.is_dir():
                continue
            info = _GBKZipInfo("U盘拷贝/" + Path(member.filename).name.replace("WPZF_2023_2", "卫片图斑"))
            target.writestr(info, source.read(member))
    return out


def sample_frame() -> gpd.GeoDataFrame:
    return gpd.read_file(f"zip://{SAMPLE_ZIP}!2023年卫片执法第2批/WPZF_2023_2.shp", encoding="GBK")


def sample_reissue(tmp: Path, moved=(3, 7), shift_m: float = 20.0, jitter_m: float = 0.0) -> Path:
    """A corrected re-issue of the sample (Gauss-Krüger metres, no .prj): every remark (BZ)
    edited, two columns dropped, the patches at positions ``moved`` shifted by ``shift_m``,
    and every other vertex moved by ``jitter_m`` (re-export noise)."""
    frame = sample_frame()
    frame["BZ"] = [f"{b or ''}（已更正）" for b in frame["BZ"]]
    frame = frame.drop(columns=["QSX", "HSX"])
    for i in range(len(frame)):
        shift = shift_m if i in moved else jitter_m
        frame.loc[i, "geometry"] = shapely.affinity.translate(frame.geometry[i], shift, 0)
    return write_shapefile(frame, tmp / "更正" / "WPZF_2023_2.shp", keep_prj=False, keep_cpg=False)


# --- 坐标txt written by one tool, one parcel a file -------------------------------------------

def zuobiao_text(parcels: list[tuple[str, float | str, list[tuple[float, float]]]], *, datum="2000国家大地坐标系") -> str:
    """A 坐标txt with ``(地块编号, 地块面积, ring of (easting with zone 35, northing))`` per parcel."""
    lines = ["[属性描述]", "格式版本号=1.01版本", "数据产生单位=某测绘公司", "数据产生日期=2024-05-20",
             f"坐标系={datum}", "几度分带=3", "投影类型=高斯克吕格", "计量单位=米", "带号=35", "精度=0.01",
             "转换参数=,,,,,,", "[地块坐标]"]
    for code, area, ring in parcels:
        lines.append(f"{len(ring)},{area},{code},违法占地,面,,,0101,@")
        lines += [f"J{k + 1},1,{y:.2f},{x:.2f}" for k, (x, y) in enumerate(ring)]
    return "\r\n".join(lines) + "\r\n"


def gk_square(east: float, north: float, side: float) -> list[tuple[float, float]]:
    return [(east, north), (east + side, north), (east + side, north + side), (east, north + side), (east, north)]


def zuobiao_zip_fid0(tmp: Path) -> Path:
    """Three files, one parcel each, every 地块编号 the writer's placeholder FID_0."""
    names = ["石龙村一组.txt", "新华村.txt", "金星村.txt"]
    out = tmp / "坐标txt报部.zip"
    with zipfile.ZipFile(out, "w") as z:
        for k, name in enumerate(names):
            ring = gk_square(35512000.0 + 300 * k, 3307000.0, 50.0)
            z.writestr(_GBKZipInfo(f"报部坐标/{name}"), zuobiao_text([("FID_0", 0.25, ring)]).encode("gb18030"))
    return out


def zuobiao_planar_300mu(tmp: Path) -> tuple[Path, float]:
    """A 300 亩 parcel 120 km east of zone 35's central meridian whose 地块面积 (公顷) is its
    planar Gauss-Krüger area, as many writers compute it. Returns the file and that area in 亩."""
    side = (300 * M2_PER_MU) ** 0.5
    ring = gk_square(35620000.0, 3307000.0, side)
    planar_ha = shapely.Polygon(ring).area / 10000
    path = tmp / "三百亩.txt"
    path.write_text(zuobiao_text([("DK001", f"{planar_ha:.4f}", ring)]), encoding="utf-8")
    return path, planar_ha * 15
