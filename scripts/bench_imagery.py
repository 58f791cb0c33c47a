#!/usr/bin/env python
"""Benchmark imagery (影像): serving tiles, and converting a GeoTIFF to a COG.

    python scripts/bench_imagery.py                       # 6 000 px square orthophoto, 300 tiles
    python scripts/bench_imagery.py --size 12000 --tiles 600

Why (issue #24): a township opens a patch page and both compare maps ask for a dozen tiles at
once; an office imports a county's orthophoto once. Two ratios against floors measured in the
same run, on the same files:

- tiles: GET /imagery/{id}/tiles/{z}/{x}/{y}.png from ``geo-tracker serve`` (tests/live_server.py,
  SpatiaLite, one admin's bearer token, over loopback), each tile once in a shuffled order at
  zooms 15–18 over the image; the floor is rio-tiler itself on the same COG and tiles, in this
  process: ``Reader(cog).tile(x, y, z).render("PNG")``, the reader opened per tile as the
  service opens it. p50 and p95 of each; goal: service p50 ≤ 1.5 × floor p50.
- conversion: ``geo-tracker imagery import`` (start-up, inspect, SHA-256, rio-cogeo's COG warped
  onto the Web Mercator tile grid with overviews and a mask, the row) against ``gdal_translate
  -of COG -co TILING_SCHEME=GoogleMapsCompatible -co COMPRESS=DEFLATE -co PREDICTOR=2`` (Debian's
  GDAL doing the same warp) of the same GeoTIFF; best of ``--repeat``. Also shown: the plain
  ``gdal_translate -of COG`` (no warp) and the command's start-up alone (``geo-tracker --version``).

The source is a synthetic RGB orthophoto (fields at several scales, noise, roads) in CGCS2000
3° zone 36 with the zone in the eastings (EPSG:4524), 0.5 m pixels, tiled and deflated as
survey offices deliver them. Nothing is asserted; the exit status is 0.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import rasterio
from rasterio.transform import from_origin

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from live_server import running_server  # noqa: E402

CENTRE_E, CENTRE_N, PIXEL_M = 36_509_000.0, 3_297_000.0, 0.5
GOAL = 1.5


def orthophoto(path: Path, size: int, seed: int = 3) -> Path:
    """A ``size`` × ``size`` RGB GeoTIFF (EPSG:4524, 512-px tiles, deflate), written in strips of rows."""
    rng = np.random.default_rng(seed)
    coarse = rng.random((3, 64, 64))
    profile = dict(driver="GTiff", width=size, height=size, count=3, dtype="uint8", crs="EPSG:4524",
                   transform=from_origin(CENTRE_E - size * PIXEL_M / 2, CENTRE_N + size * PIXEL_M / 2, PIXEL_M, PIXEL_M),
                   tiled=True, blockxsize=512, blockysize=512, compress="deflate")
    with rasterio.open(path, "w", **profile) as dst:
        for top in range(0, size, 512):
            rows = min(512, size - top)
            r = (np.arange(top, top + rows) * 64 // size)[:, None]
            c = (np.arange(size) * 64 // size)[None, :]
            tone = coarse[:, r, c]
            base = np.array([70, 120, 55])[:, None, None] * (1 - tone) + np.array([170, 150, 100])[:, None, None] * tone
            noise = rng.normal(0, 8, (3, rows, size))
            block = (base + noise).clip(0, 255).astype("uint8")
            block[:, :, (np.arange(size) % 900) < 8] = 200          # a road every 450 m
            dst.write(block, window=((top, top + rows), (0, size)))
    return path


def tiles_over(cog: Path, count: int, zooms=(15, 16, 17, 18), seed: int = 5) -> list[tuple[int, int, int]]:
    import morecantile
    from rio_tiler.io import Reader

    from rasterio.crs import CRS

    with Reader(str(cog)) as src:
        west, south, east, north = src.get_geographic_bounds(CRS.from_epsg(4326))
    tms = morecantile.tms.get("WebMercatorQuad")
    found = [(t.z, t.x, t.y) for z in zooms for t in tms.tiles(west, south, east, north, [z])]
    random.Random(seed).shuffle(found)
    by_zoom = {z: [t for t in found if t[0] == z] for z in zooms}
    picked = [t for z in zooms for t in by_zoom[z][: count // len(zooms)]]
    random.Random(seed + 1).shuffle(picked)
    return picked


def floor_ms(cog: Path, tiles) -> list[float]:
    from rio_tiler.io import Reader

    times = []
    for z, x, y in tiles:
        start = time.perf_counter()
        with Reader(str(cog)) as src:
            src.tile(x, y, z).render(img_format="PNG")
        times.append((time.perf_counter() - start) * 1000)
    return times


def service_ms(base: str, token: str, layer: int, tiles) -> list[float]:
    times = []
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as web:
        web.get(f"/imagery/{layer}/tiles/{tiles[0][0]}/{tiles[0][1]}/{tiles[0][2]}.png")   # warm the layer list
        for z, x, y in tiles:
            start = time.perf_counter()
            answer = web.get(f"/imagery/{layer}/tiles/{z}/{x}/{y}.png")
            times.append((time.perf_counter() - start) * 1000)
            assert answer.status_code in (200, 404), answer.text
    return times


GDAL_COG = ["gdal_translate", "-q", "-of", "COG", "-co", "COMPRESS=DEFLATE", "-co", "PREDICTOR=2"]


def timed(command: list[str], **kw) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, **kw)
    return time.perf_counter() - start


def conversion(source: Path, folder: Path, repeat: int) -> dict:
    cli = str(Path(sys.executable).with_name("geo-tracker"))
    ours, gdal, plain, startup, our_size, gdal_size = [], [], [], [], 0, 0
    for i in range(repeat):
        url = f"sqlite:///{folder / f'convert{i}.sqlite'}"
        subprocess.run([cli, "--db", url, "init"], check=True, capture_output=True)
        env = {"GEO_TRACKER_IMAGERY_DIR": str(folder / f"imagery{i}"), "PATH": "/usr/bin:/bin", "HOME": str(folder)}
        ours.append(timed([cli, "--db", url, "imagery", "import", str(source), "--date", "2024-05-01"], env=env))
        startup.append(timed([cli, "--version"], env=env))
        our_size = sum(p.stat().st_size for p in (folder / f"imagery{i}").rglob("*.tif"))
        target = folder / f"gdal{i}.tif"
        gdal.append(timed(GDAL_COG + ["-co", "TILING_SCHEME=GoogleMapsCompatible", str(source), str(target)]))
        gdal_size = target.stat().st_size
        plain.append(timed(GDAL_COG + [str(source), str(folder / f"plain{i}.tif")]))
    return {"ours": min(ours), "gdal": min(gdal), "plain": min(plain), "startup": min(startup),
            "our_size": our_size, "gdal_size": gdal_size}


def percentile(values, share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--size", type=int, default=6000, help="pixels on a side (0.5 m each)")
    parser.add_argument("--tiles", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3, help="conversions of each kind (best taken)")
    args = parser.parse_args()
    if not shutil.which("gdal_translate"):
        sys.exit("gdal_translate is missing: apt-get install gdal-bin")
    with tempfile.TemporaryDirectory(prefix="bench_imagery_") as tmp:
        folder = Path(tmp)
        start = time.perf_counter()
        source = orthophoto(folder / "正射影像.tif", args.size)
        print(f"source: {args.size}×{args.size} px RGB, EPSG:4524, {source.stat().st_size / 2**20:.0f} MiB, "
              f"written in {time.perf_counter() - start:.1f} s")
        c = conversion(source, folder, args.repeat)
        print(f"conversion (best of {args.repeat}): geo-tracker imagery import {c['ours']:.2f} s "
              f"({c['our_size'] / 2**20:.0f} MiB; of which start-up {c['startup']:.2f} s); gdal_translate -of COG "
              f"GoogleMapsCompatible {c['gdal']:.2f} s ({c['gdal_size'] / 2**20:.0f} MiB); plain -of COG "
              f"{c['plain']:.2f} s")
        print(f"ratio {c['ours'] / c['gdal']:.2f}× the same warp by GDAL "
              f"({(c['ours'] - c['startup']) / c['gdal']:.2f}× without the start-up)")
        measure_tiles(folder, source, args.tiles)


def measure_tiles(folder: Path, source: Path, count: int) -> None:
    import os
    from datetime import date

    from geo_tracker.services import accounts
    from geo_tracker.services.database import init_database
    from geo_tracker.services.imagery import import_imagery, visible_layers
    from geo_tracker.store import open_store

    url = f"sqlite:///{folder / 'serve.sqlite'}"
    os.environ["GEO_TRACKER_IMAGERY_DIR"] = str(folder / "served")
    init_database(url)
    with open_store(url) as store:
        layer = import_imagery(store, source, acquired_on=date(2024, 5, 1)).imported[0]
        accounts.add_user(store, "bench", "bench-imagery-1", "admin", ["*"])
        token = accounts.create_token(store, "bench", "bench")
        cog = Path(visible_layers(store)[0]["stored_path"])
    tiles = tiles_over(cog, count)
    floor_ms(cog, tiles[:20])                                           # warm the OS cache and GDAL
    floor = floor_ms(cog, tiles)
    with running_server(url, folder / "server.log") as base:
        served = service_ms(base, token, layer["id"], tiles)
    print(f"tiles ({len(tiles)}, zooms 15–18, one request each):")
    print(f"  floor  rio-tiler Reader.tile + render PNG: p50 {statistics.median(floor):.1f} ms, "
          f"p95 {percentile(floor, 0.95):.1f} ms")
    print(f"  served GET /imagery/…/tiles/…png:        p50 {statistics.median(served):.1f} ms, "
          f"p95 {percentile(served, 0.95):.1f} ms")
    ratio = statistics.median(served) / statistics.median(floor)
    print(f"ratio p50 {ratio:.2f}× (goal ≤ {GOAL}×), p95 {percentile(served, 0.95) / percentile(floor, 0.95):.2f}×")


if __name__ == "__main__":
    main()
