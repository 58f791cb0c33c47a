"""Schema, migrations and geometry storage on both backends."""

from __future__ import annotations

import subprocess
from datetime import date

import pytest
import shapely
import sqlalchemy as sa
from shapely.geometry import MultiPolygon, Polygon

from geo_tracker.errors import SchemaNotInitialisedError, SchemaTooNewError
from geo_tracker.services.database import init_database
from geo_tracker.store import migrate, open_store, parse_url, partitions


def test_migrations_from_empty_reach_head(empty_db_url):
    result = init_database(empty_db_url)
    assert result.from_revision is None
    assert result.to_revision == migrate.head_revision()
    with open_store(empty_db_url) as store:
        assert store.schema_revision() == migrate.head_revision()
        tables = set(sa.inspect(store.engine).get_table_names())
    assert {"admin_units", "batches", "patches", "events"} <= tables


def test_geometry_columns_registered_the_standard_way(store):
    with store.engine.connect() as conn:
        if store.backend == "spatialite":
            rows = conn.execute(sa.text(
                "SELECT f_table_name, geometry_type, srid, spatial_index_enabled "
                "FROM geometry_columns ORDER BY f_table_name")).all()
            # SpatiaLite codes MULTIPOLYGON XY as 6; spatial_index_enabled 1 = R*Tree
            assert [tuple(r) for r in rows] == [("admin_units", 6, 4490, 1), ("imagery", 6, 4490, 1),
                                                ("landuse_parcels", 6, 4490, 1), ("patches", 6, 4490, 1),
                                                ("patrols", 5, 4490, 1)]
            views = conn.execute(sa.text("SELECT view_name, f_table_name FROM views_geometry_columns")).all()
            assert [tuple(r) for r in views] == [("current_patches", "patches")]
        else:
            rows = conn.execute(sa.text(
                "SELECT f_table_name, type, srid FROM geometry_columns g "
                "WHERE f_table_schema = current_schema() AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE "
                "c.oid = to_regclass(g.f_table_name) AND c.relispartition) ORDER BY f_table_name")).all()
            parts = conn.execute(sa.text(
                "SELECT f_table_name FROM geometry_columns WHERE f_table_schema = current_schema() "
                "AND f_table_name LIKE 'patches!_%' ESCAPE '!' ORDER BY 1")).scalars().all()
            assert parts == []   # no year has patches yet, so no year has its partition
            assert [tuple(r) for r in rows] == [("admin_units", "MULTIPOLYGON", 4490),
                                                ("current_patches", "MULTIPOLYGON", 4490),
                                                ("imagery", "MULTIPOLYGON", 4490),
                                                ("landuse_parcels", "MULTIPOLYGON", 4490),
                                                ("patches", "MULTIPOLYGON", 4490),
                                                ("patrols", "MULTILINESTRING", 4490)]
            indexes = conn.execute(sa.text(
                "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() "
                "AND indexdef LIKE '%USING gist%'")).scalars().all()
            assert len(indexes) == 5 and sum(" ON ONLY " in d and ".patches " in d for d in indexes) == 1


def _insert_patch(store, conn, geom, code="P1"):
    batch_id = conn.execute(sa.text(
        "INSERT INTO batches (source, name, issued_on) VALUES ('natural-resources', :n, :d) "
        "RETURNING id"), {"n": f"batch-{code}", "d": "2023-06-30"}).scalar_one()
    keyed = "batch_issued_on" in conn.execute(sa.text("SELECT * FROM patches LIMIT 0")).keys()  # since 0014
    names, marks = ("batch_id, batch_issued_on", ":b, :d") if keyed else ("batch_id", ":b")
    if keyed:
        partitions.ensure(conn, "patches", [2023])
    conn.execute(sa.text(
        f"INSERT INTO patches ({names}, patch_code, area_mu, attrs, flags, geom) "
        f"VALUES ({marks}, :c, 1.0, '{{}}', '[]', {store.geometry_from_wkb('wkb')})"),
        {"b": batch_id, "d": date(2023, 6, 30), "c": code, "wkb": shapely.to_wkb(geom)})


