#!/usr/bin/env python
"""Load the HTTP service on loopback with concurrent readers and writers; check that no write is lost.

    python scripts/load_test.py --clients 20 --seconds 30
    GEO_TRACKER_WORKERS=2 python scripts/load_test.py --both     # SpatiaLite, then PostGIS, compared
    python scripts/load_test.py --db postgresql+psycopg://postgres@127.0.0.1:5432/gt_load_x
    GEO_TRACKER_WORKERS=2 python scripts/load_test.py --db postgresql+psycopg://...   # serve --workers 2

Without --db it builds the demo database in a fresh SpatiaLite file in a temp
folder. With --db the URL must name an EMPTY database (the demo refuses one that
holds geo_tracker data), e.g. for PostGIS:

    psql -h 127.0.0.1 -U postgres -c 'CREATE DATABASE gt_load_x'
    psql -h 127.0.0.1 -U postgres -d gt_load_x -c 'CREATE EXTENSION postgis'

The script fills it with the demo (`run_demo`, no report files), adds a user
``load`` (admin) with a bearer token, starts ``geo-tracker serve`` as a
subprocess (GEO_TRACKER_ACCESS_LOG=false; --port 0 picks a free port), waits for
/healthz, then runs --clients threads, each with its own httpx.Client, for
--seconds. Each client draws its next request by weight:

- show 30 %     GET /api/v1/patches/{batch}/{code} (any demo patch)
- list 20 %     GET /api/v1/patches (the whole FeatureCollection)
- stats 15 %    GET /api/v1/stats
- tile 20 %     GET /tiles/14/{x}/{y}.pbf over a patch's centroid, with the
                client's last ETag for that tile in If-None-Match (200 or 304)
- rectify 15 %  POST /api/v1/patches/{batch}/{code}/rectify, on=today,
                measure=demolition, area_mu=--step (0.001 亩), on a patch whose
                status is illegal/case_filed/rectifying. A 409 stale_row_version
                (another write to the same patch won) is retried at once: it is
                expected contention. Each patch has a budget (its unrectified area
                less --margin 亩) reserved before sending, so writes never make a
                patch fully rectified; when every budget is spent a rectify draw
                becomes a show ("skipped").

What it prints: per kind and overall the number of HTTP requests, their status
classes, p50/p95/max latency in ms (each HTTP request on its own; a retried write
counts every attempt, and the "rectify op" line gives the latency of a write
including its retries), requests/s over the run, and the errors: any status other
than 200/304 (and 409 stale on writes), or a transport failure. Refused writes
(409 transition_not_allowed, 422) are counted apart; the budget is meant to keep
them at 0.

Lost-update check: the client sums the area of every accepted (200) rectify per
patch. After the run it reads each written patch again and requires
rectified_mu(after) == rectified_mu(before) + accepted sum (±1e-6 亩), and also
that row_version and the number of live "rectified" events grew by exactly the
number of accepted writes, and that /api/v1/stats total.rectified_mu grew by the
accepted total. Any difference is printed as a mismatch ("lost updates: N").

This is a measurement, not a test: nothing is asserted about latency or
throughput (they depend on the machine and on what else runs). The exit code is 1
only when there were errors or mismatches. The last line is the same summary as
one JSON object. The server's log (stderr) is kept, and its path printed, when
something went wrong; its tail is printed too.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path
from urllib.parse import quote

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WEIGHTS = {"show": 30, "list": 20, "stats": 15, "tile": 20, "rectify": 15}
WRITABLE = ("illegal", "case_filed", "rectifying")
TILE_ZOOM = 14
MAX_STALE_RETRIES = 200
TOLERANCE_MU = 1e-6


# --- setup ------------------------------------------------------------------------------

def build_database(url: str) -> tuple[str, int]:
    """The demo in ``url`` plus a user ``load`` (admin, all units); returns its bearer token."""
    from geo_tracker.services import accounts
    from geo_tracker.services.demo import run_demo
    from geo_tracker.store import open_store

    result = run_demo(url, output_dir=None, map_path=None)
    with open_store(url) as store:
        accounts.add_user(store, "load", "load-password-1", "admin", ["*"])
        token = accounts.create_token(store, "load", "load test")
    return token, len(result.patches)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_command(url: str, port: int) -> list[str]:
    exe = Path(sys.executable).parent / "geo-tracker"
    base = [str(exe)] if exe.exists() else [sys.executable, "-m", "geo_tracker.cli.app"]
    return [*base, "--db", url, "serve", "--host", "127.0.0.1", "--port", str(port)]


def start_server(url: str, port: int, log_path: Path) -> subprocess.Popen:
    env = {**os.environ, "GEO_TRACKER_ACCESS_LOG": "false"}
    if not url.startswith("postgres"):
        env.pop("GEO_TRACKER_WORKERS", None)   # one process serves a SpatiaLite file
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(server_command(url, port), stdout=log, stderr=subprocess.STDOUT, env=env,
                                cwd=log_path.parent)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"the server exited with {proc.returncode} before answering:\n{log_path.read_text()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    proc.terminate()
    sys.exit(f"the server did not answer /healthz within 60 s:\n{log_path.read_text()}")


def stop_server(proc: subprocess.Popen) -> tuple[int | None, float]:
    start = time.perf_counter()
    proc.send_signal(signal.SIGTERM)
    try:
        code = proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        code = None  # did not stop on SIGTERM within 30 s: killed
    return code, time.perf_counter() - start


def cpu_seconds(pid: int | None = None) -> float:
    """CPU time (user + system) of this process, or of process ``pid`` from /proc."""
    if pid is None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime
    total = 0.0
    for proc in [pid, *_children(pid)]:
        try:
            fields = Path(f"/proc/{proc}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _children(pid: int) -> list[int]:
    """Worker processes of ``geo-tracker serve --workers N`` (and their children)."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            kids = [int(k) for k in (task / "children").read_text().split()]
        except (FileNotFoundError, ValueError):
            continue
        for kid in kids:
            found += [kid, *_children(kid)]
    return found


