#!/usr/bin/env python
"""Benchmark one page of OGC API Features items (and /api/v1/patches?limit=) against a bare SQL page.

    python scripts/bench_paging.py --postgis 100000 --spatialite 100000

Fills a fresh database per backend as bench_stats.py does (patches over 1 000
villages, three events each), then times in the same run, for a page of 100 at
the start, the middle and the end of the collection:

- floor: ``SELECT ... ORDER BY ... LIMIT 100 OFFSET k`` of the same columns' raw
  values plus decoding the geometries with shapely
- ours: ``numberMatched`` (a COUNT) plus the page with every property (village
  shares, relapses, the events folded into status, rectified area, cases)
- the web list (``/patches``, ``services.patches.page_of_patches``) sorted by code and by
  整改面积 descending, its first and last page of 100, against the same bare page in that order;
  and sorted by the status as of a date (folded in SQL), against the bare page by the stored status

Target: a page costs a page, not the collection: within 10x the floor at every
offset (OFFSET itself grows with the offset, in the floor as much as in ours).
Before paging moved into SQL, every page folded the whole collection.

Last run (2 cores): SpatiaLite 100 000: 2.5x / 1.5x / 1.4x (59 / 158 / 245 ms);
PostGIS 100 000: 2.0x / 1.5x / 1.5x (135 / 217 / 246 ms).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import shapely
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench_stats import AS_OF, fill  # noqa: E402
from geo_tracker.server.ogc import collection_page  # noqa: E402
from benchlib import against_goal, backend_arguments, fastest, on_each_backend  # noqa: E402
from geo_tracker.services.database import init_database  # noqa: E402
from geo_tracker.services.patches import page_of_patches  # noqa: E402
from geo_tracker.store import open_store  # noqa: E402

PAGE = 100


#: The web list's sorts and the bare ORDER BY each is measured against.
LIST_SORTS = {"patch_code": "p.patch_code, p.id",
              "-rectified_mu": "p.rectified_mu DESC NULLS LAST, p.id"}
DEFAULT_ORDER = "b.issued_on, b.name, p.patch_code, p.id"


def floor_page(store, offset: int, order: str = DEFAULT_ORDER) -> int:
    with store.engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT p.id, p.patch_code, b.name, p.area_mu, p.status, m.village_code, "
            f"{store.geometry_as_wkb('p.geom')} AS wkb FROM patches p JOIN batches b ON b.id = p.batch_id "
            "LEFT JOIN patch_matches m ON m.patch_id = p.id WHERE p.is_current AND NOT p.withdrawn "
            f"ORDER BY {order} LIMIT {PAGE} OFFSET {offset}")).all()
        shapely.from_wkb([bytes(r.wkb) for r in rows])
    return len(rows)


def _offsets(n: int) -> list[int]:
    """Page 1, page 1 000 (when there is one), the middle and the last page."""
    return sorted({0, min(999 * PAGE, n - PAGE), n // 2, n - PAGE})


def measure(url: str, n: int, repeat: int) -> list[tuple[int, float, float]]:
    init_database(url)
    out = []
    with open_store(url) as store:
        t = time.perf_counter()
        fill(store, n)
        print(f"  filled {n} patches in {time.perf_counter() - t:.1f} s", flush=True)
        for offset in _offsets(n):
            floors, ours = [], []
            for _ in range(repeat):
                t = time.perf_counter()
                assert floor_page(store, offset) == PAGE
                floors.append(time.perf_counter() - t)
                t = time.perf_counter()
                matched, page = collection_page(store, "patches", None, {}, None, None, PAGE, offset)
                ours.append(time.perf_counter() - t)
                assert len(page) == PAGE and abs(matched - n) <= n // 10   # above 100 000 the planner's estimate
            out.append((offset, min(floors), min(ours)))
        for (sortby, order), as_of in [*((item, None) for item in LIST_SORTS.items()),
                                       (("status", "p.status, p.id"), AS_OF)]:
            for offset in _offsets(n):
                floor = fastest(lambda: floor_page(store, offset, order), repeat)
                ours = fastest(lambda: page_of_patches(store, page=offset // PAGE + 1, size=PAGE, sortby=sortby,
                                                       as_of=as_of), repeat)
                out.append((f"{offset} list {sortby}{' as of ' + str(as_of) if as_of else ''}", floor, ours))
    return out



def main() -> None:
    args = backend_arguments(__doc__.splitlines()[0], postgis=100_000, spatialite=100_000).parse_args()
    results = on_each_backend(args, measure)
    print(f"one page of {PAGE} items, fastest of {args.repeat} (OGC items page with numberMatched / bare SQL page; "
          "at every offset):")
    for name, (n, rows) in results.items():
        for offset, floor, ours in rows:
            print(f"  {name} at {n}, offset {offset:>7}: floor {floor * 1000:7.1f} ms, ours {ours * 1000:7.1f} ms, "
                  f"{against_goal(ours / floor, 2)}")


if __name__ == "__main__":
    main()
