#!/usr/bin/env python
"""Time OGC API Features requests over a real server on the demo database, one line per measurement.

    python scripts/bench_ogc.py                         # SpatiaLite
    python scripts/bench_ogc.py --postgis --requests 200 # SpatiaLite and a throw-away PostGIS database
    python scripts/bench_ogc.py --scale 1000000          # only: the first page of 100 among 1 000 000 on PostGIS

Per backend it builds the demo (``run_demo``, no report files) in a fresh SpatiaLite
file or a throw-away PostGIS database, adds the account ``gis`` (viewer, all units)
with a bearer token, starts ``geo-tracker serve`` on a free loopback port, and runs
every measurement in MEASUREMENTS against it, printing one line each:

- basic_vs_bearer: --requests GETs of the same URL (--path, default a page of 100
  patches) with HTTP Basic, as QGIS and ogr2ogr send it on every request, and as many
  with ``Authorization: Bearer`` of the same user, interleaved (ABBA) over one
  keep-alive connection each, after one warm-up request each. The warm-up Basic
  request is the one that checks the Argon2 hash; its time is printed too. Printed:
  p50/p95 of both and the ratio of the p50s. Goal: Basic ≤ 1.2× bearer.

A measurement, not a test: nothing is asserted. A measurement is a function
``(Demo, args) -> str`` (the line) added to MEASUREMENTS.
"""

from __future__ import annotations

import argparse
import base64
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from benchlib import PG_SERVER, scratch_postgres  # noqa: E402
from load_test import free_port, start_server, stop_server  # noqa: E402

USERNAME, PASSWORD = "gis", "gis-password-1"
ITEMS = "/ogc/collections/patches/items?limit=100"


@dataclass(frozen=True)
class Demo:
    """A running server on the demo database, and the ``gis`` account's two ways in."""

    backend: str
    base: str
    basic: dict
    bearer: dict


def basic_header(username: str, password: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()}


@contextmanager
def demo_server(url: str, backend: str, folder: Path) -> Iterator[Demo]:
    """The demo in ``url`` (a new SpatiaLite file or an empty PostgreSQL database) served on loopback."""
    from geo_tracker.services import accounts
    from geo_tracker.services.demo import run_demo
    from geo_tracker.store import open_store

    run_demo(url, output_dir=None, map_path=None)
    with open_store(url) as store:
        accounts.add_user(store, USERNAME, PASSWORD, "viewer", ["*"])
        token = accounts.create_token(store, USERNAME, "bench_ogc")
    port = free_port()
    proc = start_server(url, port, folder / f"server_{backend}.log")
    try:
        yield Demo(backend, f"http://127.0.0.1:{port}", basic_header(USERNAME, PASSWORD),
                   {"Authorization": f"Bearer {token}"})
    finally:
        stop_server(proc)


def timed_get(client: httpx.Client, path: str, headers: dict) -> float:
    """Milliseconds of one GET, body read; a failure stops the run (the ratio would mean nothing)."""
    start = time.perf_counter()
    client.get(path, headers=headers).raise_for_status()
    return (time.perf_counter() - start) * 1000


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def basic_vs_bearer(demo: Demo, args) -> str:
    """HTTP Basic against a bearer token for the same user and URL, interleaved in one run."""
    with httpx.Client(base_url=demo.base, timeout=60) as basic, httpx.Client(base_url=demo.base, timeout=60) as bearer:
        first_basic = timed_get(basic, args.path, demo.basic)
        timed_get(bearer, args.path, demo.bearer)
        times: dict[str, list[float]] = {"basic": [], "bearer": []}
        for i in range(args.requests):
            order = ("basic", "bearer") if i % 2 == 0 else ("bearer", "basic")
            for kind in order:
                client, headers = (basic, demo.basic) if kind == "basic" else (bearer, demo.bearer)
                times[kind].append(timed_get(client, args.path, headers))
    b, t = statistics.median(times["basic"]), statistics.median(times["bearer"])
    return (f"{demo.backend} basic_vs_bearer GET {args.path} x{args.requests}: "
            f"bearer p50 {t:.1f} ms p95 {pct(times['bearer'], 0.95):.1f} ms, "
            f"basic p50 {b:.1f} ms p95 {pct(times['basic'], 0.95):.1f} ms (first, with the Argon2 check, "
            f"{first_basic:.1f} ms); ratio {b / t:.2f}x (goal <= 1.2x)")


