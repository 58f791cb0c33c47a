"""What the benchmarks share: a throw-away PostgreSQL database for one run."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

PG_SERVER = os.environ.get("GEO_TRACKER_TEST_PG", "postgresql://postgres@127.0.0.1:5432")


@contextmanager
def scratch_postgres(server: str = PG_SERVER, prefix: str = "geo_tracker_bench") -> Iterator[str]:
    """The URL of a database that does not exist yet (init creates it); dropped afterwards, whatever happens."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    try:
        yield f"{server}/{name}"
    finally:
        engine = sa.create_engine(f"{server.replace('postgresql://', 'postgresql+psycopg://')}/postgres",
                                  isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


def backend_arguments(description: str, *, postgis: int, spatialite: int):
    """The command line every backend benchmark takes: patches per backend (0 skips it), repeats, the server."""
    import argparse

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--postgis", type=int, default=postgis, help="patches on PostGIS (0 to skip)")
    parser.add_argument("--spatialite", type=int, default=spatialite, help="patches on SpatiaLite (0 to skip)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pg", default=PG_SERVER)
    return parser


def on_each_backend(args, measure) -> dict[str, tuple[int, object]]:
    """``measure(url, n, repeat)`` on a fresh SpatiaLite file and a throw-away PostGIS database.

    Returns {backend: (n, what measure returned)}.
    """
    import tempfile

    results = {}
    with tempfile.TemporaryDirectory(prefix="geo_tracker_bench_") as tmp:
        if args.spatialite:
            print(f"spatialite, {args.spatialite} patches:", flush=True)
            results["spatialite"] = (args.spatialite, measure(f"sqlite:///{tmp}/bench.sqlite", args.spatialite,
                                                              args.repeat))
        if args.postgis:
            print(f"postgis, {args.postgis} patches:", flush=True)
            with scratch_postgres(args.pg) as url:
                results["postgis"] = (args.postgis, measure(url, args.postgis, args.repeat))
    return results


def fastest(fn, repeat: int) -> float:
    """Seconds of the fastest of ``repeat`` calls of ``fn``."""
    import time

    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def against_goal(ratio: float, goal: float) -> str:
    """``1.43x (goal <= 2x: met)``: a ratio with the issue's goal beside it."""
    return f"{ratio:.2f}x (goal <= {goal:g}x: {'met' if ratio <= goal else 'MISSED'})"
