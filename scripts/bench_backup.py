#!/usr/bin/env python
"""Benchmark `geo-tracker backup` against a plain copy of the same database, in the same run.

    python scripts/bench_backup.py --postgis 100000 --spatialite 100000

Per backend, on the demo database and on a database filled in SQL as bench_stats.py fills it
(``--postgis``/``--spatialite`` patches, three events each), fastest of ``--repeat``:

- floor: SpatiaLite: SQLite's online backup API into a file (what ``sqlite3 FILE .backup`` does);
  PostGIS: ``pg_dump --format=custom`` into a file
- ``backup()``: the archive with its manifest (counts per table, the stats totals as of today,
  SHA-256 of every member), evidence files included

and prints the times, the sizes and their ratios. The backup's own extra work is the manifest's
stats and the zip; a SpatiaLite backup also compresses the database (the floor does not).
"""

from __future__ import annotations

import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_stats import fill  # noqa: E402
from benchlib import backend_arguments, scratch_postgres  # noqa: E402
from geo_tracker.services import backup  # noqa: E402
from geo_tracker.services.database import init_database  # noqa: E402
from geo_tracker.services.demo import run_demo  # noqa: E402
from geo_tracker.store import open_store  # noqa: E402
from geo_tracker.store.postgis import _run_pg_tool  # noqa: E402


def floor_copy(store, target: Path) -> None:
    if store.backend == "spatialite":
        source = sqlite3.connect(store.url.database)
        copy = sqlite3.connect(target)
        with copy:
            source.backup(copy)
        copy.close()
        source.close()
    else:
        _run_pg_tool("pg_dump", "--format=custom", f"--file={target}", url=store.url)


def measure(url: str, repeat: int, folder: Path) -> tuple[float, int, float, int]:
    """(floor s, floor bytes, backup s, backup bytes), fastest of ``repeat``."""
    floors, ours = [], []
    with open_store(url) as store:
        for i in range(repeat):
            target = folder / f"floor{i}"
            start = time.perf_counter()
            floor_copy(store, target)
            floors.append((time.perf_counter() - start, target.stat().st_size))
            target.unlink()
            start = time.perf_counter()
            made = backup.backup(store, folder / f"backup{i}.zip")
            ours.append((time.perf_counter() - start, made.size_bytes))
            made.path.unlink()
    (floor_s, floor_b), (ours_s, ours_b) = min(floors), min(ours)
    return floor_s, floor_b, ours_s, ours_b


def line(name: str, what: str, m: tuple[float, int, float, int]) -> str:
    floor_s, floor_b, ours_s, ours_b = m
    return (f"{name:10s} {what:>16}: floor {floor_s:.2f} s {floor_b / 1e6:.1f} MB; backup {ours_s:.2f} s "
            f"{ours_b / 1e6:.1f} MB; time {ours_s / floor_s:.2f}x, size {ours_b / floor_b:.2f}x")


def main() -> None:
    args = backend_arguments(__doc__.splitlines()[0], postgis=100_000, spatialite=100_000).parse_args()
    lines = []
    with tempfile.TemporaryDirectory(prefix="geo_tracker_bench_backup_") as tmp:
        folder = Path(tmp)
        for name, n in (("spatialite", args.spatialite), ("postgis", args.postgis)):
            if not n:
                continue
            with scratch_postgres(args.pg) as pg_demo, scratch_postgres(args.pg) as pg_filled:
                demo = f"sqlite:///{folder / 'demo.sqlite'}" if name == "spatialite" else pg_demo
                filled = f"sqlite:///{folder / 'filled.sqlite'}" if name == "spatialite" else pg_filled
                run_demo(demo)
                lines.append(line(name, "demo", measure(demo, args.repeat, folder)))
                print(lines[-1], flush=True)
                init_database(filled)
                with open_store(filled) as store:
                    fill(store, n)
                lines.append(line(name, f"{n} patches", measure(filled, args.repeat, folder)))
                print(lines[-1], flush=True)
    print(f"fastest of {args.repeat}; floor = sqlite3 online backup (SpatiaLite), pg_dump -Fc (PostGIS):")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
