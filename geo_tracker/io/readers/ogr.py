"""Everything GDAL reads: Shapefile, GeoPackage, File Geodatabase, GeoJSON, KML/KMZ."""

from __future__ import annotations

import shutil
import struct
import tempfile
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import geopandas as gpd
import pandas as pd
import pyogrio
from pyogrio.errors import DataLayerError, DataSourceError

from ...catalogue import msg, note
from ...errors import LayerSelectionError, UnsupportedFormatError
from ..encoding import EncodingDecision, companion, detect_dbf_encoding

DRIVER_BY_SUFFIX = {
    ".shp": "ESRI Shapefile",
    ".gpkg": "GPKG",
    ".gdb": "OpenFileGDB",
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".kml": "KML",
    ".kmz": "LIBKML",
}


def _utf8_by_spec() -> EncodingDecision:
    return EncodingDecision("UTF-8", note("imports.decision.encoding_by_spec"))


def check_shapefile(shp: Path) -> list[str]:
    """Reject what GDAL would misread; return warnings for what we can work around."""
    name = shp.name
    size = shp.stat().st_size
    if size == 0:
        raise UnsupportedFormatError(msg("imports.shapefile_empty", name=name))
    if size < 100:
        raise UnsupportedFormatError(msg("imports.shapefile_short", name=name, size=size))
    header = shp.read_bytes()[:100]
    code, = struct.unpack(">i", header[:4])
    if code != 9994:
        raise UnsupportedFormatError(msg("imports.shapefile_bad_code", name=name, code=code))
    declared = struct.unpack(">i", header[24:28])[0] * 2
    if size < declared:
        raise UnsupportedFormatError(msg("imports.shapefile_truncated", name=name, declared=declared, size=size))
    if not companion(shp, ".dbf").exists():
        raise UnsupportedFormatError(msg("imports.shapefile_no_dbf", name=name, stem=shp.stem))
    if not companion(shp, ".shx").exists():
        return [note("imports.shapefile_no_shx", name=name)]
    return []


@contextmanager
def _readable_shapefile(shp: Path) -> Iterator[Path]:
    """The shapefile itself, or a private copy with its .shx rebuilt when that is missing."""
    if companion(shp, ".shx").exists():
        yield shp
        return
    tmp = Path(tempfile.mkdtemp(prefix="geo_tracker_shx_"))
    try:
        for sibling in shp.parent.glob(f"{shp.stem}.*"):
            shutil.copy2(sibling, tmp / sibling.name.lower().replace(shp.stem.lower(), "data"))
        pyogrio.set_gdal_config_options({"SHAPE_RESTORE_SHX": "YES"})
        try:
            yield tmp / "data.shp"
        finally:
            pyogrio.set_gdal_config_options({"SHAPE_RESTORE_SHX": None})
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _layers(path: Path) -> list[tuple[str, str | None]]:
    try:
        return [(str(n), None if t is None else str(t)) for n, t in pyogrio.list_layers(path)]
    except (DataSourceError, DataLayerError) as e:
        raise UnsupportedFormatError(msg("imports.dataset_unopenable", name=path.name, reason=str(e))) from None


def choose_layers(path: Path, layer: str | None, *, all_polygon_layers: bool = False) -> list[str]:
    """The layer(s) to read: the one named, else the single polygon layer (KML: all of them)."""
    layers = _layers(path)
    described = ", ".join(f"{n} ({t or 'no geometry'})" for n, t in layers) or "none"
    if layer is not None:
        if layer not in [n for n, _ in layers]:
            raise LayerSelectionError(msg("imports.layer_missing", name=path.name, layer=layer, layers=described))
        return [layer]
    polygon = [n for n, t in layers if t and "polygon" in t.lower()]
    unknown = [n for n, t in layers if t in ("Unknown", "Geometry", "GeometryCollection")]
    if all_polygon_layers:
        found = polygon + unknown
        if found:
            return found
    elif len(polygon) == 1:
        return polygon
    elif len(polygon) > 1:
        raise LayerSelectionError(msg("imports.several_polygon_layers", name=path.name, count=len(polygon),
                                      layers=", ".join(polygon)))
    elif len(unknown) == 1:
        return unknown
    if not layers:
        raise UnsupportedFormatError(msg("imports.no_layers", name=path.name))
    if all(t is None for _, t in layers):
        raise UnsupportedFormatError(msg("imports.layers_without_geometry", name=path.name, layers=described))
    raise UnsupportedFormatError(msg("imports.no_polygon_layer", name=path.name, layers=described))


