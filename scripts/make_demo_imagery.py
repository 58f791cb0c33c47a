"""Write the demo's synthetic before/after imagery (data/imagery/) over the sample patch
500109202302002, the one the demo leaves waiting for the county's review (待审核).

前时相 (2022-10-15, the delivery's QSX): fields and a track, in CGCS2000 3° Gauss-Krüger zone 35
with the zone in the eastings (EPSG:4523). 后时相 (2023-04-20, its HSX): the same ground with a
grey roof on every sample patch in view, in CGCS2000 lon/lat (EPSG:4490). Both are small JPEG
GeoTIFFs; `geo-tracker demo` imports them (converted to COGs). Run again only to change them:

    .venv/bin/python scripts/make_demo_imagery.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio
import shapely
from pyproj import Transformer
from rasterio.features import rasterize
from rasterio.transform import from_origin

from geo_tracker.io.readers import read_delivery

DATA = Path(__file__).resolve().parents[1] / "data"
BATCH = DATA / "batches" / "2023年卫片执法第2批.zip"
PATCH, MARGIN_M, PIXEL_M = "500109202302002", 160.0, 0.5


def ground(height: int, width: int, seed: int) -> np.ndarray:
    """Fields: soft patches of green and ochre at a few scales, as an RGB array."""
    rng = np.random.default_rng(seed)
    tone = np.zeros((height, width))
    for cells, weight in ((6, 1.0), (24, 0.35), (96, 0.12)):
        coarse = rng.random((cells, cells))
        rows = np.linspace(0, cells - 1, height).astype(int)
        cols = np.linspace(0, cells - 1, width).astype(int)
        tone += weight * coarse[rows][:, cols]
    tone = (tone - tone.min()) / np.ptp(tone)
    green, ochre = np.array([88, 132, 62]), np.array([168, 150, 96])
    rgb = green[:, None, None] * (1 - tone) + ochre[:, None, None] * tone
    return (rgb + rng.normal(0, 6, (3, height, width))).clip(0, 255).astype("uint8")


def write(path: Path, rgb: np.ndarray, crs: str, transform) -> None:
    profile = dict(driver="GTiff", width=rgb.shape[2], height=rgb.shape[1], count=3, dtype="uint8", crs=crs,
                   transform=transform, compress="JPEG", photometric="YCbCr", jpeg_quality=88, tiled=True)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(rgb)
    print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB)")


def main() -> None:
    frame = read_delivery(BATCH).frame
    first = frame.geometry[frame["JCBH"] == PATCH].iloc[0]
    to_gk = Transformer.from_crs(4490, 4523, always_xy=True)
    x0, y0, x1, y1 = shapely.transform(first, lambda xy: np.column_stack(to_gk.transform(*xy.T))).bounds
    left, top = x0 - MARGIN_M, y1 + MARGIN_M
    width, height = int((x1 - x0 + 2 * MARGIN_M) / PIXEL_M), int((y1 - y0 + 2 * MARGIN_M) / PIXEL_M)
    gk = from_origin(left, top, PIXEL_M, PIXEL_M)
    before = ground(height, width, seed=7)
    track = shapely.LineString([(left, top - height * PIXEL_M * 0.8), (left + width * PIXEL_M, top - height * PIXEL_M * 0.65)])
    road = rasterize([(track.buffer(3), 1)], out_shape=(height, width), transform=gk).astype(bool)
    before[:, road] = np.array([196, 186, 160])[:, None]
    DATA.joinpath("imagery").mkdir(exist_ok=True)
    write(DATA / "imagery" / "澄江镇_20221015_前时相.tif", before, "EPSG:4523", gk)

    # 后时相 in lon/lat: the same pixels resampled onto a CGCS2000 grid, roofs on the patches.
    to_lonlat = Transformer.from_crs(4523, 4490, always_xy=True)
    west, south = to_lonlat.transform(left, top - height * PIXEL_M)
    east, north = to_lonlat.transform(left + width * PIXEL_M, top)
    step = (north - south) / height
    lon_width = int((east - west) / step)
    lonlat = from_origin(west, north, step, step)
    cols, rows = np.meshgrid(np.arange(lon_width) + 0.5, np.arange(height) + 0.5)
    gx, gy = to_gk.transform(west + cols * step, north - rows * step)
    src_c = ((gx - left) / PIXEL_M).astype(int).clip(0, width - 1)
    src_r = ((top - gy) / PIXEL_M).astype(int).clip(0, height - 1)
    after = ground(height, width, seed=11)[:, src_r, src_c]
    after[:, road[src_r, src_c]] = np.array([196, 186, 160])[:, None]
    view = shapely.box(west, south, east, north)
    shown = [g for g in frame.geometry if g.intersects(view)]
    roofs = rasterize([(g, 1) for g in shown], out_shape=(height, lon_width), transform=lonlat).astype(bool)
    edges = rasterize([(g.boundary.buffer(step * 2), 1) for g in shown], out_shape=(height, lon_width),
                      transform=lonlat).astype(bool)
    after[:, roofs] = np.array([150, 154, 160])[:, None]
    after[:, edges & roofs] = np.array([96, 98, 104])[:, None]
    write(DATA / "imagery" / "澄江镇_20230420_后时相.tif", after, "EPSG:4490", lonlat)


if __name__ == "__main__":
    main()