def test_geometry_round_trips_exactly(store):
    outer = [(106.512345678901, 29.601234567891), (106.5200001, 29.6000002),
             (106.5212345, 29.6098765), (106.5101234, 29.6087654), (106.512345678901, 29.601234567891)]
    hole = [(106.514, 29.603), (106.516, 29.603), (106.516, 29.605), (106.514, 29.603)]
    second = Polygon([(106.53, 29.61), (106.54, 29.61), (106.54, 29.62), (106.53, 29.61)])
    geom = MultiPolygon([Polygon(outer, [hole]), second])
    with store.transaction() as conn:
        _insert_patch(store, conn, geom)
    with store.engine.connect() as conn:
        wkb = conn.execute(sa.text(
            f"SELECT {store.geometry_as_wkb('geom')} FROM patches")).scalar_one()
    back = shapely.from_wkb(bytes(wkb))
    assert back.geom_type == "MultiPolygon"
    assert len(back.geoms) == 2 and len(back.geoms[0].interiors) == 1
    assert shapely.equals_exact(back, geom, tolerance=0)
    assert (shapely.get_coordinates(back) == shapely.get_coordinates(geom)).all()


def test_single_polygon_is_stored_as_multipolygon(store):
    with store.transaction() as conn:
        _insert_patch(store, conn, Polygon([(106.5, 29.6), (106.51, 29.6), (106.51, 29.61)]))
    with store.engine.connect() as conn:
        wkb = conn.execute(sa.text(f"SELECT {store.geometry_as_wkb('geom')} FROM patches")).scalar_one()
    assert shapely.from_wkb(bytes(wkb)).geom_type == "MultiPolygon"


def test_init_twice_is_a_no_op(db_url):
    with open_store(db_url) as store, store.transaction() as conn:
        _insert_patch(store, conn, Polygon([(106.5, 29.6), (106.51, 29.6), (106.51, 29.61)]))
    again = init_database(db_url)
    assert not again.changed
    with open_store(db_url) as store, store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM patches")).scalar_one() == 1


def test_empty_database_asks_for_init(empty_db_url):
    if empty_db_url.startswith("sqlite"):
        with pytest.raises(SchemaNotInitialisedError, match=r"office.sqlite does not exist: run `geo-tracker --db .*init`"):
            open_store(empty_db_url)
    else:
        with pytest.raises(SchemaNotInitialisedError, match=r"has no geo_tracker tables: run `geo-tracker --db .* init`"):
            open_store(empty_db_url)


def test_database_from_a_newer_version_is_refused(store):
    with store.transaction() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(SchemaTooNewError, match="schema 9999, unknown to this geo_tracker"):
        store.check_schema()


def test_ogrinfo_opens_the_tables(store, db_url):
    geom = MultiPolygon([Polygon([(106.5, 29.6), (106.51, 29.6), (106.51, 29.61)])])
    with store.transaction() as conn:
        _insert_patch(store, conn, geom)
    backend, url = parse_url(db_url)
    if backend == "spatialite":
        source = url.database
    else:
        schema = url.query["options"].split("=")[1].split(",")[0]
        source = (f"PG:host={url.host} port={url.port} dbname={url.database} "
                  f"user={url.username} schemas={schema}")
    out = subprocess.run(["ogrinfo", "-ro", "-so", source, "patches"],
                         capture_output=True, text=True, check=True).stdout
    assert "Geometry: Multi Polygon" in out
    assert "Feature Count: 1" in out
    assert 'ID["EPSG",4490]' in out


@pytest.mark.postgis
def test_schema_on_search_path_is_not_mistaken_for_public(pg_database, pg_schema_url):
    """A county database with geo_tracker in public must not make a new schema look initialised."""
    init_database(pg_database)
    with pytest.raises(SchemaNotInitialisedError, match="has no geo_tracker tables"):
        open_store(pg_schema_url[0])
    assert init_database(pg_schema_url[0]).from_revision is None


def test_missing_postgis_fails_under_ci_instead_of_skipping(tmp_path):
    """The fixture must turn an unreachable PostGIS into a failure when CI=true."""
    import os
    import sys

    env = {**os.environ, "CI": "true",
           "GEO_TRACKER_TEST_PG": "postgresql+psycopg://postgres@127.0.0.1:1"}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path),
         f"{__file__}::test_geometry_round_trips_exactly"],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert proc.returncode == 1, proc.stdout
    assert "PostGIS is required in CI but PostgreSQL at" in proc.stdout
    assert "1 passed" in proc.stdout and "1 error" in proc.stdout


