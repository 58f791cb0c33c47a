#!/usr/bin/env python
"""Benchmark `geo-tracker move` (SpatiaLite -> PostGIS, then PostGIS -> SpatiaLite) against a raw copy.

    python scripts/bench_move.py --patches 100000

Fills a fresh SpatiaLite file as bench_stats.py does (patches as small squares over 1 000
villages, a village match and three events each), then times in the same run:

- ``move_ledger`` SpatiaLite -> a new PostGIS database, then that database -> a new SpatiaLite
  file: reflection, typed values, geometry through shapely, indexes, foreign keys and the
  spatial index kept, sequences moved, and both summaries (counts and stats totals) compared
  before the commit
- floor, each way: the same rows read through the same drivers with the same SELECT (geometry
  as WKB, JSON as text), written with the fastest bulk path into bare tables of the same
  columns: PostgreSQL ``COPY`` into UNLOGGED tables without indexes or constraints (geometry
  as bytea), SQLite ``executemany`` into tables without indexes, one transaction. That is the
  cost of carrying the bytes across, below which no copy can go; what the move does on top is
  what keeps the target a working, checked ledger.

and checks that both moves report no difference and that every table holds the source's rows
(and the floor copied as many). Target: ≤ 5x the floor each way.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench_stats import fill  # noqa: E402
from benchlib import PG_SERVER, scratch_postgres  # noqa: E402
from geo_tracker.services.database import init_database  # noqa: E402
from geo_tracker.services.move import move_ledger  # noqa: E402
from geo_tracker.store import open_store  # noqa: E402
from geo_tracker.store import copy as copier  # noqa: E402
from geo_tracker.store.spatialite import load_spatialite, sqlite_module  # noqa: E402
from geo_tracker.store.schema import LEDGER_TABLES  # noqa: E402


def source_selects(store) -> dict[str, str]:
    """The move's own SELECT of each table (geometry as WKB, JSON as text), for the floor."""
    with store.read_transaction() as conn:
        geometry = store.geometry_columns(conn)
        return {t: copier.select_sql(store, copier.plan_table(conn, conn, t, geometry.get(t, {}))) for t in LEDGER_TABLES}


def floor_to_postgres(source, url: str) -> tuple[int, float]:
    """Every row read from SpatiaLite and COPYed (text) into UNLOGGED, index-free tables."""
    selects = source_selects(source)
    init_database(url)
    rows = 0
    with open_store(url) as target, target.engine.connect() as tconn:
        geometry = target.geometry_columns(tconn)
        for table in LEDGER_TABLES:
            tconn.execute(sa.text(f"CREATE UNLOGGED TABLE floor_{table} AS SELECT * FROM {table} WITH NO DATA"))
            for column in geometry.get(table, {}):
                tconn.execute(sa.text(f"ALTER TABLE floor_{table} ALTER COLUMN {column} TYPE bytea USING NULL"))
        tconn.commit()
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as pg, \
            sqlite_module().connect(source.url.database) as lite:
        load_spatialite(lite)
        t = time.perf_counter()
        with pg.cursor() as cur:
            for table, select in selects.items():
                read = lite.execute(select)
                names = ", ".join(d[0] for d in read.description)
                with cur.copy(f"COPY floor_{table} ({names}) FROM STDIN") as copy:
                    while chunk := read.fetchmany(copier.CHUNK_ROWS):
                        for row in chunk:
                            copy.write_row(row)
                        rows += len(chunk)
        pg.commit()
        return rows, time.perf_counter() - t


def floor_to_sqlite(source, path: Path) -> tuple[int, float]:
    """Every row read from PostGIS and executemany'd into a SQLite file of index-free tables."""
    selects = source_selects(source)
    rows = 0
    with psycopg.connect(source.url.set(drivername="postgresql").render_as_string(hide_password=False)) as pg, \
            sqlite_module().connect(path, isolation_level=None) as lite:
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "cache_size=-65536"):   # as the store sets them
            lite.execute(f"PRAGMA {pragma}")
        t = time.perf_counter()
        lite.execute("BEGIN")
        for table, select in selects.items():
            with pg.cursor(name=f"floor_{table}") as cur:
                cur.execute(select)
                names = [d[0] for d in cur.description]
                lite.execute(f"CREATE TABLE {table} ({', '.join(names)})")
                insert = f"INSERT INTO {table} VALUES ({', '.join('?' for _ in names)})"
                while chunk := cur.fetchmany(copier.CHUNK_ROWS):
                    lite.executemany(insert, chunk)   # dates and times by the driver's default adapters
                    rows += len(chunk)
        lite.execute("COMMIT")
        return rows, time.perf_counter() - t


def timed_move(source_url: str, target_url: str) -> tuple[float, dict]:
    with open_store(source_url) as source:
        t = time.perf_counter()
        result = move_ledger(source, target_url, evidence_dir=Path(tempfile.gettempdir()) / "bench_move_evidence")
        seconds = time.perf_counter() - t
    assert not result.already_there and result.differences == []
    with open_store(target_url) as target, target.engine.connect() as conn:
        found = target.table_counts(conn, LEDGER_TABLES)
    assert found == result.source_summary["counts"] == result.counts, (found, result.counts)
    return seconds, result.counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patches", type=int, default=100_000)
    parser.add_argument("--pg", default=PG_SERVER)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="geo_tracker_bench_") as tmp:
        origin = f"sqlite:///{tmp}/township.sqlite"
        init_database(origin)
        with open_store(origin) as store:
            t = time.perf_counter()
            fill(store, args.patches)
            print(f"filled {args.patches} patches, {args.patches * 3} events in {time.perf_counter() - t:.1f} s",
                  flush=True)
        lines = []
        with scratch_postgres(args.pg) as county, scratch_postgres(args.pg) as floor_db:
            up, counts = timed_move(origin, county)
            total = sum(counts.values())
            with open_store(origin) as store:
                floor_rows, floor_up = floor_to_postgres(store, floor_db)
            assert floor_rows == total, (floor_rows, total)
            lines.append(("spatialite -> postgis", total, floor_up, up))
            print(f"  up: move {up:.1f} s, floor {floor_up:.1f} s", flush=True)
            down, counts = timed_move(county, f"sqlite:///{tmp}/offline.sqlite")
            with open_store(county) as store:
                floor_rows, floor_down = floor_to_sqlite(store, Path(tmp) / "floor.sqlite")
            assert floor_rows == sum(counts.values()) == total
            lines.append(("postgis -> spatialite", total, floor_down, down))
    for name, rows, floor, ours in lines:
        print(f"{name:22s} {args.patches} patches, {rows} rows: floor {floor:.2f} s, move {ours:.2f} s, "
              f"{ours / floor:.2f}x (target ≤ 5)")


if __name__ == "__main__":
    main()
