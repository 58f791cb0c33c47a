#!/usr/bin/env python
"""Benchmark `batches import` against the floor of reading and measuring the same file.

    python scripts/bench_import.py --n 100000

Generates a synthetic 卫片执法 batch the way bureaus send it (GBK shapefile, no .prj,
CGCS2000 3° zone 35 with the zone prefix; 6–40 vertices, 20 % with a hole), then
measures, each in a fresh process so peak RSS is its own (fastest of --repeat runs):

- floor: ``pyogrio.read_dataframe`` + transform to EPSG:4490 + vectorised geodesic area
- import into SpatiaLite (fresh file) and into PostGIS (fresh database)

and checks that every run accepted all patches with the same total area. Ratios
are printed last. The target is ≤ 3× the floor on both backends.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from benchlib import against_goal, fastest  # noqa: E402


def generate(path: Path, n: int, seed: int = 42) -> None:
    import geopandas as gpd
    import numpy as np
    import pyogrio
    import shapely

    rng = np.random.default_rng(seed)
    lon = rng.uniform(106.2, 106.8, n)
    lat = rng.uniform(29.6, 30.2, n)
    radius = rng.uniform(10, 120, n) / 111_000
    k = rng.integers(6, 41, n)
    owner = np.repeat(np.arange(n), k + 1)
    ang = rng.uniform(0, 2 * np.pi, k.sum() + n)
    # sort angles within each ring and close it
    order = np.lexsort((ang, owner))
    ang = ang[order]
    starts = np.r_[0, np.cumsum(k + 1)[:-1]]
    ang[starts + k] = ang[starts]
    r = radius[owner] * rng.uniform(0.6, 1.0, len(owner))
    r[starts + k] = r[starts]
    coords = np.column_stack([lon[owner] + r * np.cos(ang) / np.cos(np.radians(lat[owner])),
                              lat[owner] + r * np.sin(ang)])
    shells = shapely.linearrings(coords, indices=owner)
    geoms = shapely.polygons(shells)
    with_hole = np.flatnonzero(rng.random(n) < 0.2)
    for i in with_hole:
        c = radius[i] * 0.2
        hole = [(lon[i] - c, lat[i] - c), (lon[i] - c, lat[i] + c), (lon[i] + c, lat[i] + c),
                (lon[i] + c, lat[i] - c)]
        geoms[i] = shapely.Polygon(geoms[i].exterior.coords, [hole])
    invalid = ~shapely.is_valid(geoms)
    geoms[invalid] = shapely.make_valid(geoms[invalid])  # a hole crossing a shell chord
    from geo_tracker.core.area import geodesic_area_mu

    mu = geodesic_area_mu(geoms)
    frame = gpd.GeoDataFrame({
        "JCBH": [f"5001090{i:07d}" for i in range(n)],
        "XZQDM": "500109107",
        "XZQMC": "北碚区澄江镇",
        "JCMJ": np.round(mu, 2),
        "GDMJ": np.round(mu * rng.uniform(0, 1, n), 2),
        "BHLX": rng.choice(["建房", "建坟", "开路", "搭建农用设施"], n),
        "BZ": "卫片执法监测图斑",
    }, geometry=geoms, crs=4490).to_crs(4523)
    pyogrio.write_dataframe(frame, path, encoding="GBK")
    path.with_suffix(".prj").unlink()
    path.with_suffix(".cpg").unlink(missing_ok=True)


def phase_floor(path: Path) -> dict:
    import pyogrio

    from geo_tracker.core.area import geodesic_area_mu

    start = time.perf_counter()
    frame = pyogrio.read_dataframe(path, encoding="GBK")
    frame = frame.set_crs(4523, allow_override=True).to_crs(4490)
    area = geodesic_area_mu(frame.geometry.values)
    return {"features": len(frame), "area_mu": float(area.sum()), "work_s": time.perf_counter() - start}


def phase_import(path: Path, url: str) -> dict:
    from datetime import date

    from geo_tracker.services.batches import ImportOptions, import_batch
    from geo_tracker.services.database import init_database
    from geo_tracker.store import open_store

    init_database(url)
    with open_store(url) as store:
        start = time.perf_counter()
        report = import_batch(store, path, ImportOptions(
            source="natural-resources", batch="bench", issued_on=date(2023, 6, 30)))
        elapsed = time.perf_counter() - start
    return {"features": report.accepted, "area_mu": report.area_mu, "work_s": elapsed}


def peak_rss_mb() -> float:
    """This process's own peak RSS (VmHWM); ru_maxrss would include the parent's at fork."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_phase(args: list[str]) -> dict:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode:
        sys.exit(f"phase {args[:2]} failed:\n{proc.stderr}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["wall_s"] = wall
    return result


def ogr2ogr_seconds(shp: Path, target: list[str], repeat: int) -> float:
    """The fastest of ``repeat`` runs of GDAL's ogr2ogr loading the same file, reprojected to
    EPSG:4490, into ``target`` (its destination arguments, ``{i}`` numbering a fresh one per run)."""
    runs = iter(range(repeat))

    def load() -> None:
        run = str(next(runs))
        destination = [arg.replace("{i}", run) for arg in target]
        subprocess.run(["ogr2ogr", *destination, str(shp), "-s_srs", "EPSG:4523", "-t_srs", "EPSG:4490",
                        "-nlt", "PROMOTE_TO_MULTI", "-nln", "bench", "-oo", "ENCODING=GBK", "-gt", "65536"],
                       check=True, capture_output=True)
    return fastest(load, repeat)


def ogr2ogr_targets(tmp: str, pg: str, dbs: list[str]) -> dict[str, list[str]]:
    host = pg.split("@")[-1]
    return {"spatialite": ["-f", "SQLite", "-dsco", "SPATIALITE=YES", f"{tmp}/ogr{{i}}.sqlite"],
            "postgis": ["-f", "PostgreSQL", f"PG:host={host.split(':')[0]} port={host.split(':')[-1]} "
                        f"user=postgres dbname={dbs[0]}_ogr{{i}}", "--config", "PG_USE_COPY", "YES"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs per phase; the fastest counts")
    parser.add_argument("--backends", default="spatialite,postgis", help="comma-separated")
    parser.add_argument("--pg", default=os.environ.get("GEO_TRACKER_TEST_PG", "postgresql://postgres@127.0.0.1:5432"))
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.phase:
        start = time.perf_counter()
        out = phase_floor(Path(args.file)) if args.phase == "floor" else phase_import(Path(args.file), args.url)
        out["phase_s"] = time.perf_counter() - start
        out["peak_rss_mb"] = peak_rss_mb()
        print(json.dumps(out))
        return

    with tempfile.TemporaryDirectory(prefix="geo_tracker_bench_") as tmp:
        shp = Path(tmp) / "bench.shp"
        t = time.perf_counter()
        generate(shp, args.n)
        print(f"generated {args.n} patches in {time.perf_counter() - t:.1f} s "
              f"({sum(f.stat().st_size for f in Path(tmp).iterdir()) / 1e6:.0f} MB)", flush=True)
        def best(phase: list[str], url=None) -> dict:
            runs = []
            for i in range(args.repeat):
                extra = ["--url", url(i)] if url else []
                runs.append(run_phase([*phase, "--file", str(shp), *extra]))
            return min(runs, key=lambda r: r["work_s"])

        results = {"floor": best(["--phase", "floor"])}
        backends = args.backends.split(",")
        if "spatialite" in backends:
            results["spatialite"] = best(["--phase", "import"], lambda i: f"sqlite:///{tmp}/bench{i}.sqlite")
        pg_dbs = [f"geo_tracker_bench_{uuid.uuid4().hex[:8]}" for _ in range(args.repeat)]
        ogr = {}
        try:
            if "postgis" in backends:
                results["postgis"] = best(["--phase", "import"], lambda i: f"{args.pg}/{pg_dbs[i]}")
                for i in range(args.repeat):
                    subprocess.run(["psql", f"{args.pg}/postgres", "-qc", f'CREATE DATABASE "{pg_dbs[0]}_ogr{i}"'],
                                   check=True, capture_output=True)
                    subprocess.run(["psql", f"{args.pg}/{pg_dbs[0]}_ogr{i}", "-qc", "CREATE EXTENSION postgis"],
                                   check=True, capture_output=True)
            targets = ogr2ogr_targets(tmp, args.pg, pg_dbs)
            ogr = {name: ogr2ogr_seconds(shp, targets[name], args.repeat) for name in backends}
        finally:
            for db in [*pg_dbs, *(f"{pg_dbs[0]}_ogr{i}" for i in range(args.repeat))]:
                subprocess.run(["psql", f"{args.pg}/postgres", "-qc", f'DROP DATABASE IF EXISTS "{db}"'],
                               capture_output=True)

    floor = results["floor"]
    for name, r in results.items():
        assert r["features"] == args.n, f"{name} accepted {r['features']} of {args.n}"
        assert abs(r["area_mu"] - floor["area_mu"]) < 1e-6 * floor["area_mu"], f"{name} area {r}"
        print(f"{name:10s} work {r['work_s']:7.2f} s   process {r['wall_s']:7.2f} s   "
              f"peak RSS {r['peak_rss_mb']:7.0f} MB   area {r['area_mu']:.2f} 亩")
    print(f"ratios at n={args.n}, fastest of {args.repeat} runs each (import_batch time / floor time, "
          "both after module imports and database creation):")
    for name in results:
        if name != "floor":
            print(f"  {name}: {against_goal(results[name]['work_s'] / floor['work_s'], 2)}   "
                  f"peak RSS {results[name]['peak_rss_mb']:.0f} MB (goal <= 1024 MB at 1 000 000)")
    print("against GDAL's ogr2ogr loading the same file into the same backend (import_batch work / ogr2ogr "
          "process; ogr2ogr neither checks, matches nor computes areas):")
    for name, seconds in ogr.items():
        print(f"  {name}: ogr2ogr {seconds:.2f} s, {against_goal(results[name]['work_s'] / seconds, 1)}")


if __name__ == "__main__":
    main()
