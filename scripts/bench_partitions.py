#!/usr/bin/env python
"""Benchmark the reads of a partitioned PostGIS database against the same database with plain tables.

    python scripts/bench_partitions.py --patches 1000000 --tiles 40 --repeat 3

Fills a fresh PostGIS database as bench_stats.py does (patches and three events each, in their
year's partitions, as migration 0014 keeps them), times the reads the other benchmarks time, then
makes the two tables plain again (``store.partitions.merge``, the migration's step back), times
the same reads on the same rows, and partitions them again and times them a third time (the better
of the partitioned runs is compared, so neither side gains from going first):

- ``compute_stats(by=["village"], as_of=...)``
- vector tiles at zooms 14–16 (p95), current and as of the date
- an OGC items page of 100 at the start and the end, with ``numberMatched``
- the web list's first page sorted by 整改面积 and by the status as of the date

Goal: no regression from partitioning, each ratio ≤ 1.1x (within the noise of one run).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench_stats import AS_OF, fill  # noqa: E402
from bench_tiles import tiles  # noqa: E402
from benchlib import PG_SERVER, against_goal, fastest, scratch_postgres  # noqa: E402
from geo_tracker.server.ogc import collection_page  # noqa: E402
from geo_tracker.services.database import init_database  # noqa: E402
from geo_tracker.services.patches import page_of_patches  # noqa: E402
from geo_tracker.services.stats import compute_stats  # noqa: E402
from geo_tracker.services.tiles import patch_tile  # noqa: E402
from geo_tracker.store import open_store, partitions  # noqa: E402


def reads(store, n: int, sample, repeat: int) -> dict[str, float]:
    """Seconds of each read, fastest of ``repeat`` (tiles: the p95 over the sample)."""
    def p95(as_of):
        return float(np.percentile([fastest(lambda t=t: patch_tile(store, *t, as_of=as_of), repeat)
                                    for t in sample], 95))

    return {
        "stats by village as of": fastest(lambda: compute_stats(store, as_of=AS_OF, by=["village"]), repeat),
        "tiles p95": p95(None),
        "tiles as of, p95": p95(AS_OF),
        "OGC page, first": fastest(lambda: collection_page(store, "patches", None, {}, None, None, 100, 0), repeat),
        "OGC page, last": fastest(lambda: collection_page(store, "patches", None, {}, None, None, 100, n - 100),
                                  repeat),
        "list by 整改面积": fastest(lambda: page_of_patches(store, page=1, size=100, sortby="-rectified_mu"), repeat),
        "list by status as of": fastest(lambda: page_of_patches(store, page=1, size=100, sortby="status",
                                                                 as_of=AS_OF), repeat),
    }


def _rebuilt(store, change=None) -> None:
    """After ``change``, the tables vacuumed and analysed: each side is timed on tables without dead rows."""
    if change is not None:
        with store.transaction() as conn:
            change(conn)
    with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM (ANALYZE)"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patches", type=int, default=1_000_000)
    parser.add_argument("--tiles", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pg", default=PG_SERVER)
    args = parser.parse_args()
    sample = tiles(args.tiles, args.patches)
    with scratch_postgres(args.pg) as url:
        init_database(url)
        with open_store(url) as store:
            start = time.perf_counter()
            fill(store, args.patches)
            with store.engine.connect() as conn:
                print(f"filled {args.patches} patches in {time.perf_counter() - start:.0f} s; partitions: "
                      f"{sorted(partitions.years_of(conn, 'patches'))} / {sorted(partitions.years_of(conn, 'events'))}")
            _rebuilt(store)
            reads(store, args.patches, sample, 1)                     # caches warm before anything is timed
            first = reads(store, args.patches, sample, args.repeat)
            _rebuilt(store, partitions.merge)
            plain = reads(store, args.patches, sample, args.repeat)
            _rebuilt(store, lambda conn: [partitions.split(conn, t) for t in partitions.KEYS])
            again = reads(store, args.patches, sample, args.repeat)
    split = {name: min(first[name], again[name]) for name in first}
    print(f"partitioned / plain tables, {args.patches} patches, fastest of {args.repeat}:")
    for name, seconds in split.items():
        print(f"  {name:24s} {seconds * 1000:9.1f} ms / {plain[name] * 1000:9.1f} ms: "
              f"{against_goal(seconds / plain[name], 1.1)}")


if __name__ == "__main__":
    main()
