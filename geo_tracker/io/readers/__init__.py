"""Turn any delivery (file, folder, zip) into one frame in EPSG:4490 with its attributes verbatim.

After :func:`read_delivery` nobody needs to know which format the bureau used.
"""

from __future__ import annotations

import hashlib
import zipfile
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from ...core.crs import (
    STORAGE_CRS,
    CRSDecision,
    crs_label,
    decide_crs,
    gauss_kruger_epsg,
    sample_coordinates,
)
from ...errors import InputFileError, LayerSelectionError, UnsupportedFormatError, CRSDetectionError
from ..archive import extracted
from ..encoding import EncodingDecision
from .ogr import DRIVER_BY_SUFFIX, OgrSource, open_ogr
from .zuobiao import looks_like_zuobiao, parse_zuobiao

_IGNORED_PARTS = {"__MACOSX", ".DS_Store"}
#: What a delivery's main file may end with, in the order an upload of several files is searched.
MAIN_SUFFIXES = (".zip", ".shp", ".gpkg", ".geojson", ".json", ".kml", ".kmz", ".txt")
_RASTER_SUFFIXES = {".tif", ".tiff", ".img", ".jpg", ".jpeg", ".png", ".ecw", ".jp2", ".sid"}
_TABLE_SUFFIXES = {".csv", ".xls", ".xlsx", ".dbf"}


#: Features read per chunk; bounds memory for national-scale batches.
CHUNK_FEATURES = 20_000


@dataclass
class DeliverySource:
    """An opened delivery: what was decided about it, and its features in chunks (EPSG:4490)."""

    path: Path
    dataset: str
    driver: str
    layer: str | None
    crs: CRSDecision
    encoding: EncodingDecision
    sha256: str
    feature_count: int
    read: Callable[[int, int], gpd.GeoDataFrame]
    warnings: list[str] = field(default_factory=list)
    #: Per-feature problems found while reading (0-based position -> message).
    problems: dict[int, str] = field(default_factory=dict)

    def chunks(self, size: int | None = None) -> Iterator[tuple[int, gpd.GeoDataFrame]]:
        """``(offset, frame)`` pairs covering every feature in file order."""
        size = size or CHUNK_FEATURES
        for offset in range(0, self.feature_count, size):
            yield offset, self.read(offset, min(size, self.feature_count - offset))


