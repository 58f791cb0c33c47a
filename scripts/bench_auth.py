#!/usr/bin/env python
"""A legitimate GIS client's latency while others guess passwords, as a ratio to its idle latency.

    python scripts/bench_auth.py --guessers 40 --seconds 10

Builds the demo database in a fresh SpatiaLite file, adds the account ``gis`` (viewer),
starts ``geo-tracker serve`` on a free loopback port, then measures GET /api/v1/me with
the correct HTTP Basic credentials (as QGIS and ogr2ogr send them on every request):

- idle: one client alone, --samples requests;
- under attack: the same client while --guessers threads send wrong Basic passwords
  (random user names and the ``gis`` account) as fast as the server answers.

Printed: p50/p95 of both phases, the ratio of the attacked p50 (and p95) to the idle
p50, and how the guesses were answered (401 checked, 429 throttled). The floor is the
idle phase of the same run. A measurement, not a test: nothing is asserted; the
target is a p50 ratio within 3x.
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import tempfile
import threading
import time
from pathlib import Path

import httpx

from load_test import build_database, free_port, start_server, stop_server

PASSWORD = "gis-password-1"


def basic(user: str, password: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def timed(client: httpx.Client, headers: dict, n: int) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        client.get("/api/v1/me", headers=headers).raise_for_status()
        out.append((time.perf_counter() - start) * 1000)
    return out


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--guessers", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--samples", type=int, default=50)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="gt_auth_"))
    url = str(folder / "demo.sqlite")
    build_database(url)
    from geo_tracker.services import accounts
    from geo_tracker.store import open_store

    with open_store(url) as store:
        accounts.add_user(store, "gis", PASSWORD, "viewer", ["*"])
    port = free_port()
    proc = start_server(url, port, folder / "server.log")
    base = f"http://127.0.0.1:{port}"
    good = basic("gis", PASSWORD)
    answered = {"401": 0, "429": 0, "other": 0}
    stop = threading.Event()

    def guess(k: int) -> None:
        with httpx.Client(base_url=base, timeout=60) as client:
            n = 0
            while not stop.is_set():
                user = "gis" if n % 2 else f"guess{k}_{n}"
                status = client.get("/api/v1/me", headers=basic(user, f"wrong{n}")).status_code
                answered[str(status) if str(status) in answered else "other"] += 1
                n += 1

    try:
        with httpx.Client(base_url=base, timeout=60) as client:
            timed(client, good, 5)
            idle = timed(client, good, args.samples)
            threads = [threading.Thread(target=guess, args=(k,), daemon=True) for k in range(args.guessers)]
            for t in threads:
                t.start()
            time.sleep(1.0)
            attacked, deadline = [], time.monotonic() + args.seconds
            while time.monotonic() < deadline:
                attacked += timed(client, good, 5)
            stop.set()
            for t in threads:
                t.join(timeout=60)
    finally:
        stop_server(proc)
    floor = statistics.median(idle)
    summary = {
        "idle_p50_ms": round(floor, 1), "idle_p95_ms": round(pct(idle, 0.95), 1),
        "attacked_p50_ms": round(statistics.median(attacked), 1), "attacked_p95_ms": round(pct(attacked, 0.95), 1),
        "p50_ratio": round(statistics.median(attacked) / floor, 2), "p95_ratio": round(pct(attacked, 0.95) / floor, 2),
        "guesses": answered, "guessers": args.guessers, "legit_requests": len(attacked),
    }
    print(f"idle       p50 {summary['idle_p50_ms']} ms  p95 {summary['idle_p95_ms']} ms  ({len(idle)} requests)")
    print(f"attacked   p50 {summary['attacked_p50_ms']} ms  p95 {summary['attacked_p95_ms']} ms  "
          f"({len(attacked)} requests, {args.guessers} guessers; guesses answered {answered})")
    print(f"ratios to the idle p50 (target p50 <= 3x): p50 {summary['p50_ratio']}x, p95 {summary['p95_ratio']}x")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