def tile_of(lon: float, lat: float, z: int = TILE_ZOOM) -> tuple[int, int, int]:
    n = 2 ** z
    return z, int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)


def centroid(geometry: dict) -> tuple[float, float]:
    """Mean of the first exterior ring's vertices: inside the tile that matters for these small patches."""
    coords = geometry["coordinates"]
    ring = coords[0][0] if geometry["type"] == "MultiPolygon" else coords[0]
    ring = ring[:-1] if len(ring) > 1 and ring[0] == ring[-1] else ring
    return sum(p[0] for p in ring) / len(ring), sum(p[1] for p in ring) / len(ring)


def patch_path(batch: str, code: str) -> str:
    return f"/api/v1/patches/{quote(batch, safe='')}/{quote(code, safe='')}"


def ledger(client: httpx.Client, batch: str, code: str) -> dict:
    """What the service says about a patch: rectified_mu, row_version, live rectified events."""
    response = client.get(patch_path(batch, code))
    response.raise_for_status()
    data = response.json()
    live = [e for e in data["events"] if e["kind"] == "rectified" and e.get("voided_by") is None]
    return {"status": data["status"], "area_mu": data["area_mu"], "rectified_mu": data["rectified_mu"] or 0.0,
            "row_version": data["row_version"], "rectified_events": len(live)}


# --- the load ---------------------------------------------------------------------------

