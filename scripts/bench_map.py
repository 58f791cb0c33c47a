#!/usr/bin/env python
"""Benchmark the offline map: HTML size and time to first full render in headless Chromium.

    python scripts/bench_map.py --patches 1000 20000

For each size: fills a fresh SpatiaLite file in SQL (the same synthetic patches as
bench_stats.py, with their events), writes the map, opens it in Debian's Chromium
with every non-local request blocked, and reads the page's own ``performance``
clock when the layers are drawn (after the next animation frame). Figures last.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench_stats import fill  # noqa: E402

from geo_tracker.services.database import init_database  # noqa: E402
from geo_tracker.services.maps import make_map  # noqa: E402
from geo_tracker.store import open_store  # noqa: E402


def render_ms(page_path: Path, repeat: int) -> tuple[float, int]:
    from playwright.sync_api import sync_playwright

    times, drawn = [], 0
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        for _ in range(repeat):
            page = browser.new_page(viewport={"width": 1200, "height": 800})
            page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file://") else r.abort())
            page.goto(page_path.as_uri())
            page.wait_for_function("window.geoTracker && window.geoTracker.ready", timeout=120_000)
            times.append(page.evaluate(
                "new Promise(done => requestAnimationFrame(() => requestAnimationFrame(() => done(performance.now()))))"))
            drawn = page.evaluate("geoTracker.patchCount")
            page.close()
        browser.close()
    return min(times), drawn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patches", type=int, nargs="+", default=[1000, 20000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="geo_tracker_bench_") as tmp:
        for n in args.patches:
            url = f"sqlite:///{tmp}/map{n}.sqlite"
            init_database(url)
            with open_store(url) as store:
                fill(store, n)
                t = time.perf_counter()
                result = make_map(store, Path(tmp) / f"map{n}.html")
                build_s = time.perf_counter() - t
            ms, drawn = render_ms(Path(result["file"]), args.repeat)
            assert drawn == n, f"{drawn} of {n} patches drawn"
            rows.append((n, result["bytes"], build_s, ms))
    print("patches   HTML size   build (s)   first full render in Chromium (ms, fastest of "
          f"{args.repeat})")
    for n, size, build_s, ms in rows:
        print(f"{n:>7}   {size / 1024 / 1024:7.2f} MB   {build_s:9.2f}   {ms:8.0f}")


if __name__ == "__main__":
    main()
