"""Turn any delivery (file, folder, zip) into one frame in EPSG:4490 with its attributes verbatim.

After :func:`read_delivery` nobody needs to know which format the bureau used.
"""

from __future__ import annotations

import hashlib
import re
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
from ...catalogue import Listing, msg, note
from ...errors import InputFileError, LayerSelectionError, UnsupportedFormatError, CRSDetectionError
from ..archive import extracted
from ..encoding import EncodingDecision
from ..profiles import FILE_FEATURES, FILE_POSITION, SOURCE_FILE_FIELD
from .ogr import DRIVER_BY_SUFFIX, OgrSource, choose_layers, open_ogr
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
    #: The files (or layers) of a multi-file delivery: file, features, crs, encoding, sha256.
    members: list[dict] = field(default_factory=list)

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


def _pick_datasets(folder: Path, original: Path, layer: str | None, all_layers: bool) -> tuple[list[Path], bool]:
    """The dataset(s) of a folder or zip (one, the one named by ``layer``, or every one), and
    whether ``layer`` was used up choosing it (then it names no layer inside the dataset).

    Several 坐标txt files are one delivery (one parcel a file is how many writers
    work); several other datasets are one only when the liaison says so (``all_layers``).
    """
    datasets = find_datasets(folder)
    if not datasets:
        others = sorted({p.suffix.lower() for p in folder.rglob("*") if p.is_file()})
        raise UnsupportedFormatError(msg("imports.no_dataset_in_folder", name=original.name,
                                         found=", ".join(others) or msg("imports.nothing")))
    if len(datasets) == 1:
        return datasets, False
    if layer is not None:
        matches = [d for d in datasets if d.stem == layer or d.name == layer]
        if len(matches) == 1:
            return matches, True
    if all_layers or all(d.suffix.lower() == ".txt" for d in datasets):
        return datasets, False
    listed = ", ".join(str(d.relative_to(folder)) for d in datasets)
    raise LayerSelectionError(msg("imports.several_datasets", name=original.name, count=len(datasets), listed=listed))


def _member_name(target: Path, root: Path) -> str:
    try:
        return str(target.relative_to(root))
    except ValueError:
        return target.name


def _open_one(stack: ExitStack, target: Path, original: Path, layer, options: dict) -> DeliverySource:
    """One dataset (one layer of it) as a source; its content hash is its own, not its container's."""
    _reject_obvious(target, original)
    if target.suffix.lower() == ".txt":
        source = _open_zuobiao(target, original, **options)
    else:
        ogr = stack.enter_context(open_ogr(target, layer=layer, encoding=options["encoding"]))
        source = _open_gdal(ogr, original, options["crs"], options["reference"],
                            options["central_meridian"], options["sample_size"])
    source.sha256 = _shapefile_sha256(target) if target.suffix.lower() == ".shp" else file_sha256(target)
    return source


@contextmanager
def open_delivery(
    path: str | Path,
    *,
    layer: str | None = None,
    all_layers: bool = False,
    encoding: str | None = None,
    crs: str | None = None,
    reference=None,
    central_meridian: int | None = None,
    sample_size: int | None = None,
) -> Iterator[DeliverySource]:
    """Open a bureau delivery: Shapefile (file, folder or zip), GeoPackage, File Geodatabase,
    GeoJSON, KML/KMZ, or 坐标txt; or several of them as one delivery.

    ``crs`` overrides the file's CRS; ``reference`` (EPSG:4490 geometry of the loaded
    admin units) settles eastings that carry no zone number. The CRS is decided on the
    first ``sample_size`` features of each file; chunks come back in EPSG:4490 with the
    original attribute columns. A folder or zip of several 坐标txt files, or with
    ``all_layers`` of several datasets (or the polygon layers of one GeoPackage) with the
    same fields, is one delivery whose features carry their file in ``源文件``. The
    SHA-256 is of the content, so a delivery re-zipped or renamed is still recognised.
    Temporary files (unzipped members) live until the block ends.
    """
    original = Path(path)
    if not original.exists():
        raise InputFileError(msg("imports.file_missing", path=original))
    options = dict(encoding=encoding, crs=crs, reference=reference, central_meridian=central_meridian)
    with ExitStack() as stack:
        root, targets, used = original.parent, [original], False
        if original.is_file() and original.suffix.lower() not in (".kmz", ".gpkg") and zipfile.is_zipfile(original):
            root = stack.enter_context(extracted(original))
            targets, used = _pick_datasets(root, original, layer, all_layers)
        elif original.is_dir() and original.suffix.lower() != ".gdb":
            root = original
            targets, used = _pick_datasets(original, original, layer, all_layers)
        layer = None if len(targets) > 1 or used else layer
        members: list[tuple[Path, str | None]] = [(t, layer) for t in targets]
        if len(targets) == 1 and all_layers and layer is None and targets[0].suffix.lower() in (".gpkg", ".gdb"):
            _reject_obvious(targets[0], original)
            members = [(targets[0], name) for name in choose_layers(targets[0], None, all_polygon_layers=True)]
        sources = []
        for target, member_layer in members:
            source = _open_one(stack, target, original, member_layer,
                               {**options, "sample_size": sample_size or CHUNK_FEATURES}
                               if target.suffix.lower() != ".txt" else options)
            name = (_member_name(target, root) + (f":{member_layer}" if member_layer else "")
                    if len(members) > 1 else target.name)
            source.dataset = name if target == original else f"{original.name}:{name}"
            sources.append((name, source))
        if len(sources) == 1 and sources[0][1].driver != "zuobiao":
            yield sources[0][1]
        else:
            yield _combined(original, sources)