class Budget:
    """Per-patch area the writers may still rectify, reserved before each write is sent."""

    def __init__(self, patches: dict[tuple[str, str], float], step: float):
        self.left = dict(patches)
        self.step = step
        self.lock = threading.Lock()
        self.accepted = defaultdict(float)
        self.accepted_n = Counter()

    def reserve(self, rng: random.Random) -> tuple[str, str] | None:
        with self.lock:
            open_ = [key for key, left in self.left.items() if left >= self.step]
            if not open_:
                return None
            key = rng.choice(open_)
            self.left[key] -= self.step
            return key

    def release(self, key) -> None:
        with self.lock:
            self.left[key] += self.step

    def accept(self, key) -> None:
        with self.lock:
            self.accepted[key] += self.step
            self.accepted_n[key] += 1


class Client(threading.Thread):
    def __init__(self, index: int, args, base: str, token: str, patches: list[dict], tiles: list,
                 budget: Budget, deadline: float, today: str):
        super().__init__(name=f"client-{index}", daemon=True)
        self.rng = random.Random(args.seed * 1000 + index)
        self.args, self.base, self.token = args, base, token
        self.patches, self.tiles, self.budget = patches, tiles, budget
        self.deadline, self.today = deadline, today
        self.samples: list[tuple[str, float]] = []  # (kind, ms) per HTTP request
        self.op_ms: list[float] = []  # rectify including its retries
        self.outcomes: Counter = Counter()  # (kind, outcome)
        self.errors: list[dict] = []
        self.refused: list[dict] = []
        self.etags: dict = {}

    def run(self) -> None:
        kinds, weights = zip(*WEIGHTS.items())
        with httpx.Client(base_url=self.base, headers={"Authorization": f"Bearer {self.token}"},
                          timeout=self.args.timeout) as http:
            self.http = http
            while time.perf_counter() < self.deadline:
                kind = self.rng.choices(kinds, weights)[0]
                getattr(self, f"do_{kind}")()

    def request(self, kind: str, method: str, url: str, ok: tuple = (200,), **kw) -> httpx.Response | None:
        start = time.perf_counter()
        try:
            response = self.http.request(method, url, **kw)
        except httpx.HTTPError as e:
            ms = (time.perf_counter() - start) * 1000
            self.samples.append((kind, ms))
            self.outcomes[(kind, "error")] += 1
            self.errors.append({"kind": kind, "request": f"{method} {url}", "data": kw.get("data"),
                                "status": None, "response": f"{type(e).__name__}: {e}", "ms": round(ms, 1)})
            return None
        ms = (time.perf_counter() - start) * 1000
        self.samples.append((kind, ms))
        if response.status_code in ok:
            self.outcomes[(kind, str(response.status_code))] += 1
        return response

    def error(self, kind: str, method: str, url: str, response: httpx.Response, data=None) -> None:
        self.outcomes[(kind, "error")] += 1
        self.errors.append({"kind": kind, "request": f"{method} {url}", "data": data,
                            "status": response.status_code, "response": response.text[:2000]})

    def get(self, kind: str, url: str, headers=None, ok=(200,)):
        response = self.request(kind, "GET", url, ok=ok, headers=headers)
        if response is not None and response.status_code not in ok:
            self.error(kind, "GET", url, response)
        return response

    def do_show(self) -> None:
        p = self.rng.choice(self.patches)
        self.get("show", patch_path(p["batch"], p["patch_code"]))

    def do_list(self) -> None:
        self.get("list", "/api/v1/patches")

    def do_stats(self) -> None:
        self.get("stats", "/api/v1/stats")

    def do_tile(self) -> None:
        z, x, y = self.rng.choice(self.tiles)
        url = f"/tiles/{z}/{x}/{y}.pbf"
        etag = self.etags.get(url)
        response = self.get("tile", url, headers={"If-None-Match": etag} if etag else None, ok=(200, 304))
        if response is not None and response.status_code in (200, 304):
            self.etags[url] = response.headers.get("etag")

    def do_rectify(self) -> None:
        key = self.budget.reserve(self.rng)
        if key is None:
            self.outcomes[("rectify", "skipped")] += 1
            return self.do_show()
        url = patch_path(*key) + "/rectify"
        data = {"on": self.today, "measure": "demolition", "area_mu": repr(self.args.step)}
        start = time.perf_counter()
        for _ in range(MAX_STALE_RETRIES):
            response = self.request("rectify", "POST", url, ok=(200,), data=data)
            if response is None:
                return  # outcome unknown: the reservation stays spent
            if response.status_code == 200:
                self.budget.accept(key)
                self.op_ms.append((time.perf_counter() - start) * 1000)
                return
            code = _code(response)
            if response.status_code == 409 and code == "stale_row_version":
                self.outcomes[("rectify", "stale")] += 1
                continue
            if (response.status_code == 409 and code == "transition_not_allowed") or response.status_code == 422:
                self.outcomes[("rectify", "refused")] += 1
                self.refused.append({"request": f"POST {url}", "data": data,
                                            "status": response.status_code, "response": response.text[:500]})
                self.budget.release(key)
                return
            self.error("rectify", "POST", url, response, data)
            return
        self.outcomes[("rectify", "error")] += 1
        self.errors.append({"kind": "rectify", "request": f"POST {url}", "data": data, "status": 409,
                            "response": f"still stale after {MAX_STALE_RETRIES} attempts"})
        self.budget.release(key)