@dataclass
class Delivery:
    """A whole delivery in memory (for small files such as boundaries)."""

    source: DeliverySource
    frame: gpd.GeoDataFrame


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, or of every file under a folder (.gdb) in a stable order."""
    digest = hashlib.sha256()
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for f in files:
        if path.is_dir():
            digest.update(str(f.relative_to(path)).encode())
        with open(f, "rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
    return digest.hexdigest()


def _shapefile_sha256(shp: Path) -> str:
    digest = hashlib.sha256()
    for f in sorted(shp.parent.glob(f"{shp.stem}.*")):
        if f.suffix.lower() in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
            digest.update(f.suffix.lower().encode())
            digest.update(f.read_bytes())
    return digest.hexdigest()


def _is_dataset(path: Path) -> bool:
    suffix = path.suffix.lower()
    if path.is_dir():
        return suffix == ".gdb"
    if suffix in DRIVER_BY_SUFFIX:
        return True
    if suffix == ".txt":
        with open(path, "rb") as fh:
            return looks_like_zuobiao(fh.read(4096))
    return False


def find_datasets(folder: Path) -> list[Path]:
    """Datasets inside a folder (or extracted zip), not descending into .gdb folders."""
    found: list[Path] = []
    for child in sorted(folder.iterdir()):
        if child.name in _IGNORED_PARTS or child.name.startswith("._"):
            continue
        if _is_dataset(child):
            found.append(child)
        elif child.is_dir():
            found.extend(find_datasets(child))
    return found


def _pick_dataset(folder: Path, original: Path, layer: str | None) -> tuple[Path, str | None]:
    datasets = find_datasets(folder)
    if not datasets:
        others = sorted({p.suffix.lower() for p in folder.rglob("*") if p.is_file()})
        raise UnsupportedFormatError(
            f"{original.name} contains no Shapefile, GeoPackage, File Geodatabase, GeoJSON, KML or "
            f"坐标txt (found: {', '.join(others) or 'nothing'})"
        )
    if len(datasets) == 1:
        return datasets[0], layer
    if layer is not None:
        matches = [d for d in datasets if d.stem == layer or d.name == layer]
        if len(matches) == 1:
            return matches[0], None
    listed = ", ".join(str(d.relative_to(folder)) for d in datasets)
    raise LayerSelectionError(
        f"{original.name} holds {len(datasets)} datasets ({listed}): choose one with --layer NAME"
    )


@contextmanager
def open_delivery(
    path: str | Path,
    *,
    layer: str | None = None,
    encoding: str | None = None,
    crs: str | None = None,
    reference=None,
    central_meridian: int | None = None,
    sample_size: int | None = None,
) -> Iterator[DeliverySource]:
    """Open a bureau delivery: Shapefile (file, folder or zip), GeoPackage, File Geodatabase,
    GeoJSON, KML/KMZ, or 坐标txt.

    ``crs`` overrides the file's CRS; ``reference`` (EPSG:4490 geometry of the loaded
    admin units) settles eastings that carry no zone number. The CRS is decided on the
    first ``sample_size`` features; chunks come back in EPSG:4490 with the original
    attribute columns. Temporary files (unzipped members) live until the block ends.
    """
    original = Path(path)
    if not original.exists():
        raise InputFileError(f"{original} does not exist: check the path")
    with ExitStack() as stack:
        target, sha = original, None
        if original.is_file() and original.suffix.lower() not in (".kmz", ".gpkg") and zipfile.is_zipfile(original):
            sha = file_sha256(original)
            folder = stack.enter_context(extracted(original))
            target, layer = _pick_dataset(folder, original, layer)
        elif original.is_dir() and original.suffix.lower() != ".gdb":
            target, layer = _pick_dataset(original, original, layer)
        _reject_obvious(target, original)
        sha = sha or (_shapefile_sha256(target) if target.suffix.lower() == ".shp" else file_sha256(target))
        dataset = target.name if target == original else f"{original.name}:{target.name}"
        if target.suffix.lower() == ".txt":
            source = _open_zuobiao(target, original, encoding, crs, reference, central_meridian)
        else:
            ogr = stack.enter_context(open_ogr(target, layer=layer, encoding=encoding))
            source = _open_gdal(ogr, original, crs, reference, central_meridian,
                                sample_size or CHUNK_FEATURES)
        source.dataset, source.sha256 = dataset, sha
        yield source


def read_delivery(path: str | Path, **options) -> Delivery:
    """Read a whole delivery into memory (see :func:`open_delivery` for the options)."""
    with open_delivery(path, **options) as source:
        frames = [frame for _offset, frame in source.chunks()]
    frame = frames[0] if len(frames) == 1 else gpd.GeoDataFrame(
        pd.concat(frames, ignore_index=True), geometry="geometry", crs=STORAGE_CRS
    )
    return Delivery(source, frame)


def _reject_obvious(target: Path, original: Path) -> None:
    suffix = target.suffix.lower()
    if target.is_file() and target.stat().st_size == 0:
        raise UnsupportedFormatError(f"{target.name} is empty (0 bytes): ask for the file again")
    if suffix in _RASTER_SUFFIXES:
        raise UnsupportedFormatError(
            f"{target.name} is a raster image, not polygon data: import the patch Shapefile / "
            "GeoPackage / 坐标txt that came with it"
        )
    if suffix in _TABLE_SUFFIXES:
        raise UnsupportedFormatError(
            f"{target.name} is a table without geometry: patches need polygons (Shapefile, "
            "GeoPackage, KML, 坐标txt)"
        )
    if suffix == ".txt" and not _is_dataset(target):
        raise UnsupportedFormatError(
            f"{target.name} is a text file but not a 坐标txt (no [地块坐标] section)"
        )
    if not _is_dataset(target):
        raise UnsupportedFormatError(
            f"{target.name}: unsupported file type {suffix or '(none)'}; geo_tracker reads .shp "
            "(or a folder/zip with one), .gpkg, .gdb, .geojson, .kml, .kmz and 坐标txt .txt"
        )


def _to_storage(frame: gpd.GeoDataFrame, decision: CRSDecision) -> gpd.GeoDataFrame:
    frame = frame.set_crs(decision.crs, allow_override=True)
    if decision.crs.equals(STORAGE_CRS):
        return frame
    return frame.to_crs(STORAGE_CRS)


def _open_gdal(ogr: OgrSource, original, crs, reference, central_meridian, sample_size) -> DeliverySource:
    sample = ogr.read(0, min(sample_size, ogr.feature_count))
    x, y = sample_coordinates(shapely.force_2d(sample.geometry.values))
    decision = decide_crs(
        x, y, declared=sample.crs, override=crs, reference=reference,
        central_meridian=central_meridian, source=ogr.path.name,
    )

    def read(skip: int, count: int) -> gpd.GeoDataFrame:
        frame = sample.iloc[skip:skip + count].reset_index(drop=True) if skip + count <= len(sample) \
            else ogr.read(skip, count)
        if frame.geometry.has_z.any():
            frame = frame.set_geometry(shapely.force_2d(frame.geometry.values), crs=frame.crs)
        return _to_storage(frame, decision)

    return DeliverySource(
        path=original, dataset=ogr.path.name, driver=ogr.driver, layer=ogr.layer_label, crs=decision,
        encoding=ogr.encoding, sha256="", feature_count=ogr.feature_count, read=read,
        warnings=ogr.warnings + list(decision.warnings),
    )


_OLD_DATUM_WORDS = ("80", "西安", "54", "北京")


def _open_zuobiao(target, original, encoding, crs, reference, central_meridian) -> DeliverySource:
    parsed = parse_zuobiao(target.read_bytes(), path=target.name, encoding=encoding)
    warnings = list(parsed.warnings)
    records, geoms, problems = [], [], {}
    for i, parcel in enumerate(parsed.parcels):
        records.append({
            "界址点数": parcel.declared_points,
            "地块面积": parcel.area,
            "地块面积单位": parcel.area_unit,
            "地块号": parcel.parcel_no,
            "地块名称": parcel.name,
            "记录图形属性": parcel.shape_kind,
            "图幅号": parcel.sheet_no,
            "地块用途": parcel.use,
            "地类编码": parcel.land_class,
            **parcel.extra,
        })
        geoms.append(parcel.geometry)
        warnings += parcel.warnings
        if parcel.geometry is None:
            problems[i] = (
                f"地块 {parcel.parcel_no or parcel.name} (line {parcel.line_no}) is a "
                f"{parcel.shape_kind} record, not a polygon patch"
                if parcel.shape_kind != "面" else
                f"地块 {parcel.parcel_no or parcel.name} (line {parcel.line_no}) has no usable polygon: "
                + "; ".join(parcel.warnings)
            )
    frame = gpd.GeoDataFrame(pd.DataFrame.from_records(records), geometry=geoms)
    header = parsed.header
    datum = header.get("坐标系", "")
    if crs is None and datum and "2000" not in datum and any(w in datum for w in _OLD_DATUM_WORDS):
        raise CRSDetectionError(
            f"{target.name}: 坐标系={datum} is not CGCS2000; converting it needs the 7-parameter set "
            "your bureau publishes: give --crs with it (e.g. '+proj=tmerc ... +towgs84=...')"
        )
    x, y = sample_coordinates(frame.geometry.values)
    declared, note = _zuobiao_header_crs(header, x, warnings, target.name)
    decision = decide_crs(
        x, y, declared=declared, override=crs, reference=reference,
        central_meridian=central_meridian, source=target.name,
    )
    if declared is not None and crs is None:
        decision = CRSDecision(decision.crs, note, decision.warnings)
    frame = _to_storage(frame, decision)
    return DeliverySource(
        path=original, dataset=target.name, driver="zuobiao", layer=None, crs=decision,
        encoding=EncodingDecision(parsed.encoding.upper().replace("-SIG", ""), f"坐标txt decoded as {parsed.encoding}"),
        sha256="", feature_count=len(frame),
        read=lambda skip, count: frame.iloc[skip:skip + count].reset_index(drop=True),
        warnings=warnings + list(decision.warnings), problems=problems,
    )


def _zuobiao_header_crs(header: dict, x: np.ndarray, warnings: list[str], name: str):
    """A CRS from the 带号/几度分带 header, for eastings without the zone in front.

    Eastings with a zone prefix win over the header; a disagreement is a warning.
    """
    try:
        zone = int(float(header.get("带号", "").strip()))
        width = int(float(header.get("几度分带", "3").strip() or 3))
    except ValueError:
        return None, ""
    if not len(x) or (np.abs(x) <= 180).all():
        return None, ""
    if (x >= 1e7).any():
        prefix = int(np.floor(x[0] / 1e6))
        if prefix != zone:
            warnings.append(
                f"{name}: header 带号={zone} disagrees with the zone {prefix} written in front of "
                f"the eastings; trusted the coordinates (zone {prefix})"
            )
        return None, ""
    cm = 3 * zone if width == 3 else 6 * zone - 3
    try:
        epsg = gauss_kruger_epsg(central_meridian=cm)
    except ValueError:
        warnings.append(f"{name}: header 带号={zone} ({width}° zones) is not a zone of China; ignored")
        return None, ""
    crs = CRS.from_epsg(epsg)
    return crs, (
        f"eastings carry no zone prefix; header 带号={zone}, 几度分带={width} gives CM {cm}°E "
        f"({crs_label(crs)})"
    )