def _combined(original: Path, sources: list[tuple[str, DeliverySource]]) -> DeliverySource:
    """Several files (or layers) as one delivery; each feature names its file in ``源文件``."""
    first = sources[0][1]
    drivers = sorted({s.driver for _, s in sources})
    if len(drivers) > 1:
        raise LayerSelectionError(msg("imports.mixed_formats", name=original.name, drivers=", ".join(drivers)))
    fields = [_attribute_columns(s) for _, s in sources]
    for (name, _), columns in zip(sources[1:], fields[1:]):
        if first.driver != "zuobiao" and set(columns) != set(fields[0]):
            differ = sorted(set(columns) ^ set(fields[0]))
            raise LayerSelectionError(msg("imports.mixed_fields", name=original.name, member=name,
                                          first=sources[0][0], differ=", ".join(differ)))
    offsets = np.cumsum([0] + [s.feature_count for _, s in sources])

    def read(skip: int, count: int) -> gpd.GeoDataFrame:
        frames, positions = [], []
        for k, (name, source) in enumerate(sources):
            lo, hi = max(skip, offsets[k]), min(skip + count, offsets[k + 1])
            if lo < hi:
                frame = source.read(int(lo - offsets[k]), int(hi - lo))
                frame.insert(0, SOURCE_FILE_FIELD, name)
                frames.append(frame)
                positions.append(np.arange(lo - offsets[k], hi - offsets[k]) + 1)
        frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
        frame = gpd.GeoDataFrame(frame, geometry="geometry", crs=STORAGE_CRS)
        # Where each feature stands in its own file, whatever the chunk: codes made from file names use it.
        frame.attrs[FILE_POSITION] = np.concatenate(positions)
        frame.attrs[FILE_FEATURES] = {name: s.feature_count for name, s in sources}
        return frame

    digest = hashlib.sha256()
    for name, source in sorted(sources, key=lambda item: item[1].sha256):
        digest.update(source.sha256.encode())
    problems = {int(offsets[k]) + i: message for k, (_, s) in enumerate(sources) for i, message in s.problems.items()}
    warnings = [w for _, s in sources for w in s.warnings]
    crs_labels = dict.fromkeys(s.crs.label for _, s in sources)
    encodings = dict.fromkeys(s.encoding.encoding for _, s in sources)
    crs = first.crs if len(crs_labels) == 1 else CRSDecision(
        first.crs.crs, note("imports.decision.per_file", listed=Listing(
            note("imports.decision.file_crs", file=n, label=s.crs.label, reason=s.crs.reason) for n, s in sources)),
        first.crs.warnings)
    encoding = first.encoding if len(encodings) == 1 else EncodingDecision(
        "/".join(encodings), note("imports.decision.per_file", listed=Listing(
            note("imports.decision.file_encoding", file=n, encoding=s.encoding.encoding) for n, s in sources)))
    return DeliverySource(
        path=original, dataset=original.name if len(sources) > 1 else first.dataset, driver=first.driver,
        layer=None, crs=crs, encoding=encoding, sha256=digest.hexdigest(),
        feature_count=int(offsets[-1]), read=read, warnings=warnings, problems=problems,
        members=[{"file": name, "features": s.feature_count, "crs": s.crs.label, "encoding": s.encoding.encoding,
                  "sha256": s.sha256} for name, s in sources],
    )


