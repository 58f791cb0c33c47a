"""Imagery files (影像): what a GeoTIFF, COG or MBTiles holds, its conversion to a Cloud-Optimised
GeoTIFF kept once by its content, and the image clips a delivery's attributes point to.

rasterio (GDAL) reads, rio-cogeo writes the COG with overviews; the CRS is decided by the same
rules as a vector delivery's (:func:`geo_tracker.core.crs.decide_crs`): the file's own when its
coordinates fit it, else inferred from them (8-digit eastings carry their Gauss-Krüger zone).
"""

from __future__ import annotations

import io
import math
import shutil
import sqlite3
import warnings
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import morecantile
import numpy as np
import shapely
import rasterio
from pyproj import CRS, Transformer
from rasterio.crs import CRS as RioCRS
from rasterio.errors import RasterioIOError
from rasterio.vrt import WarpedVRT
from rasterio.windows import Window
from rio_cogeo.cogeo import cog_translate
from rio_cogeo.profiles import cog_profiles
from rio_tiler.errors import NoOverviewWarning, TileOutsideBounds
from rio_tiler.io import Reader

from ..catalogue import msg
from ..core.crs import STORAGE_CRS, CRSDecision, decide_crs
from ..core.tiles import tile_bounds_3857
from ..errors import CRSDetectionError, InputFileError, RasterError
from .evidence import file_sha256

#: Suffixes read as rasters; MBTiles apart (its tiles are passed through as they are).
RASTER_SUFFIXES = (".tif", ".tiff", ".img", ".jpg", ".jpeg", ".png", ".jp2", ".vrt")
MBTILES_SUFFIXES = (".mbtiles",)
WEB_MERCATOR_TILES = morecantile.tms.get("WebMercatorQuad")
#: Metres per pixel of Web Mercator zoom 0 at the equator.
ZOOM0_M = 2 * math.pi * 6378137 / 256
MAX_ZOOM = 22


@dataclass(frozen=True)
class ImageryFile:
    """An imagery file inspected: how it is served, where it lies (EPSG:4490) and how fine it is."""

    path: Path
    kind: str  # "cog" (a GeoTIFF, converted when needed) or "mbtiles" (tiles passed through)
    crs: CRSDecision
    footprint: shapely.Polygon
    resolution_m: float
    min_zoom: int
    max_zoom: int
    sha256: str
    tile_format: str | None = None  # MBTiles: png, jpg or webp
    warnings: tuple[str, ...] = field(default=())
    #: Kept as it is (an MBTiles); a raster is converted once onto the tile grid.
    kept_as_is: bool = False