def first_page_at_scale(args) -> str:
    """The first items page of 100 among --scale patches on PostGIS, against the bare SQL of that page.

    Fills a throw-away database as bench_stats.py does (INSERT ... SELECT generate_series:
    patches over 1 000 villages, three events each), serves it, then times in the same run,
    interleaved, fastest and median of --repeat: GET /ogc/collections/patches/items?limit=100
    (bearer token; numberMatched is the planner's estimate above 100 000) and the floor, the
    page's own ``SELECT ... ORDER BY p.id LIMIT 100`` (items come in id order) with the geometries decoded. The unordered
    ``SELECT ... LIMIT 100`` is printed beside them, and what any authenticated request costs
    (GET /ogc/conformance), so the page's own part can be read. Goal: GET ≤ 2x the floor.
    """
    import shapely
    import sqlalchemy as sa

    from bench_stats import fill
    from geo_tracker.services import accounts
    from geo_tracker.services.database import init_database
    from geo_tracker.store import open_store

    ordered = ("SELECT p.id, p.patch_code, b.name, p.area_mu, p.status, m.village_code, ST_AsBinary(p.geom) AS wkb "
               "FROM patches p JOIN batches b ON b.id = p.batch_id LEFT JOIN patch_matches m ON m.patch_id = p.id "
               "WHERE p.is_current AND NOT p.withdrawn ORDER BY p.id LIMIT 100")   # the items' own order
    bare = "SELECT p.id, p.patch_code, ST_AsBinary(p.geom) AS wkb FROM patches p WHERE p.is_current LIMIT 100"

    def sql_ms(store, query: str) -> float:
        start = time.perf_counter()
        with store.engine.connect() as conn:
            rows = conn.execute(sa.text(query)).all()
        shapely.from_wkb([bytes(r.wkb) for r in rows])
        assert len(rows) == 100
        return (time.perf_counter() - start) * 1000

    with tempfile.TemporaryDirectory(prefix="gt_bench_ogc_scale_") as tmp, \
            scratch_postgres(args.pg, prefix="geo_tracker_bench_ogc_scale") as url:
        init_database(url)
        with open_store(url) as store:
            start = time.perf_counter()
            fill(store, args.scale)
            filled = time.perf_counter() - start
            accounts.add_user(store, USERNAME, PASSWORD, "viewer", ["*"])
            bearer = {"Authorization": f"Bearer {accounts.create_token(store, USERNAME, 'bench_ogc')}"}
            port = free_port()
            proc = start_server(url, port, Path(tmp) / "server_scale.log")
            try:
                with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=300) as client:
                    first = client.get(ITEMS, headers=bearer).json()
                    sql_ms(store, ordered), sql_ms(store, bare)
                    times: dict[str, list[float]] = {"get": [], "floor": [], "bare": [], "service": []}
                    for _ in range(args.repeat):
                        times["get"].append(timed_get(client, ITEMS, bearer))
                        times["service"].append(timed_get(client, "/ogc/conformance", bearer))
                        times["floor"].append(sql_ms(store, ordered))
                        times["bare"].append(sql_ms(store, bare))
            finally:
                stop_server(proc)
    get, floor, unordered, service = (statistics.median(times[k]) for k in ("get", "floor", "bare", "service"))
    return (f"postgis first_page_at_scale {args.scale} patches (filled in {filled:.0f} s), fastest/median of "
            f"{args.repeat}: GET {ITEMS} {min(times['get']):.0f}/{get:.0f} ms (numberMatched "
            f"{first['numberMatched']}{', estimated' if first.get('numberMatchedEstimated') else ''}, "
            f"{first['numberReturned']} returned); floor SELECT ... ORDER BY ... LIMIT 100 "
            f"{min(times['floor']):.0f}/{floor:.0f} ms; ratio {get / floor:.2f}x (goal <= 2x); "
            f"unordered SELECT ... LIMIT 100 {unordered:.1f} ms; the service's own cost of any request (GET "
            f"/ogc/conformance, same token: HTTP, login, routing) {service:.1f} ms, the page beyond it "
            f"{get - service:.1f} ms = {(get - service) / floor:.2f}x the floor")


#: Each takes (Demo, args) and returns its printed line.
MEASUREMENTS = [basic_vs_bearer]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100, help="requests per way in and measurement")
    parser.add_argument("--path", default=ITEMS, help="the URL every request of basic_vs_bearer asks for")
    parser.add_argument("--postgis", action="store_true", help="also on a throw-away PostGIS database")
    parser.add_argument("--no-spatialite", dest="spatialite", action="store_false")
    parser.add_argument("--pg", default=PG_SERVER)
    parser.add_argument("--scale", type=int, default=0,
                        help="only time the first page of 100 among this many patches on PostGIS (e.g. 1000000)")
    parser.add_argument("--repeat", type=int, default=5, help="repeats of --scale's timings")
    args = parser.parse_args()
    if args.scale:
        print(first_page_at_scale(args), flush=True)
        return
    with tempfile.TemporaryDirectory(prefix="gt_bench_ogc_") as tmp:
        folder = Path(tmp)
        if args.spatialite:
            with demo_server(f"sqlite:///{folder / 'demo.sqlite'}", "spatialite", folder) as demo:
                for measure in MEASUREMENTS:
                    print(measure(demo, args), flush=True)
        if args.postgis:
            with scratch_postgres(args.pg, prefix="geo_tracker_bench_ogc") as url, \
                    demo_server(url, "postgis", folder) as demo:
                for measure in MEASUREMENTS:
                    print(measure(demo, args), flush=True)


if __name__ == "__main__":
    main()
