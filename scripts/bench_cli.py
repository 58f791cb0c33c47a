#!/usr/bin/env python
"""How long the CLI takes to start, as ratios to floors measured in the same run.

    python scripts/bench_cli.py --repeat 5

Builds the demo database in a fresh SpatiaLite file, then times (fastest of --repeat,
each a fresh process):

- ``geo-tracker --help``                 against ``python -c "import click"``
- ``geo-tracker patches show CODE``      against ``python -c "import sqlalchemy, shapely"`` plus one
  query of that patch's row through SpatiaLite (the least a ``show`` can do)

Goals (issue "one home per concept"): --help ≤ 2×, patches show ≤ 1.5×. A measurement,
not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CLI = str(Path(sys.executable).with_name("geo-tracker"))


def fastest(command: list[str], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="gt_cli_"))
    db = folder / "demo.sqlite"
    from geo_tracker.services.demo import run_demo

    run_demo(str(db), output_dir=None, map_path=None)
    code = "500109202302001"
    query = "\n".join([
        "import sqlalchemy, shapely, sqlite3",
        "if not hasattr(sqlite3.Connection, 'enable_load_extension'):",
        "    import pysqlite3.dbapi2 as sqlite3",
        f"c = sqlite3.connect({str(db)!r}); c.enable_load_extension(True); c.load_extension('mod_spatialite')",
        f"row = c.execute(\"SELECT id, AsBinary(geom) FROM patches WHERE patch_code = '{code}'\").fetchone()",
        "print(row[0], shapely.from_wkb(bytes(row[1])).area)",
    ])
    rows = [
        ("--help", [CLI, "--help"], [sys.executable, "-c", "import click"], 2.0),
        ("patches show", [CLI, "--db", str(db), "patches", "show", code], [sys.executable, "-c", query], 1.5),
    ]
    for name, command, floor, goal in rows:
        took, base = fastest(command, args.repeat), fastest(floor, args.repeat)
        print(f"{name:14s} {took * 1000:7.0f} ms   floor {base * 1000:6.0f} ms   ratio {took / base:5.2f}x  (goal ≤ {goal}x)")


if __name__ == "__main__":
    main()