def inspect_imagery(path: str | Path, *, crs: str | None = None, reference=None,
                    central_meridian: int | None = None) -> ImageryFile:
    """What an imagery file holds, or a :class:`RasterError` naming the file and what is wrong."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError(msg("imagery.file_missing", path=path))
    if path.suffix.lower() in MBTILES_SUFFIXES or _is_sqlite(path):
        return _inspect_mbtiles(path)
    return _inspect_raster(path, crs, reference, central_meridian)


def _is_sqlite(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(16) == b"SQLite format 3\x00"


def _inspect_raster(path: Path, crs, reference, central_meridian) -> ImageryFile:
    try:
        with rasterio.open(path) as src:
            declared, transform = src.crs, src.transform
            width, height, bounds = src.width, src.height, src.bounds
            dtype, count = src.dtypes[0], src.count
            _check_readable(src, path)
    except RasterioIOError as e:
        raise RasterError(msg("imagery.not_raster", file=path.name, detail=_gdal_detail(e))) from None
    if transform.is_identity:
        raise RasterError(msg("imagery.no_georeference", file=path.name))
    if transform.b != 0 or transform.d != 0:
        raise RasterError(msg("imagery.rotated", file=path.name))
    if dtype != "uint8" or count not in (1, 2, 3, 4):
        raise RasterError(msg("imagery.not_an_image", file=path.name, dtype=dtype, bands=count))
    decision = _decide_crs(path, declared, bounds, crs, reference, central_meridian)
    footprint = footprint_of(decision.crs, bounds)
    resolution = pixel_metres(decision.crs, transform, footprint)
    max_zoom = zoom_for(resolution, footprint.centroid.y)
    min_zoom = max(0, max_zoom - _levels(width, height))
    return ImageryFile(path, "cog", decision, footprint, resolution, min_zoom, max_zoom, file_sha256(path),
                       warnings=decision.warnings)


def _check_readable(src, path: Path) -> None:
    """Read the last block and a decimated view: a truncated TIFF fails here, not in a tile later."""
    try:
        src.read(1, window=Window(src.width - 1, src.height - 1, 1, 1))
        src.read(1, out_shape=(min(src.height, 64), min(src.width, 64)))
    except RasterioIOError as e:
        raise RasterError(msg("imagery.truncated", file=path.name, detail=_gdal_detail(e))) from None


def _gdal_detail(error: Exception) -> str:
    return str(error).split(": ", 1)[-1][:200]


def _decide_crs(path: Path, declared, bounds, override, reference, central_meridian) -> CRSDecision:
    """The CRS of a raster by its corners, with the rules of a vector delivery."""
    left, bottom, right, top = bounds
    x = np.array([left, right, right, left], float)
    y = np.array([bottom, bottom, top, top], float)
    own = CRS.from_user_input(declared.to_wkt()) if declared else None
    try:
        return decide_crs(x, y, declared=own, override=override, reference=reference,
                          central_meridian=central_meridian, source=path.name)
    except CRSDetectionError as e:
        raise RasterError(msg("imagery.crs", file=path.name, reason=e.args[0])) from None


def footprint_of(crs: CRS, bounds) -> shapely.Polygon:
    """The raster's extent in EPSG:4490, its edges densified so a Gauss-Krüger rectangle stays true."""
    box = shapely.box(*bounds)
    step = max(bounds[2] - bounds[0], bounds[3] - bounds[1]) / 32
    dense = shapely.segmentize(box, step)
    transformer = Transformer.from_crs(crs, STORAGE_CRS, always_xy=True)
    return shapely.transform(dense, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])))


def pixel_metres(crs: CRS, transform, footprint: shapely.Polygon) -> float:
    """Ground size of a pixel in metres (a lon/lat pixel measured at the footprint's middle)."""
    size = abs(transform.a)
    if not crs.is_geographic:
        return float(size)
    lat = footprint.centroid.y
    return float(size * math.pi / 180 * 6378137 * math.cos(math.radians(lat)))


def zoom_for(resolution_m: float, lat: float) -> int:
    """The Web Mercator zoom whose pixels are as fine as the image's (no finer)."""
    ground0 = ZOOM0_M * math.cos(math.radians(lat))
    return int(min(MAX_ZOOM, max(0, math.ceil(math.log2(ground0 / max(resolution_m, 0.01)) - 0.25))))


def _levels(width: int, height: int) -> int:
    """Zoom levels an image spans from its full resolution to one 256-px tile, and a few more."""
    return max(1, math.ceil(math.log2(max(width, height) / 256))) + 4


# --- MBTiles -------------------------------------------------------------------------------


def _read_only(path: str | Path):
    """A read-only connection to an MBTiles file (any characters in its name), closed by ``with``."""
    return closing(sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True))


