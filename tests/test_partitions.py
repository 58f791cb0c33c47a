"""Patches and events partitioned by year on PostGIS (migration 0014), from an existing database and back."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from alembic import command

import bureau_files as bf
from geo_tracker.errors import InvalidValueError
from geo_tracker.services import cases, tracking
from geo_tracker.services.batches import ImportOptions, import_batch
from geo_tracker.services.patches import list_patches
from geo_tracker.services.stats import compute_stats
from geo_tracker.store import migrate, partitions

CODE = "5001090001"


def _partitions(conn, table: str) -> dict[str, int]:
    """Each partition of ``table`` and its rows."""
    names = conn.execute(sa.text(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = to_regclass(:t) ORDER BY 1"), {"t": table}).scalars().all()
    return {n: conn.execute(sa.text(f"SELECT count(*) FROM {n}")).scalar_one() for n in names}


def _references(conn) -> int:
    return conn.execute(sa.text(
        "SELECT count(*) FROM pg_constraint WHERE contype = 'f' "
        "AND confrelid IN (to_regclass('patches'), to_regclass('events'))")).scalar_one()


def _life(store):
    """Figures and rows that must not change when the tables are rebuilt."""
    frame = list_patches(store, as_of=date(2024, 3, 1)).set_index("patch_code")
    figures = compute_stats(store, as_of=date(2024, 3, 1))
    totals = {k: round(v, 6) if isinstance(v, float) else v for k, v in figures["total"].items()}  # summed in row order
    return frame[["status", "rectified_mu", "village_code"]].to_dict(), totals


def test_migration_0014_partitions_an_existing_database_by_year_and_back(store, tmp_path):
    import_batch(store, bf.weipian_geojson(tmp_path), ImportOptions(
        source="natural-resources", batch="2023年第2批", issued_on=date(2023, 6, 30), deadline=date(2023, 12, 31)))
    tracking.verify_patch(store, CODE, "illegal", date(2023, 7, 5))
    cases.open_case(store, "X镇综执罚〔2023〕9号", date(2023, 7, 20), patches_refs=[CODE])
    tracking.rectify_patch(store, CODE, date(2024, 2, 1), "demolition", area_mu=0.4)
    with store.transaction() as conn:
        command.downgrade(migrate._config(conn), "0013")
    with store.engine.connect() as conn:
        assert "batch_issued_on" not in conn.execute(sa.text("SELECT * FROM patches LIMIT 0")).keys()
    before = _life(store)
    with store.transaction() as conn:
        migrate.upgrade(conn)
    assert _life(store) == before
    patches_n = len(list_patches(store))
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM patches WHERE batch_issued_on = '2023-06-30'")
                            ).scalar_one() == patches_n
        if store.backend == "spatialite":
            return
        assert _partitions(conn, "patches") == {"patches_y2023": patches_n}
        events = _partitions(conn, "events")
        assert set(events) == {"events_y2023", "events_y2024"} and events["events_y2024"] == 1
        assert events["events_y2023"] >= 3
        assert _references(conn) == 0
        plan = "\n".join(conn.execute(sa.text(
            "EXPLAIN SELECT count(*) FROM events WHERE occurred_on <= '2023-12-31'")).scalars())
        assert "events_y2023" in plan and "events_y2024" not in plan          # a later year is not read

    (tmp_path / "later").mkdir()
    later = bf.weipian_geojson(tmp_path / "later")
    import_batch(store, later, ImportOptions(source="natural-resources", batch="2025年第1批",
                                             issued_on=date(2025, 3, 31), accept_duplicates=True))
    tracking.verify_patch(store, "2025年第1批/" + CODE, "legal", date(2025, 4, 2))
    with store.engine.connect() as conn:
        assert _partitions(conn, "patches")["patches_y2025"] == patches_n
        events = _partitions(conn, "events")
        assert events["events_y2025"] >= 2 and "events_y2026" not in events       # no year before its rows
    with store.transaction() as conn, store.bulk_loading(conn, list(partitions.KEYS)):
        pass                                                # a move's load drops the indexes and makes them again
    with store.engine.connect() as conn:
        assert conn.execute(sa.text(
            "SELECT count(*) FROM pg_index WHERE NOT indisvalid")).scalar_one() == 0
        assert conn.execute(sa.text(
            "SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() AND indexdef LIKE '%USING gist%' "
            "AND tablename LIKE 'patches!_y%' ESCAPE '!'")).scalar_one() == 2
    after = _life(store)

    with store.transaction() as conn:
        command.downgrade(migrate._config(conn), "0013")
    with store.engine.connect() as conn:
        assert conn.execute(sa.text(
            "SELECT count(*) FROM pg_partitioned_table")).scalar_one() == 0
        assert _references(conn) == 11
    assert _life(store) == after and len(list_patches(store)) == 2 * patches_n


@pytest.mark.parametrize("year", [2019])
def test_a_batch_of_a_year_with_no_partition_gets_one_with_its_patches(store, tmp_path, year):
    import_batch(store, bf.weipian_geojson(tmp_path), ImportOptions(
        source="natural-resources", batch=f"{year}年第1批", issued_on=date(year, 5, 1)))
    tracking.verify_patch(store, CODE, "illegal", date(year, 6, 1))
    if store.backend == "spatialite":
        return
    with store.engine.connect() as conn:
        assert _partitions(conn, "patches") == {f"patches_y{year}": len(list_patches(store))}
        assert _partitions(conn, "events")[f"events_y{year}"] >= 1


def test_a_patch_whose_batch_is_gone_stops_the_migration_with_a_count(store, tmp_path):
    import_batch(store, bf.weipian_geojson(tmp_path), ImportOptions(
        source="natural-resources", batch="2023年第2批", issued_on=date(2023, 6, 30)))
    with store.transaction() as conn:
        command.downgrade(migrate._config(conn), "0013")
    with store.transaction() as conn:
        conn.execute(sa.text("UPDATE patches SET batch_id = 999 WHERE id IN (SELECT min(id) FROM patches)"))
    if store.backend == "spatialite":
        with store.transaction() as conn:
            migrate.upgrade(conn)       # nothing is partitioned: the patch keeps a null batch date
        return
    with pytest.raises(InvalidValueError, match=r"表patches有1行缺少分区所需的batch_issued_on|1 rows of patches"):
        with store.transaction() as conn:
            migrate.upgrade(conn)
    with store.engine.connect() as conn:                    # nothing half done: still at 0013
        assert migrate.current_revision(conn) == "0013"
        assert not partitions.is_partitioned(conn, "patches")