def _attribute_columns(source: DeliverySource) -> list[str]:
    return [c for c in source.read(0, min(1, source.feature_count)).columns if c != "geometry"] \
        if source.feature_count else []


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
        raise UnsupportedFormatError(msg("imports.file_empty", name=target.name))
    if suffix in _RASTER_SUFFIXES:
        raise UnsupportedFormatError(msg("imports.raster_image", name=target.name))
    if suffix in _TABLE_SUFFIXES:
        raise UnsupportedFormatError(msg("imports.table_without_geometry", name=target.name))
    if suffix == ".txt" and not _is_dataset(target):
        raise UnsupportedFormatError(msg("imports.text_not_zuobiao", name=target.name))
    if not _is_dataset(target):
        raise UnsupportedFormatError(msg("imports.file_type_unsupported", name=target.name,
                                         suffix=suffix or msg("imports.no_suffix")))


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


_DATUM_NOISE = re.compile(r"中国|国家|大地|坐标系统|坐标系|坐标|CGCS|[\s()（）_-]", re.IGNORECASE)
_DATUMS = {"2000": "cgcs2000", "WGS84": "cgcs2000", "1984": "cgcs2000",
           **{v: "old" for v in ("80", "1980", "西安80", "西安1980", "1980西安", "80西安", "西安",
                                 "54", "1954", "北京54", "北京1954", "1954北京", "54北京", "北京")}}


def datum_kind(value: str) -> str:
    """What a 坐标txt ``坐标系=`` value names: ``cgcs2000``, ``old`` (Xian 80 / Beijing 54),
    ``unknown``, or ``""`` when the header has none."""
    text = (value or "").strip()
    if not text:
        return ""
    return _DATUMS.get(_DATUM_NOISE.sub("", text).upper(), "unknown")


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
                note("imports.parcel_not_polygon", parcel=parcel.parcel_no or parcel.name, line=parcel.line_no,
                     kind=parcel.shape_kind)
                if parcel.shape_kind != "面" else
                note("imports.parcel_no_polygon", parcel=parcel.parcel_no or parcel.name, line=parcel.line_no,
                     warnings=Listing(parcel.warnings))
            )
    frame = gpd.GeoDataFrame(pd.DataFrame.from_records(records), geometry=geoms)
    header = parsed.header
    datum = header.get("坐标系", "")
    kind = datum_kind(datum)
    if crs is None and kind == "old":
        raise CRSDetectionError(msg("imports.zuobiao_old_datum", name=target.name, datum=datum))
    if crs is None and kind == "unknown":
        raise CRSDetectionError(msg("imports.zuobiao_unknown_datum", name=target.name, datum=datum))
    x, y = sample_coordinates(frame.geometry.values)
    declared, header_reason = _zuobiao_header_crs(header, x, warnings, target.name)
    decision = decide_crs(
        x, y, declared=declared, override=crs, reference=reference,
        central_meridian=central_meridian, source=target.name,
    )
    if declared is not None and crs is None:
        decision = CRSDecision(decision.crs, header_reason, decision.warnings)
    frame = _to_storage(frame, decision)
    return DeliverySource(
        path=original, dataset=target.name, driver="zuobiao", layer=None, crs=decision,
        encoding=EncodingDecision(parsed.encoding.upper().replace("-SIG", ""),
                                  note("imports.decision.encoding_zuobiao", codec=parsed.encoding)),
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
            warnings.append(note("imports.zuobiao_zone_disagrees", name=name, zone=zone, prefix=prefix))
        return None, ""
    cm = 3 * zone if width == 3 else 6 * zone - 3
    try:
        epsg = gauss_kruger_epsg(central_meridian=cm)
    except ValueError:
        warnings.append(note("imports.zuobiao_zone_not_china", name=name, zone=zone, width=width))
        return None, ""
    crs = CRS.from_epsg(epsg)
    return crs, note("imports.crs_from_zuobiao_header", zone=zone, width=width, cm=cm, label=crs_label(crs))