def _inspect_mbtiles(path: Path) -> ImageryFile:
    try:
        with _read_only(path) as db:
            meta = dict(db.execute("SELECT name, value FROM metadata").fetchall())
            zooms = db.execute("SELECT min(zoom_level), max(zoom_level), count(*) FROM tiles").fetchone()
            corner = db.execute("SELECT min(tile_column), max(tile_column), min(tile_row), max(tile_row) FROM tiles "
                                "WHERE zoom_level = ?", (zooms[0],)).fetchone()
    except sqlite3.DatabaseError as e:
        raise RasterError(msg("imagery.mbtiles_unreadable", file=path.name, detail=str(e))) from None
    if not zooms[2]:
        raise RasterError(msg("imagery.mbtiles_empty", file=path.name))
    tile_format = str(meta.get("format") or "png").lower().replace("jpeg", "jpg")
    if tile_format not in ("png", "jpg", "webp"):
        raise RasterError(msg("imagery.mbtiles_format", file=path.name, format=tile_format))
    west, south, east, north = _mbtiles_bounds(path, meta.get("bounds"), zooms[0], corner)
    decision = _decide_crs(path, CRS.from_epsg(4326), (west, south, east, north), None, None, None)
    footprint = shapely.box(west, south, east, north)
    min_zoom, max_zoom = _zoom(meta.get("minzoom"), zooms[0]), _zoom(meta.get("maxzoom"), zooms[1])
    resolution = ZOOM0_M * math.cos(math.radians(footprint.centroid.y)) / 2 ** max_zoom
    return ImageryFile(path, "mbtiles", decision, footprint, resolution, min_zoom, max_zoom, file_sha256(path),
                       tile_format, kept_as_is=True)


def _zoom(value, found: int) -> int:
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return int(found)


def _mbtiles_bounds(path: Path, text, zoom: int, corner) -> tuple[float, float, float, float]:
    """The metadata's ``bounds``, else those of the tiles at the coarsest zoom (rows count from the south)."""
    try:
        west, south, east, north = (float(v) for v in str(text).split(","))
        return west, south, east, north
    except ValueError:
        pass
    if corner is None or corner[0] is None:
        raise RasterError(msg("imagery.mbtiles_no_bounds", file=path.name))
    x0, x1, r0, r1 = (int(v) for v in corner)
    top, bottom = (1 << zoom) - 1 - r1, (1 << zoom) - 1 - r0
    first = WEB_MERCATOR_TILES.bounds(morecantile.Tile(x0, top, zoom))
    last = WEB_MERCATOR_TILES.bounds(morecantile.Tile(x1, bottom, zoom))
    return first.left, last.bottom, last.right, first.top


def mbtiles_tile(path: str | Path, z: int, x: int, y: int) -> bytes | None:
    """A tile of an MBTiles file as stored (its rows count from the south: TMS)."""
    with _read_only(path) as db:
        row = db.execute("SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?",
                         (z, x, (1 << z) - 1 - y)).fetchone()
    return bytes(row[0]) if row else None


# --- keeping the file ----------------------------------------------------------------------


def keep_imagery(found: ImageryFile, folder: Path) -> Path:
    """The imagery file kept in ``folder``, named by its SHA-256 (``ab/ab12….tif``): a COG (converted
    once onto the tile grid, with overviews) or the MBTiles as given."""
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".{found.path.stem}.{found.sha256[:16]}.part"
    suffix = ".mbtiles" if found.kind == "mbtiles" else ".tif"
    try:
        if found.kept_as_is:
            shutil.copyfile(found.path, partial)
        else:
            to_cog(found.path, partial, found.crs.crs)
        sha = file_sha256(partial)
        target = folder.resolve() / sha[:2] / f"{sha}{suffix}"
        target.parent.mkdir(parents=True, exist_ok=True)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def to_cog(source: Path, target: Path, crs: CRS) -> None:
    """A Cloud-Optimised GeoTIFF of ``source`` (deflate, internal overviews, a mask where the image
    is not) warped once onto the Web Mercator tile grid (rio-cogeo's ``tms``): each tile is then
    a read of its own blocks. Warping every tile from CGCS2000 instead costs PROJ ~20 ms per tile
    just to choose its datum transformation (rio-tiler sets one up per request), which made a
    tile 20× slower. ``crs`` is the file's own, or the one decided for a file without (applied
    through a VRT, pixels unchanged)."""
    profile = cog_profiles.get("deflate")
    profile.update(predictor=2)
    options = dict(quiet=True, overview_resampling="average", resampling="bilinear", add_mask=True,
                   in_memory=False, tms=WEB_MERCATOR_TILES)
    try:
        with rasterio.open(source) as src:
            if src.crs is None or CRS.from_user_input(src.crs.to_wkt()) != crs:
                with WarpedVRT(src, src_crs=crs.to_wkt(), crs=crs.to_wkt(), transform=src.transform,
                               width=src.width, height=src.height) as vrt:
                    cog_translate(vrt, str(target), profile, **options)
            else:
                cog_translate(src, str(target), profile, **options)
    except RasterioIOError as e:
        raise RasterError(msg("imagery.truncated", file=source.name, detail=_gdal_detail(e))) from None


