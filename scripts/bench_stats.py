#!/usr/bin/env python
"""Benchmark `stats --by village --as-of` against one hand-written SQL aggregate.

    python scripts/bench_stats.py --postgis 1000000 --spatialite 100000

Fills a fresh database per backend in SQL (patches as small squares over 1 000
villages, three events per patch: verified, rectified, closed), then
times in the same run:

- floor: one hand-written GROUP BY over patches, their village and their events
  (count, area, rectified area per village as of the date)
- ``compute_stats(by=["village"], as_of=...)``: every figure, as-of folding, cases

and checks both agree on patches, area and rectified area per village.
Target: ≤ 2× the floor on both backends.
"""

from __future__ import annotations

import sys
import time
from datetime import date
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchlib import against_goal, backend_arguments, on_each_backend  # noqa: E402
from geo_tracker.services.database import init_database  # noqa: E402
from geo_tracker.services.stats import compute_stats  # noqa: E402
from geo_tracker.store import open_store, partitions  # noqa: E402

AS_OF = date(2023, 12, 31)


def fill(store, n: int) -> None:
    pg = store.backend == "postgis"
    series = "generate_series(1, :n) AS s(g)" if pg else "s"
    recursive = "" if pg else "WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < :n) "
    square = ("ST_Multi(ST_MakeEnvelope({x}, {y}, {x} + 0.0005, {y} + 0.0005, 4490))" if pg else
              "CastToMultiPolygon(BuildMbr({x}, {y}, {x} + 0.0005, {y} + 0.0005, 4490))")
    x, y = "106 + (g % 1000) * 0.001", "29 + (g / 1000) * 0.0001"
    true, false = ("true", "false") if pg else ("1", "0")
    with store.transaction() as conn:
        batch = conn.execute(sa.text("INSERT INTO batches (source, name, issued_on, deadline) VALUES "
                                     "('natural-resources', 'bench', '2023-06-30', '2023-11-30') RETURNING id")).scalar_one()
        for table in partitions.KEYS:  # the rows go straight to their year's partition, as an import's do
            partitions.ensure(conn, table, [2023])
        conn.execute(sa.text(
            f"{recursive}INSERT INTO patches (batch_id, batch_issued_on, patch_code, version, is_current, withdrawn, "
            "status, area_mu, cultivated_mu, issued_area_mu, attrs, flags, row_version, geom) "
            f"SELECT {batch}, '2023-06-30', 'P' || g, 1, {true}, {false}, 'issued', 1 + (g % 7) * 0.5, (g % 3) * 0.2, "
            f"1 + (g % 7) * 0.5, '{{}}', '{{}}', 1, {square.format(x=x, y=y)} FROM {series}"), {"n": n})
        conn.execute(sa.text("UPDATE patches SET lineage_id = id"))
        conn.execute(sa.text(
            f"{recursive.replace(':n', '1000')}INSERT INTO admin_units (code, name, level, parent_code, valid_from, attrs, geom) "
            f"SELECT '500109107' || substr(CAST(1000 + g AS TEXT), 2, 3), '村' || g, 'village', '500109107', "
            f"'1900-01-01', '{{}}', {square.format(x='106 + g * 0.001', y='29')} FROM "
            + ("generate_series(0, 999) AS s(g)" if pg else "s WHERE g < 1000").replace(":n", "1000")))
        conn.execute(sa.text(
            "INSERT INTO patch_matches (patch_id, village_unit_id, village_code, village_name, share, covered_share, "
            f"outside, straddles, boundaries_as_of) SELECT p.id, a.id, a.code, a.name, 1, 1, {false}, {false}, "
            "'2023-06-30' FROM patches p JOIN admin_units a ON a.code = '500109107' || "
            "substr(CAST(1000 + (p.id % 1000) AS TEXT), 2, 3)"))
        now = "now()" if pg else "'2024-01-05 10:00:00'"
        for kind, day, payload, where in (
            ("verified", "2023-07-05", "'{\"result\": \"illegal\"}'", ""),
            ("rectified", "2023-09-01", "'{\"measure\": \"demolition\", \"area_mu\": ' || area_mu || '}'", ""),
            ("closed", "2023-12-01", "'{}'", ""),
        ):
            conn.execute(sa.text(
                f"INSERT INTO events (kind, occurred_on, recorded_at, batch_id, patch_id, payload) "
                f"SELECT '{kind}', '{day}', {now}, batch_id, lineage_id, "
                f"{'CAST(' + payload + ' AS jsonb)' if pg else payload} FROM patches {where}"))
        conn.execute(sa.text(  # the state those three events fold to, kept on the row as every write keeps it
            "UPDATE patches SET status = 'closed', status_on = '2023-12-01', rectified_mu = area_mu, "
            "verified = 'illegal'"))
    with store.engine.connect() as conn:
        conn.execute(sa.text("ANALYZE"))
        conn.commit()