def _code(response: httpx.Response) -> str | None:
    try:
        return response.json().get("code")
    except ValueError:
        return None


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100) of a sorted list."""
    if not values:
        return None
    return values[max(0, math.ceil(q / 100 * len(values)) - 1)]


def summarise(values: list[float]) -> dict:
    values = sorted(values)
    return {"n": len(values), "p50_ms": percentile(values, 50), "p95_ms": percentile(values, 95),
            "max_ms": values[-1] if values else None}


def fmt(ms: float | None) -> str:
    return f"{ms:8.1f}" if ms is not None else f"{'-':>8s}"


# --- main -------------------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="URL of an EMPTY database to fill with the demo (default: a fresh "
                                     "SpatiaLite file in a temp folder)")
    parser.add_argument("--clients", type=int, default=20, help="concurrent client threads")
    parser.add_argument("--seconds", type=float, default=30.0, help="how long the clients send requests")
    parser.add_argument("--port", type=int, default=0, help="server port on 127.0.0.1 (0: a free one)")
    parser.add_argument("--step", type=float, default=0.001, help="亩 rectified by each write")
    parser.add_argument("--margin", type=float, default=0.01,
                        help="亩 of each writable patch the writers leave unrectified")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds a client waits for one response")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the temp folder (database, server log)")
    parser.add_argument("--both", action="store_true",
                        help="SpatiaLite and then PostGIS (a throw-away database on --pg) in the same run, "
                             "and SpatiaLite's p50/p95 against PostGIS's")
    parser.add_argument("--pg", default=os.environ.get("GEO_TRACKER_TEST_PG", "postgresql://postgres@127.0.0.1:5432"))
    args = parser.parse_args()
    if not args.both:
        report = one_backend(args, args.db)
        return 1 if report["errors"] > 0 or report["lost_updates"] > 0 else 0
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from benchlib import scratch_postgres

    reports = {"spatialite": one_backend(args, None)}
    with scratch_postgres(args.pg, prefix="geo_tracker_load") as pg_url:
        init_empty_postgis(pg_url)
        reports["postgis"] = one_backend(args, pg_url.replace("postgresql://", "postgresql+psycopg://"))
    compare(reports)
    return 1 if any(r["errors"] > 0 or r["lost_updates"] > 0 for r in reports.values()) else 0


def init_empty_postgis(url: str) -> None:
    """CREATE DATABASE with PostGIS for ``url`` (the demo fills it)."""
    import sqlalchemy as sa

    server, name = url.replace("postgresql://", "postgresql+psycopg://").rsplit("/", 1)
    admin = sa.create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    engine = sa.create_engine(f"{server}/{name}", isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text("CREATE EXTENSION postgis"))
    engine.dispose()


def compare(reports: dict) -> None:
    """SpatiaLite's latencies against PostGIS's, measured in this run."""
    sl, pg = reports["spatialite"], reports["postgis"]
    print("spatialite / postgis in this run (same demo, clients and seconds):")
    for label, a, b in (("overall", sl["overall"], pg["overall"]), ("writes", sl["rectify"], pg["rectify"])):
        p50, p95 = ("p50_ms", "p95_ms") if label == "overall" else ("op_p50_ms", "op_p95_ms")
        print(f"  {label:8s} p50 {fmt(a[p50])} / {fmt(b[p50])} ms = {a[p50] / b[p50]:.2f}x, "
              f"p95 {fmt(a[p95])} / {fmt(b[p95])} ms = {a[p95] / b[p95]:.2f}x")
    print(f"  requests/s {sl['requests_per_s']} / {pg['requests_per_s']}")


def one_backend(args, db: str | None) -> dict:
    """Build the demo in ``db`` (None: a fresh SpatiaLite file), serve it, load it; the report."""
    work = Path(tempfile.mkdtemp(prefix="geo_tracker_load_"))
    url = db or f"sqlite:///{work / 'load.sqlite'}"
    backend = "postgis" if url.startswith("postgres") else "spatialite"
    t = time.perf_counter()
    try:
        token, n_patches = build_database(url)
    except Exception:
        shutil.rmtree(work, ignore_errors=True)
        raise
    print(f"{backend}: demo database {url} ({n_patches} patches) built in {time.perf_counter() - t:.1f} s",
          flush=True)

    port = args.port or free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = work / "server.log"
    server = start_server(url, port, log_path)
    print(f"server pid {server.pid} on {base} (log {log_path})", flush=True)
    keep = args.keep
    try:
        report = run_load(args, base, token, backend, url, server.pid)
    finally:
        code, stop_s = stop_server(server)
    log_text = log_path.read_text(errors="replace")
    tracebacks = log_text.count("Traceback")
    print(f"server stopped on SIGTERM in {stop_s:.1f} s, exit code {code}; "
          f"log {len(log_text.splitlines())} lines, {tracebacks} tracebacks")
    report["server"] = {"exit_code": code, "stop_s": round(stop_s, 2), "tracebacks": tracebacks}
    # uvicorn re-raises the SIGTERM it handled once it has shut down, so -15 is a clean stop too
    failed = report["errors"] > 0 or report["lost_updates"] > 0 or tracebacks > 0 or code not in (0, -signal.SIGTERM)
    if failed:
        keep = True
        print("--- server log (last 80 lines) ---")
        print("\n".join(log_text.splitlines()[-80:]))
        print("---")
    if keep:
        print(f"kept {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(report, ensure_ascii=False))
    return report


def run_load(args, base: str, token: str, backend: str, url: str, server_pid: int) -> dict:
    today = date.today().isoformat()
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=args.timeout) as http:
        collection = http.get("/api/v1/patches").raise_for_status().json()
        patches = [dict(f["properties"], geometry=f["geometry"]) for f in collection["features"]]
        writable = [p for p in patches if p["status"] in WRITABLE and p["issued_on"] <= today]
        before = {(p["batch"], p["patch_code"]): ledger(http, p["batch"], p["patch_code"]) for p in writable}
        stats_before = http.get("/api/v1/stats").raise_for_status().json()["total"]["rectified_mu"]
    tiles = sorted({tile_of(*centroid(p["geometry"])) for p in patches})
    budgets = {key: max(0.0, s["area_mu"] - s["rectified_mu"] - args.margin) for key, s in before.items()}
    budget = Budget(budgets, args.step)
    print(f"{len(patches)} patches, {len(tiles)} distinct z{TILE_ZOOM} tiles, {len(writable)} writable: "
          + ", ".join(f"{b}/{c} ({before[(b, c)]['status']}, {budgets[(b, c)]:.3f} 亩 budget "
                      f"= {int(budgets[(b, c)] / args.step)} writes)" for b, c in before), flush=True)
    print(f"{args.clients} clients for {args.seconds:g} s, weights "
          + ", ".join(f"{k} {v}%" for k, v in WEIGHTS.items()) + f", rectify step {args.step} 亩", flush=True)

    cpu_client, cpu_server = cpu_seconds(), cpu_seconds(server_pid)
    start = time.perf_counter()
    clients = [Client(i, args, base, token, [{"batch": p["batch"], "patch_code": p["patch_code"]} for p in patches],
                      tiles, budget, start + args.seconds, today) for i in range(args.clients)]
    for c in clients:
        c.start()
    for c in clients:
        c.join()
    elapsed = time.perf_counter() - start
    cpu_client, cpu_server = cpu_seconds() - cpu_client, cpu_seconds(server_pid) - cpu_server

    # --- figures
    per_kind = defaultdict(list)
    outcomes = Counter()
    errors, refused, op_ms = [], [], []
    for c in clients:
        for kind, ms in c.samples:
            per_kind[kind].append(ms)
        outcomes.update(c.outcomes)
        errors.extend(c.errors)
        refused.extend(c.refused)
        op_ms.extend(c.op_ms)
    total = sum(len(v) for v in per_kind.values())
    n_errors = sum(n for (kind, what), n in outcomes.items() if what == "error")

    print(f"\n{'kind':9s} {'requests':>8s} {'200':>7s} {'304':>6s} {'stale':>6s} {'refused':>7s} {'errors':>6s} "
          f"{'p50 ms':>8s} {'p95 ms':>8s} {'max ms':>8s}")
    kinds = {}
    for kind in WEIGHTS:
        s = summarise(per_kind.get(kind, []))
        row = {"requests": s["n"], "ok_200": outcomes[(kind, "200")], "not_modified_304": outcomes[(kind, "304")],
               "stale_409": outcomes[(kind, "stale")], "refused": outcomes[(kind, "refused")],
               "errors": outcomes[(kind, "error")], "p50_ms": s["p50_ms"], "p95_ms": s["p95_ms"],
               "max_ms": s["max_ms"]}
        kinds[kind] = row
        print(f"{kind:9s} {row['requests']:8d} {row['ok_200']:7d} {row['not_modified_304']:6d} {row['stale_409']:6d} "
              f"{row['refused']:7d} {row['errors']:6d} {fmt(s['p50_ms'])} {fmt(s['p95_ms'])} {fmt(s['max_ms'])}")
    overall = summarise([ms for v in per_kind.values() for ms in v])
    print(f"{'overall':9s} {total:8d} {sum(r['ok_200'] for r in kinds.values()):7d} "
          f"{sum(r['not_modified_304'] for r in kinds.values()):6d} {sum(r['stale_409'] for r in kinds.values()):6d} "
          f"{sum(r['refused'] for r in kinds.values()):7d} {n_errors:6d} "
          f"{fmt(overall['p50_ms'])} {fmt(overall['p95_ms'])} {fmt(overall['max_ms'])}")
    ops = summarise(op_ms)
    print(f"{'rectify op':9s} {ops['n']:8d} accepted writes, latency including stale retries: "
          f"p50 {fmt(ops['p50_ms']).strip()} ms, p95 {fmt(ops['p95_ms']).strip()} ms, "
          f"max {fmt(ops['max_ms']).strip()} ms")
    rps = total / elapsed
    accepted_mu = sum(budget.accepted.values())
    print(f"\n{total} requests in {elapsed:.1f} s = {rps:.1f} requests/s "
          f"({args.clients} clients; the run ends when the last request in flight at {args.seconds:g} s answers)")
    print(f"CPU during the run: server {cpu_server:.1f} s ({cpu_server / elapsed:.0%} of one core), "
          f"clients {cpu_client:.1f} s ({cpu_client / elapsed:.0%}); {os.cpu_count()} cores")
    print(f"rectify: {ops['n']} accepted ({accepted_mu:.3f} 亩 on {len(budget.accepted)} patches), "
          f"{kinds['rectify']['stale_409']} stale 409 retried, {kinds['rectify']['refused']} refused, "
          f"{outcomes[('rectify', 'skipped')]} skipped (budget spent)")

    # --- lost-update check
    mismatches = []
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=args.timeout) as http:
        for key, b in before.items():
            a = ledger(http, *key)
            n, mu = budget.accepted_n[key], budget.accepted[key]
            label = "/".join(key)
            if abs(b["rectified_mu"] + mu - a["rectified_mu"]) > TOLERANCE_MU:
                mismatches.append(f"{label}: rectified_mu before {b['rectified_mu']:.6f} + accepted {mu:.6f} "
                                  f"({n} writes) != after {a['rectified_mu']:.6f} "
                                  f"(diff {a['rectified_mu'] - b['rectified_mu'] - mu:+.6f})")
            if a["row_version"] - b["row_version"] != n:
                mismatches.append(f"{label}: row_version {b['row_version']} -> {a['row_version']}, "
                                  f"but {n} writes were accepted")
            if a["rectified_events"] - b["rectified_events"] != n:
                mismatches.append(f"{label}: live rectified events {b['rectified_events']} -> "
                                  f"{a['rectified_events']}, but {n} writes were accepted")
            if n and a["status"] not in WRITABLE:
                mismatches.append(f"{label}: status {b['status']} -> {a['status']} (the budget should keep it open)")
        stats_after = http.get("/api/v1/stats").raise_for_status().json()["total"]["rectified_mu"]
        if abs(stats_before + accepted_mu - stats_after) > TOLERANCE_MU * max(1, ops["n"]):
            mismatches.append(f"/api/v1/stats total.rectified_mu before {stats_before:.6f} + accepted "
                              f"{accepted_mu:.6f} != after {stats_after:.6f}")
    print(f"lost updates: {len(mismatches)}")
    for line in mismatches:
        print(f"  {line}")
    print(f"errors: {n_errors}")
    for e in errors[:20]:
        print(f"  {e['kind']}: {e['request']} {e.get('data') or ''} -> {e['status']} {e['response'][:500]}")
    if len(errors) > 20:
        print(f"  ... {len(errors) - 20} more")
    for r in refused[:5]:
        print(f"  refused: {r['request']} {r['data']} -> {r['status']} {r['response']}")

    rnd = (lambda v: None if v is None else round(v, 2))
    return {"backend": backend, "db": url if backend == "spatialite" else url.rsplit("@", 1)[-1],
            "clients": args.clients, "seconds": args.seconds, "elapsed_s": round(elapsed, 2),
            "requests": total, "requests_per_s": round(rps, 1), "errors": n_errors,
            "cpu_s": {"server": round(cpu_server, 1), "clients": round(cpu_client, 1), "cores": os.cpu_count()},
            "lost_updates": len(mismatches), "mismatches": mismatches,
            "kinds": {k: {kk: rnd(vv) if kk.endswith("_ms") else vv for kk, vv in v.items()} for k, v in kinds.items()},
            "overall": {"p50_ms": rnd(overall["p50_ms"]), "p95_ms": rnd(overall["p95_ms"]),
                        "max_ms": rnd(overall["max_ms"])},
            "rectify": {"accepted": ops["n"], "accepted_mu": round(accepted_mu, 6),
                        "stale_retries": kinds["rectify"]["stale_409"], "refused": kinds["rectify"]["refused"],
                        "skipped": outcomes[("rectify", "skipped")], "op_p50_ms": rnd(ops["p50_ms"]),
                        "op_p95_ms": rnd(ops["p95_ms"])},
            "error_examples": errors[:5]}


if __name__ == "__main__":
    sys.exit(main())
