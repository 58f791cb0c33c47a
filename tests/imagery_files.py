"""Imagery shaped like what a township receives, written by the tests with rasterio: GeoTIFFs in
CGCS2000 Gauss-Krüger (with and without the zone in the eastings) and lon/lat, each with a
coloured square at a known place; an MBTiles; a delivery zip whose attributes name image clips;
and broken files."""

from __future__ import annotations

import io
import sqlite3
import zipfile
from pathlib import Path

import morecantile
import numpy as np
import rasterio
from PIL import Image
from pyproj import Transformer
from rasterio.transform import from_origin

GREEN, RED, GREY = (40, 120, 40), (230, 20, 20), (140, 140, 150)
TMS = morecantile.tms.get("WebMercatorQuad")


def square_geotiff(path: Path, crs: str | None, centre: tuple[float, float], *, pixel: float = 0.5,
                   size: int = 600, square_m: float = 20.0, colour=RED, background=GREEN,
                   coords_crs: str | None = None, compress: str | None = "deflate", driver: str = "GTiff") -> Path:
    """A GeoTIFF of ``size`` pixels around ``centre`` (lon, lat in EPSG:4490) with a ``square_m``
    square of ``colour`` centred on it. ``crs`` is what the file declares (None: no CRS at all);
    ``coords_crs`` the grid's own when it differs (a file whose georeference lost its CRS).
    A lon/lat grid uses pixels of ``pixel`` metres at that latitude."""
    grid = coords_crs or crs
    x, y = Transformer.from_crs(4490, grid, always_xy=True).transform(*centre)
    step = pixel if not grid.endswith("4490") else pixel / 111320.0
    step_x = step if not grid.endswith("4490") else pixel / (111320.0 * np.cos(np.radians(centre[1])))
    data = np.empty((3, size, size), np.uint8)
    for band in range(3):
        data[band] = background[band]
    half = int(round(square_m / pixel / 2))
    mid = size // 2
    for band in range(3):
        data[band, mid - half:mid + half, mid - half:mid + half] = colour[band]
    transform = from_origin(x - size / 2 * step_x, y + size / 2 * step, step_x, step)
    profile = dict(driver=driver, width=size, height=size, count=3, dtype="uint8", transform=transform)
    if crs:
        profile["crs"] = crs
    if driver == "JPEG":
        profile["WORLDFILE"] = "YES"
    elif compress:
        profile["compress"] = compress
    path.parent.mkdir(parents=True, exist_ok=True)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)
    return path


def square_lonlat_bounds(centre, square_m: float, grid: str) -> tuple[float, float, float, float]:
    """(west, south, east, north) of the square :func:`square_geotiff` draws, as the grid has it."""
    to_grid = Transformer.from_crs(4490, grid, always_xy=True)
    back = Transformer.from_crs(grid, 4490, always_xy=True)
    x, y = to_grid.transform(*centre)
    if grid.endswith("4490"):
        dx = square_m / 2 / (111320.0 * np.cos(np.radians(centre[1])))
        dy = square_m / 2 / 111320.0
        return centre[0] - dx, centre[1] - dy, centre[0] + dx, centre[1] + dy
    (w, s), (e, n) = back.transform(x - square_m / 2, y - square_m / 2), back.transform(x + square_m / 2, y + square_m / 2)
    return w, s, e, n


def tile_pixel(lon: float, lat: float, tile) -> tuple[float, float]:
    """Where (lon, lat) falls in a 256-px tile, in pixels from its upper left corner."""
    bounds = TMS.xy_bounds(tile)
    mx, my = TMS.xy(lon, lat)
    return ((mx - bounds.left) / (bounds.right - bounds.left) * 256,
            (bounds.top - my) / (bounds.top - bounds.bottom) * 256)


def png_tile(colour=RED) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (256, 256), colour).save(out, format="PNG")
    return out.getvalue()


def mbtiles(path: Path, centre: tuple[float, float], zoom: int = 17, colour=RED) -> tuple[Path, tuple, bytes]:
    """An MBTiles (format png) with one tile at ``zoom`` over ``centre``; returns (path, (z, x, y), bytes)."""
    tile = TMS.tile(*centre, zoom)
    data = png_tile(colour)
    west, south, east, north = TMS.bounds(tile)
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
        db.execute("CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB)")
        db.executemany("INSERT INTO metadata VALUES (?, ?)", [
            ("name", "县DOM"), ("format", "png"), ("bounds", f"{west},{south},{east},{north}"),
            ("minzoom", str(zoom)), ("maxzoom", str(zoom))])
        db.execute("INSERT INTO tiles VALUES (?, ?, ?, ?)", (zoom, tile.x, (1 << zoom) - 1 - tile.y, data))
    return path, (zoom, tile.x, tile.y), data


def truncated(path: Path, source: Path) -> Path:
    """A GeoTIFF cut short, as an interrupted copy leaves it."""
    data = source.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def no_georeference(path: Path) -> Path:
    """A TIFF with pixels and nothing else: no CRS, no geotransform, no world file."""
    with rasterio.open(path, "w", driver="GTiff", width=64, height=64, count=3, dtype="uint8") as dst:
        dst.write(np.full((3, 64, 64), 100, np.uint8))
    return path


def clip_delivery(tmp: Path, frame, clips: dict[int, dict[str, tuple]], name="2023年卫片执法截图.zip",
                  jpeg: frozenset = frozenset()) -> Path:
    """A delivery zip: the patches (a GBK shapefile in zone 35) with fields QSIMG / HSIMG naming clips
    under 截图/, and the clips themselves. ``clips``: feature position -> {"QS"|"HS": colour}; the
    (position, phase) pairs in ``jpeg`` are a JPEG with a world file and no CRS at all, as screen
    clips often come."""
    import bureau_files as bf

    folder = tmp / "clips_delivery"
    frame = frame.copy()
    frame["QSIMG"], frame["HSIMG"] = "", ""
    for position, phases in clips.items():
        code = frame["JCBH"].iloc[position]
        centre = frame.geometry.iloc[position].centroid
        for phase, colour in phases.items():
            as_jpeg = (position, phase) in jpeg
            member = f"截图/{code}_{phase}.{'jpg' if as_jpeg else 'tif'}"
            square_geotiff(folder / member, None if as_jpeg else "EPSG:4523", (centre.x, centre.y), size=400,
                           square_m=30.0, colour=colour, background=GREEN if phase == "QS" else GREY,
                           coords_crs="EPSG:4523", driver="JPEG" if as_jpeg else "GTiff")
            frame.loc[frame.index[position], f"{phase}IMG"] = member.replace("/", "\\")
    bf.write_shapefile(frame, folder / "2023年卫片图斑.shp", crs=4523, keep_cpg=False)
    archive = tmp / name
    with zipfile.ZipFile(archive, "w") as zf:
        for file in sorted(folder.rglob("*")):
            if file.is_file():
                zf.write(file, file.relative_to(folder).as_posix())
    return archive