def floor_query(store) -> str:
    area = store.json_number("e.payload", "area_mu")
    return f"""
    SELECT m.village_code, COUNT(*) AS patches, SUM(p.area_mu) AS area_mu, SUM(coalesce(r.rect, 0)) AS rectified_mu
    FROM patches p
    LEFT JOIN patch_matches m ON m.patch_id = p.id
    LEFT JOIN (SELECT e.patch_id, SUM(CASE WHEN e.kind = 'rectified' THEN {area} ELSE 0 END) AS rect
               FROM events e WHERE e.occurred_on <= :d AND e.voided_by IS NULL GROUP BY e.patch_id) r
      ON r.patch_id = p.lineage_id
    WHERE p.is_current GROUP BY m.village_code
    """


def measure(url: str, n: int, repeat: int) -> tuple[float, float, int]:
    init_database(url)
    with open_store(url) as store:
        t = time.perf_counter()
        fill(store, n)
        print(f"  filled {n} patches, {n * 3} events in {time.perf_counter() - t:.1f} s", flush=True)
        sql = sa.text(floor_query(store))
        floor_times, ours_times = [], []
        for _ in range(repeat):
            with store.engine.connect() as conn:
                t = time.perf_counter()
                floor = {r.village_code: r for r in conn.execute(sql, {"d": AS_OF})}
                floor_times.append(time.perf_counter() - t)
            t = time.perf_counter()
            ours = compute_stats(store, as_of=AS_OF, by=["village"])
            ours_times.append(time.perf_counter() - t)
        for group in ours["groups"]:
            want = floor[group["key"]["village"]]
            assert group["patches"] == want.patches
            assert abs(group["area_mu"] - want.area_mu) < 1e-6 * want.area_mu
            assert abs(group["rectified_mu"] - want.rectified_mu) < 1e-6 * max(want.rectified_mu, 1)
        return min(floor_times), min(ours_times), len(ours["groups"]), dashboard_seconds(store, repeat)


def dashboard_seconds(store, repeat: int) -> tuple[float, float]:
    """(the dashboard page /dashboard as of AS_OF, one compute_stats call of the same day): fastest of ``repeat``."""
    from fastapi.testclient import TestClient

    from geo_tracker.server.app import create_app
    from geo_tracker.services import accounts

    accounts.add_user(store, "bench", "correct horse battery", "viewer", ["*"])
    client = TestClient(create_app(store), headers={
        "Authorization": f"Bearer {accounts.create_token(store, 'bench', 'bench')}", "Accept": "text/html"})
    page, call = [], []
    for _ in range(repeat):
        t = time.perf_counter()
        assert client.get("/dashboard", params={"as_of": AS_OF.isoformat()}).status_code == 200
        page.append(time.perf_counter() - t)
        t = time.perf_counter()
        compute_stats(store, as_of=AS_OF)
        call.append(time.perf_counter() - t)
    return min(page), min(call)


def main() -> None:
    args = backend_arguments(__doc__.splitlines()[0], postgis=1_000_000, spatialite=100_000).parse_args()
    results = {name: (n, *measured) for name, (n, measured) in on_each_backend(args, measure).items()}
    for name, (n, floor, ours, groups, _) in results.items():
        print(f"{name:10s} {n:>8} patches, {groups} villages: floor {floor:.2f} s, stats {ours:.2f} s")
    print(f"ratios, fastest of {args.repeat} (compute_stats by village as of {AS_OF} / hand-written aggregate):")
    for name, (n, floor, ours, _, _) in results.items():
        print(f"  {name} at {n}: {against_goal(ours / floor, 1.5)}")
    print("the dashboard page as of the same day / one compute_stats call:")
    for name, (n, _, _, _, (page, call)) in results.items():
        print(f"  {name} at {n}: page {page:.2f} s, stats {call:.2f} s, {against_goal(page / call, 2)}")


if __name__ == "__main__":
    main()