@dataclass
class OgrSource:
    """An opened GDAL dataset, read a chunk at a time in its own CRS, attributes verbatim."""

    path: Path
    readable: Path
    driver: str
    layers: list[str]
    encoding: EncodingDecision
    warnings: list[str]
    feature_count: int
    _whole: gpd.GeoDataFrame | None = None

    @property
    def layer_label(self) -> str:
        return ",".join(self.layers) if self.layers else self.path.stem

    def read(self, skip: int, count: int) -> gpd.GeoDataFrame:
        if self._whole is not None:
            return self._whole.iloc[skip:skip + count].reset_index(drop=True)
        layer = self.layers[0] if self.layers else None
        encoding = self.encoding.encoding if self.driver == "ESRI Shapefile" else None
        return _read(self.readable, self.path, layer, encoding, skip=skip, count=count)


@contextmanager
def open_ogr(path: Path, *, layer: str | None = None, encoding: str | None = None) -> Iterator[OgrSource]:
    """Open a GDAL dataset for chunked reading (KML, with one layer per folder, is read whole)."""
    driver = DRIVER_BY_SUFFIX.get(path.suffix.lower(), "")
    if driver == "ESRI Shapefile":
        warns = check_shapefile(path)
        decision = detect_dbf_encoding(path, encoding)
        with _readable_shapefile(path) as readable:
            count = _feature_count(readable, path, None)
            yield OgrSource(path, readable, driver, [], decision, warns, count)
        return
    if path.is_file() and path.stat().st_size == 0:
        raise UnsupportedFormatError(msg("imports.file_empty", name=path.name))
    decision = EncodingDecision(encoding.upper(), note("imports.decision.encoding_given")) if encoding \
        else _utf8_by_spec()
    if driver not in ("KML", "LIBKML"):
        names = choose_layers(path, layer)
        yield OgrSource(path, path, driver or "GDAL", names, decision, [], _feature_count(path, path, names[0]))
        return
    # LIBKML otherwise turns Chinese <Data name="村"> into "___".
    pyogrio.set_gdal_config_options({"LIBKML_LAUNDER_FIELD_NAMES": "NO"})
    names = choose_layers(path, layer, all_polygon_layers=True)
    frames = []
    for name in names:
        frame = _drop_kml_styling(_read(path, path, name, encoding))
        frame.insert(0, "folder", name)
        frames.append(frame)
    whole = frames[0] if len(frames) == 1 else gpd.GeoDataFrame(
        pd.concat(frames, ignore_index=True), geometry="geometry", crs=frames[0].crs
    )
    yield OgrSource(path, path, driver, names, decision, [], len(whole), whole)


def _feature_count(readable: Path, original: Path, layer: str | None) -> int:
    try:
        count = pyogrio.read_info(readable, layer=layer, force_feature_count=True)["features"]
    except (DataSourceError, DataLayerError) as e:
        raise UnsupportedFormatError(msg("imports.dataset_unreadable", name=original.name, reason=str(e))) from None
    if count == 0:
        raise UnsupportedFormatError(_no_features(original.name, layer))
    return count


#: Columns LIBKML adds for every placemark; kept only where a value differs from the default.
_KML_STYLING = {"id": None, "timestamp": None, "begin": None, "end": None, "altitudeMode": None,
                "tessellate": -1, "extrude": 0, "visibility": -1, "drawOrder": None, "icon": None}


def _no_features(name: str, layer: str | None):
    if layer:
        return msg("imports.layer_no_features", name=name, layer=layer)
    return msg("imports.no_features", name=name)


def _drop_kml_styling(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    drop = [
        c for c, default in _KML_STYLING.items()
        if c in frame and (frame[c].isna() | (frame[c] == default if default is not None else False)).all()
    ]
    return frame.drop(columns=drop)


def _read(readable: Path, original: Path, layer: str | None, encoding: str | None,
          skip: int = 0, count: int | None = None) -> gpd.GeoDataFrame:
    kwargs = {"layer": layer} if layer is not None else {}
    if skip:
        kwargs["skip_features"] = skip
    if count is not None:
        kwargs["max_features"] = count
    if encoding:
        kwargs["encoding"] = encoding
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            frame = pyogrio.read_dataframe(readable, **kwargs)
    except (DataSourceError, DataLayerError) as e:
        raise UnsupportedFormatError(msg("imports.dataset_unreadable", name=original.name, reason=str(e))) from None
    if not isinstance(frame, gpd.GeoDataFrame) or "geometry" not in frame:
        raise UnsupportedFormatError(msg("imports.no_geometry_column", name=original.name))
    if frame.empty:
        raise UnsupportedFormatError(_no_features(original.name, layer))
    return frame
