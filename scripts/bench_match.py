#!/usr/bin/env python
"""Benchmark matching patches to villages against the floor of a spatial join.

    python scripts/bench_match.py --patches 100000 --villages 10000

Makes ``--villages`` Voronoi villages tiling a 1° × 1° county and ``--patches`` small
patches (6–40 vertices) scattered over it; stores both in a fresh SpatiaLite file
and a fresh PostGIS database (not timed); then times, each in a fresh process:

- floor: ``geopandas.sjoin`` (intersects) + geodesic areas of the intersections
- ``patches rematch`` (read patches, match, write shares) on each backend

and checks that both agree on every patch's main village. Target: ≤ 2× the floor.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench_import import peak_rss_mb  # noqa: E402
from benchlib import against_goal  # noqa: E402


def generate(folder: Path, n_patches: int, n_villages: int, seed: int = 7) -> None:
    import geopandas as gpd
    import numpy as np
    import pyogrio
    import shapely

    rng = np.random.default_rng(seed)
    box = shapely.box(106.0, 29.5, 107.0, 30.5)
    seeds = shapely.points(rng.uniform(106.0, 107.0, n_villages), rng.uniform(29.5, 30.5, n_villages))
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=box))
    cells = shapely.intersection(cells, box)
    villages = gpd.GeoDataFrame({
        "CJQYDM": [f"500109{100 + i // 700:03d}{200 + i % 700:03d}" for i in range(len(cells))],
        "CJQYMC": [f"村{i}" for i in range(len(cells))],
    }, geometry=cells, crs=4490)
    pyogrio.write_dataframe(villages, folder / "villages.gpkg")
    lon, lat = rng.uniform(106.0, 107.0, n_patches), rng.uniform(29.5, 30.5, n_patches)
    k = rng.integers(6, 41, n_patches)
    geoms = []
    for x, y, kk in zip(lon, lat, k):
        ang = np.sort(rng.uniform(0, 2 * np.pi, kk))
        r = rng.uniform(10, 80) / 111_000 * rng.uniform(0.7, 1.0, kk)
        geoms.append(shapely.Polygon(np.column_stack([x + r * np.cos(ang) / 0.87, y + r * np.sin(ang)])))
    geoms = np.array(geoms, dtype=object)
    invalid = ~shapely.is_valid(geoms)
    geoms[invalid] = shapely.make_valid(geoms[invalid])
    patches = gpd.GeoDataFrame({"JCBH": [f"P{i:07d}" for i in range(n_patches)]}, geometry=geoms, crs=4490)
    pyogrio.write_dataframe(patches, folder / "patches.gpkg")


def phase_floor(folder: Path) -> dict:
    import geopandas as gpd
    import pyogrio

    from geo_tracker.core.area import geodesic_area_m2

    patches = pyogrio.read_dataframe(folder / "patches.gpkg")
    villages = pyogrio.read_dataframe(folder / "villages.gpkg")
    start = time.perf_counter()
    joined = gpd.sjoin(patches, villages, predicate="intersects", how="inner")
    inter = joined.geometry.values.intersection(villages.geometry.values[joined["index_right"].to_numpy()])
    joined["overlap"] = geodesic_area_m2(inter)
    best = joined.sort_values("overlap", ascending=False).drop_duplicates("JCBH")
    main = dict(zip(best["JCBH"], best["CJQYDM"]))
    return {"work_s": time.perf_counter() - start, "main": main}


def phase_setup(folder: Path, url: str) -> dict:
    from datetime import date

    from geo_tracker.services.batches import ImportOptions, import_batch
    from geo_tracker.services.boundaries import BoundaryOptions, import_boundaries
    from geo_tracker.services.database import init_database
    from geo_tracker.store import open_store

    init_database(url)
    with open_store(url) as store:
        import_batch(store, folder / "patches.gpkg",
                     ImportOptions(source="other", batch="bench", issued_on=date(2023, 6, 30)))
        import_boundaries(store, folder / "villages.gpkg",
                          BoundaryOptions(level="village", tolerance_m2=1e12))
    return {}


def phase_rematch(url: str) -> dict:
    import sqlalchemy as sa

    from geo_tracker.services.patches import rematch_patches
    from geo_tracker.store import open_store

    with open_store(url) as store:
        start = time.perf_counter()
        counts = rematch_patches(store)
        elapsed = time.perf_counter() - start
        with store.engine.connect() as conn:
            main = dict(conn.execute(sa.text(
                "SELECT p.patch_code, m.village_code FROM patches p JOIN patch_matches m ON m.patch_id = p.id "
                "WHERE NOT m.outside")).all())
    return {"work_s": elapsed, "counts": counts, "main": main}


def run_phase(args: list[str]) -> dict:
    proc = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True)
    if proc.returncode:
        sys.exit(f"phase {args[:2]} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patches", type=int, default=100_000)
    parser.add_argument("--villages", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pg", default=os.environ.get("GEO_TRACKER_TEST_PG", "postgresql://postgres@127.0.0.1:5432"))
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--dir", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        out = {"floor": lambda: phase_floor(Path(args.dir)), "setup": lambda: phase_setup(Path(args.dir), args.url),
               "rematch": lambda: phase_rematch(args.url)}[args.phase]()
        out["peak_rss_mb"] = peak_rss_mb()
        print(json.dumps(out))
        return

    with tempfile.TemporaryDirectory(prefix="geo_tracker_bench_") as tmp:
        folder = Path(tmp)
        generate(folder, args.patches, args.villages)
        urls = {"spatialite": f"sqlite:///{tmp}/bench.sqlite",
                "postgis": f"{args.pg}/geo_tracker_bench_{uuid.uuid4().hex[:8]}"}
        try:
            for url in urls.values():
                run_phase(["--phase", "setup", "--dir", tmp, "--url", url])
            floor = min((run_phase(["--phase", "floor", "--dir", tmp]) for _ in range(args.repeat)),
                        key=lambda r: r["work_s"])
            results = {name: min((run_phase(["--phase", "rematch", "--url", url]) for _ in range(args.repeat)),
                                 key=lambda r: r["work_s"]) for name, url in urls.items()}
        finally:
            subprocess.run(["psql", f"{args.pg}/postgres", "-qc",
                            f'DROP DATABASE IF EXISTS "{urls["postgis"].rsplit("/", 1)[1]}"'], capture_output=True)
    print(f"floor      {floor['work_s']:7.2f} s   peak RSS {floor['peak_rss_mb']:6.0f} MB")
    for name, r in results.items():
        disagree = sum(1 for code, village in floor["main"].items() if r["main"].get(code) != village)
        assert disagree <= len(floor["main"]) * 1e-4, f"{name}: {disagree} patches matched differently"
        print(f"{name:10s} {r['work_s']:7.2f} s   peak RSS {r['peak_rss_mb']:6.0f} MB   {r['counts']}   "
              f"{disagree} differ from the floor (ties)")
    print(f"ratios, {args.patches} patches vs {args.villages} villages, fastest of {args.repeat} "
          "(rematch incl. reading and writing / sjoin + intersection areas):")
    for name, r in results.items():
        print(f"  {name}: {against_goal(r['work_s'] / floor['work_s'], 1.5)}")


if __name__ == "__main__":
    main()