# --- reading it back -----------------------------------------------------------------------

MEDIA_TYPES = {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp"}


def cog_tile(path: str | Path, z: int, x: int, y: int, fmt: str = "png") -> bytes | None:
    """A 256-px Web Mercator tile of a kept COG (rio-tiler), transparent where the image is not;
    None where the tile holds none of it."""
    with _quiet(), Reader(str(path)) as src:
        try:
            image = src.tile(x, y, z, tilesize=256)
        except TileOutsideBounds:
            return None
    if not image.mask.any():
        return None
    return image.render(img_format="WEBP" if fmt == "webp" else "PNG", add_mask=True)


def cut_tile(data: bytes, area, tile: tuple[int, int, int], fmt: str) -> bytes | None:
    """A tile with everything outside ``area`` (EPSG:4490) made transparent, as ``fmt``; None when
    nothing of it is left. For tiles that reach beyond a user's units."""
    from PIL import Image
    from rasterio.features import geometry_mask
    from rasterio.transform import from_bounds

    bounds = tile_bounds_3857(*tile)
    inside = ~geometry_mask([shapely.transform(area, _to_web_mercator)], out_shape=(256, 256),
                            transform=from_bounds(*bounds, 256, 256), all_touched=True)
    if not inside.any():
        return None
    image = Image.open(io.BytesIO(data)).convert("RGBA")
    pixels = np.asarray(image).copy()
    pixels[..., 3] = np.where(inside, pixels[..., 3], 0)
    out = io.BytesIO()
    Image.fromarray(pixels, "RGBA").save(out, format="WEBP" if fmt == "webp" else "PNG")
    return out.getvalue()


#: Made once: PROJ takes ~20 ms to choose CGCS2000's transformation each time one is made.
_WEB_MERCATOR = Transformer.from_crs(STORAGE_CRS, 3857, always_xy=True)


def _to_web_mercator(xy: np.ndarray) -> np.ndarray:
    return np.column_stack(_WEB_MERCATOR.transform(xy[:, 0], xy[:, 1]))


@contextmanager
def _quiet():
    """rio-tiler warns of a COG without overviews: a small image has none and needs none."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoOverviewWarning)
        yield


def image_part(path: str | Path, bounds, crs: str, *, width: int, height: int):
    """The image over ``bounds`` (in ``crs``, e.g. a local metric projection) as an RGBA array of
    ``height`` × ``width``, for documents; None when the image holds none of it. Reads COGs and
    MBTiles alike (GDAL's MBTiles driver)."""
    target = RioCRS.from_user_input(crs)
    with _quiet(), Reader(str(path)) as src:
        try:
            image = src.part(bounds, dst_crs=target, bounds_crs=target, width=width, height=height)
        except TileOutsideBounds:
            return None
    data = image.data
    if data.shape[0] == 1:
        data = np.repeat(data, 3, axis=0)
    rgba = np.concatenate([data[:3], image.mask[None, ...]], axis=0).transpose(1, 2, 0).astype("uint8")
    return rgba if image.mask.any() else None