def test_stdlib_sqlite3_is_used_when_it_can_load_extensions():
    from types import SimpleNamespace

    import pysqlite3.dbapi2 as capable

    from geo_tracker.store.spatialite import sqlite_module

    assert sqlite_module(capable) is capable
    incapable = SimpleNamespace(Connection=type("Connection", (), {}))
    assert sqlite_module(incapable) is capable


def test_spatialite_store_works_through_either_module(tmp_path, monkeypatch):
    """Both DB-API paths load SpatiaLite and store geometries (stdlib one emulated here)."""
    import pysqlite3.dbapi2 as capable

    import geo_tracker.store.spatialite as spatialite

    monkeypatch.setattr(spatialite, "sqlite_module", lambda stdlib=None: capable)
    url = f"sqlite:///{tmp_path / 'x.sqlite'}"
    init_database(url)
    with open_store(url) as store, store.transaction() as conn:
        _insert_patch(store, conn, Polygon([(106.5, 29.6), (106.51, 29.6), (106.51, 29.61)]))


def test_older_database_asks_for_init_and_upgrades_keeping_data(empty_db_url):
    from geo_tracker.errors import SchemaOutdatedError

    with open_store(empty_db_url, create=True, check_schema=False) as store:
        with store.transaction() as conn:
            store.prepare(conn)
            migrate.upgrade(conn, "0001")
        with store.transaction() as conn:
            _insert_patch(store, conn, Polygon([(106.5, 29.6), (106.51, 29.6), (106.51, 29.61)]))
        with pytest.raises(SchemaOutdatedError, match=r"is at schema 0001, this geo_tracker needs .*run `geo-tracker --db .* init` to upgrade"):
            store.check_schema()
    result = init_database(empty_db_url)
    assert (result.from_revision, result.to_revision) == ("0001", migrate.head_revision())
    with open_store(empty_db_url) as store, store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM patches")).scalar_one() == 1


def test_spatialite_blobs_are_byte_identical_to_spatialites_own(tmp_path):
    """The BLOBs we build for bulk inserts must be exactly what GeomFromWKB makes."""
    import numpy as np

    from geo_tracker.store.spatialite import spatialite_blobs

    geoms = [
        MultiPolygon([Polygon(shapely.box(106.1, 29.2, 106.3, 29.4).exterior.coords,
                              [shapely.box(106.15, 29.25, 106.2, 29.3).exterior.coords,
                               shapely.box(106.22, 29.32, 106.25, 29.35).exterior.coords]),
                      shapely.box(106.5, 29.5, 106.6, 29.6)]),
        shapely.box(106.7, 29.7, 106.8, 29.9),
        MultiPolygon([shapely.box(106.0, 29.0, 106.01, 29.01)] * 3),
    ]
    url = f"sqlite:///{tmp_path / 'b.sqlite'}"
    init_database(url)
    with open_store(url) as store, store.engine.connect() as conn:
        ours = spatialite_blobs(np.array(geoms, dtype=object))
        theirs = [conn.exec_driver_sql("SELECT CastToMultiPolygon(GeomFromWKB(?, 4490))",
                                       (shapely.to_wkb(g),)).scalar_one() for g in geoms]
    assert ours == [bytes(t) for t in theirs]


def test_revision_check_without_alembic_agrees_with_alembic(empty_db_url):
    """Every command checks the schema from the file names and the version table; Alembic,
    a second of imports, reads the same head, the same revisions and the same current one."""
    from alembic.runtime.migration import MigrationContext

    assert migrate.alembic_revisions() == (migrate.head_revision(), migrate.known_revisions())
    with open_store(empty_db_url, create=True, check_schema=False) as store:
        with store.engine.connect() as conn:
            assert migrate.current_revision(conn) is None
    init_database(empty_db_url)
    with open_store(empty_db_url) as store:
        with store.engine.connect() as conn:
            opts = {"version_table_schema": migrate.version_table_schema(conn)}
            theirs = MigrationContext.configure(conn, opts=opts).get_current_revision()
            assert migrate.current_revision(conn) == theirs == migrate.head_revision()
