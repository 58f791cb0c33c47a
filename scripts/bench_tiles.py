#!/usr/bin/env python
"""Benchmark vector-tile generation against a bare ST_AsMVT query on the same tiles.

    python scripts/bench_tiles.py --patches 100000 --tiles 60
    python scripts/bench_tiles.py --patches 1000000 --tiles 60 --postgis-only

Fills a fresh PostGIS database and a SpatiaLite file in SQL (bench_stats.py's
patches: small squares over ~1° × 1°), picks tiles at zooms 14–16 over the data,
and times each tile, fastest of --repeat: geo_tracker's tile (both backends) and,
on PostGIS, the floor of one bare ST_AsMVT/ST_AsMVTGeom query; then the same tiles as of a
date (status folded from the events of the tile's patches). Prints p50/p95 last.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
from pathlib import Path

import numpy as np
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench_stats import AS_OF, fill  # noqa: E402

from benchlib import against_goal, fastest, scratch_postgres  # noqa: E402
from geo_tracker.services.database import init_database  # noqa: E402
from geo_tracker.services.tiles import patch_tile  # noqa: E402
from geo_tracker.store import open_store  # noqa: E402

FLOOR = """
SELECT ST_AsMVT(q.*, 'patches') FROM (
  SELECT ST_AsMVTGeom(ST_Transform(geom, 3857), ST_TileEnvelope(:z, :x, :y)) AS geom, patch_code
  FROM patches WHERE geom && ST_Transform(ST_TileEnvelope(:z, :x, :y), 4490)) AS q
"""


def tiles(count: int, n: int) -> list[tuple[int, int, int]]:
    import math

    rng = random.Random(7)
    rows = max(1, n // 1000)
    out = []
    for _ in range(count):
        z = rng.choice([14, 15, 16])
        lon, lat = 106 + rng.random() * 1.0, 29 + rng.random() * rows * 0.0001
        k = 2 ** z
        out.append((z, int((lon + 180) / 360 * k),
                    int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * k)))
    return out


def timed(fn, repeat: int) -> float:
    """Milliseconds of the fastest of ``repeat`` calls."""
    return fastest(fn, repeat) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patches", type=int, default=100_000)
    parser.add_argument("--postgis-only", action="store_true", help="skip SpatiaLite (its goal is at 100 000)")
    parser.add_argument("--tiles", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pg", default=os.environ.get("GEO_TRACKER_TEST_PG", "postgresql://postgres@127.0.0.1:5432"))
    args = parser.parse_args()
    sample = tiles(args.tiles, args.patches)
    report = {}
    with tempfile.TemporaryDirectory(prefix="geo_tracker_bench_") as tmp, scratch_postgres(args.pg) as pg_url:
        urls = {"spatialite": f"sqlite:///{tmp}/tiles.sqlite", "postgis": pg_url}
        if args.postgis_only:
            del urls["spatialite"]
        for backend, url in urls.items():
            init_database(url)
            with open_store(url) as store:
                fill(store, args.patches)
                report[backend] = [timed(lambda t=t: patch_tile(store, *t), args.repeat) for t in sample]
                report[f"{backend} as_of"] = [timed(lambda t=t: patch_tile(store, *t, as_of=AS_OF), args.repeat)
                                              for t in sample]
                if backend == "postgis":
                    with store.engine.connect() as conn:
                        report["floor (bare ST_AsMVT)"] = [
                            timed(lambda t=t: conn.execute(sa.text(FLOOR), dict(zip("zxy", t))).scalar(), args.repeat)
                            for t in sample]
    print(f"tile generation, {args.patches} patches, {args.tiles} tiles at z14–16 (ms per tile, fastest of {args.repeat}):")
    for label, values in report.items():
        print(f"  {label:24s} p50 {np.percentile(values, 50):7.2f}   p95 {np.percentile(values, 95):7.2f}")
    floor = report["floor (bare ST_AsMVT)"]
    print(f"  postgis / floor at p50: {np.percentile(report['postgis'], 50) / np.percentile(floor, 50):.2f}x")
    print(f"  postgis / floor at p95: "
          f"{against_goal(np.percentile(report['postgis'], 95) / np.percentile(floor, 95), 1.5)}")
    if "spatialite" in report:
        print(f"  spatialite / postgis at p95: "
              f"{against_goal(np.percentile(report['spatialite'], 95) / np.percentile(report['postgis'], 95), 3)}")
    print(f"  postgis as_of {AS_OF} / floor at p95: "
          f"{against_goal(np.percentile(report['postgis as_of'], 95) / np.percentile(floor, 95), 2)}")


if __name__ == "__main__":
    main()
