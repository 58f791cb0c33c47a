"""PostGIS: the server store for a county or a province."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Sequence

import numpy as np
import shapely
from sqlalchemy import Connection, create_engine, event, text
from sqlalchemy.pool import NullPool
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError

from ..catalogue import msg
from ..errors import ConfigurationError, DatabaseUnavailableError, SchemaNotInitialisedError, SpatialExtensionError
from .base import GEOMETRY_KINDS, WRITE_OPTION, Store
from .url import mask

DEBIAN_PACKAGE = "postgresql-15-postgis-3"


def _where(url: URL) -> str:
    return f"host {url.host or 'localhost'}:{url.port or 5432}, database {url.database!r}"


def _first_line(error: Exception) -> str:
    orig = getattr(error, "orig", None) or error
    return str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__


class PostGISStore(Store):
    backend = "postgis"
    native_vector_tiles = True
    code_point_collation = ' COLLATE "C"'
    estimates_rows = True

    @classmethod
    def open(cls, url: URL, *, create: bool = False) -> "PostGISStore":
        engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)
        try:
            with engine.connect():
                pass
        except OperationalError as e:
            engine.dispose()
            message = _first_line(e)
            if "does not exist" in message and "database" in message:
                if create:
                    _create_database(url)
                    return cls.open(url, create=False)
                raise SchemaNotInitialisedError(msg("storage.postgres_database_missing", database=url.database,
                                                    host=url.host or "localhost", url=mask(url))) from None
            raise DatabaseUnavailableError(msg("storage.postgres_unreachable", where=_where(url), reason=message)) from None
        return cls(engine, url)

    # --- replicas ---------------------------------------------------------------------

    def attach_replicas(self, urls: Sequence[str], wait_s: float = 0.5) -> None:
        from copy import copy

        from .replicas import ReplicaSet, watch_commits
        from .url import parse_url, resolve_url

        parsed = []
        for url in urls:
            backend, sa_url = parse_url(resolve_url(url))
            if backend != "postgis":
                raise ConfigurationError(msg("storage.replica_not_postgres", url=mask(sa_url)), field="read_database_url")
            parsed.append(sa_url)
        self._replicas = ReplicaSet(parsed, wait_s)
        watch_commits(self.engine)
        self._views = {}
        for engine in self._replicas.engines:
            view = copy(self)
            view.engine, view._replicas, view._views = engine, None, {}
            self._views[engine] = view

    @property
    def has_replicas(self) -> bool:
        return getattr(self, "_replicas", None) is not None

    def reading(self, *after: str | None) -> "PostGISStore":
        if not self.has_replicas:
            return self
        engine = self._replicas.choose(*after)
        return self if engine is None else self._views[engine]

    def noting_changes(self):
        from .replicas import noting_changes

        return noting_changes()

    def close(self) -> None:
        if self.has_replicas:
            self._replicas.dispose()
        super().close()

    snapshot_member = "database/ledger.pgdump"

    def _spatial_table(self, name: str) -> bool:
        return name == "spatial_ref_sys"

    @contextmanager
    def snapshot(self, path: Path) -> Iterator["PostGISStore"]:
        """``pg_dump`` in custom format of a snapshot exported by a REPEATABLE READ transaction;
        the yielded store's transactions import the same snapshot, so the counts and totals of the
        manifest describe exactly the rows in the dump."""
        with self.engine.connect() as conn:
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
            snapshot_id = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            schema = conn.execute(text("SELECT current_schema()")).scalar_one()
            only = [] if schema == "public" else [f"--schema={schema}"]    # a ledger kept in its own schema
            _run_pg_tool("pg_dump", "--format=custom", f"--snapshot={snapshot_id}", f"--file={path}", *only,
                         url=self.url)
            frozen = create_engine(self.url, poolclass=NullPool)

            @event.listens_for(frozen, "begin")
            def _in_snapshot(frozen_conn):
                frozen_conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                frozen_conn.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{snapshot_id}'")

            try:
                yield type(self)(frozen, self.url)
            finally:
                frozen.dispose()
            conn.rollback()

    @classmethod
    def load_snapshot(cls, url: URL, path: Path) -> None:
        """``pg_restore`` into the (empty) database, without the dump's owners and grants: the
        restoring user owns what it restores."""
        _create_database(url, exist_ok=True)
        engine = create_engine(url)
        try:
            with engine.begin() as conn:
                conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
        finally:
            engine.dispose()
        _run_pg_tool("pg_restore", "--no-owner", "--no-acl", "--exit-on-error", "--single-transaction",
                     str(path), url=url)
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(text("ANALYZE"))     # pg_restore leaves the planner without statistics
        finally:
            engine.dispose()

    @classmethod
    def wipe(cls, url: URL) -> None:
        """Drop geo_tracker's tables and view in the schema the URL works in, by qualified name, so
        another ledger in another schema, and the extension, stay as they are."""
        from .schema import LEDGER_TABLES, NOT_COPIED

        engine = create_engine(url)
        try:
            with engine.begin() as conn:
                schema = conn.execute(text("SELECT current_schema()")).scalar_one().replace('"', '""')
                conn.execute(text(f'DROP VIEW IF EXISTS "{schema}".current_patches CASCADE'))
                for table in (*reversed(LEDGER_TABLES), *NOT_COPIED, "alembic_version"):
                    conn.execute(text(f'DROP TABLE IF EXISTS "{schema}"."{table}" CASCADE'))
        finally:
            engine.dispose()

    @classmethod
    def remove(cls, url: URL) -> None:
        admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                name = url.database.replace('"', '""')
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        finally:
            admin.dispose()

    def prepare(self, conn: Connection) -> None:
        try:
            with conn.begin_nested():
                conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
        except (ProgrammingError, OperationalError, DBAPIError) as e:
            raise SpatialExtensionError(msg("storage.postgis_unavailable", where=_where(self.url), reason=_first_line(e),
                                            package=DEBIAN_PACKAGE)) from None

    def geometry_from_wkb(self, param: str, kind: str = "MultiPolygon") -> str:
        return f"ST_Multi(ST_GeomFromWKB(:{param}, 4490))"

    def bbox_condition(self, table: str, alias: str | None = None) -> str:
        return f"{alias or table}.geom && ST_MakeEnvelope(:xmin, :ymin, :xmax, :ymax, 4490)"

    def intersects_box(self, column: str) -> str:
        return f"ST_Intersects({column}, ST_MakeEnvelope(:xmin, :ymin, :xmax, :ymax, 4490))"

    def in_subquery(self, column: str, subquery: str) -> str:
        """An array built once, so the planner probes ``column``'s index with it whatever it
        guesses of the subquery's size (an IN it may turn into a hash join over the whole table)."""
        return f"{column} = ANY(ARRAY({subquery}))"

    def json_number(self, column: str, key: str) -> str:
        return f"CAST({column}->>'{key}' AS DOUBLE PRECISION)"

    def json_text(self, column: str, key: str) -> str:
        return f"({column}->>'{key}')"

    def geometry_as_wkb(self, column: str) -> str:
        return f"ST_AsBinary({column})"

    def reserve_ids(self, conn: Connection, table: str, count: int) -> list[int]:
        return list(conn.execute(text(
            f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, :n)"), {"n": count}
        ).scalars())

    def bulk_insert(self, conn: Connection, table: str, columns: dict[str, Sequence]) -> None:
        """COPY in binary format: geometry as EWKB and jsonb as its wire form, no text parsing."""
        names = list(columns)
        types = self._copy_types(conn, table)
        values = []
        for name, column in columns.items():
            if types[name] == "geometry":
                values.append(_ewkb(column))
            elif types[name] == "jsonb":
                values.append([None if v is None else b"\x01" + v.encode() for v in column])
            else:
                values.append(column)
        if not len(values[0]):
            return
        wire = [_WIRE_TYPE.get(types[n], types[n]) for n in names]
        raw = conn.connection.dbapi_connection
        with raw.cursor() as cur:
            with cur.copy(f"COPY {table} ({', '.join(names)}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(wire)
                for row in zip(*values):
                    copy.write_row(row)

    def _copy_types(self, conn: Connection, table: str) -> dict[str, str]:
        rows = conn.execute(text(
            "SELECT a.attname, t.typname FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
            "WHERE a.attrelid = to_regclass(:t) AND a.attnum > 0 AND NOT a.attisdropped"
        ), {"t": table}).all()
        return dict(rows)

    def extent_sql(self, table: str, where: str) -> str:
        return ("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
                f"(SELECT ST_Extent(geom) AS e FROM {table} WHERE {where}) AS s")

    def extent_columns(self, column: str) -> str:
        extent = f"ST_Extent({column})"
        return f"ST_XMin({extent}), ST_YMin({extent}), ST_XMax({extent}), ST_YMax({extent})"

    def row_lock(self, conn: Connection, alias: str) -> str:
        """Concurrent actions on one patch then wait for each other instead of failing as stale."""
        return f" FOR UPDATE OF {alias}" if conn.get_execution_options().get(WRITE_OPTION) else ""

    def day_number(self, column: str) -> str:
        return f"({column} - DATE '2000-01-01')"

    def timestamp_param(self, moment):
        return moment

    def spatial_versions(self, conn: Connection) -> dict[str, str]:
        server = conn.execute(text("SHOW server_version")).scalar_one()
        postgis = conn.execute(text("SELECT postgis_lib_version()")).scalar_one()
        geos = conn.execute(text("SELECT postgis_geos_version()")).scalar_one()
        proj = conn.execute(text("SELECT postgis_proj_version()")).scalar_one()
        return {
            "PostgreSQL": server,
            "PostGIS": postgis,
            "GEOS (PostGIS)": geos,
            "PROJ (PostGIS)": proj,
        }

    # --- copying a ledger (geo-tracker move) ------------------------------------------

    @contextmanager
    def read_transaction(self) -> Iterator[Connection]:
        """REPEATABLE READ, read only: every statement sees the snapshot of the first (PostgreSQL's
        default, READ COMMITTED, would let a table read later see rows written meanwhile)."""
        with self.engine.connect() as conn:
            conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                conn.exec_driver_sql("SET TRANSACTION READ ONLY")
                yield conn

    def geometry_columns(self, conn: Connection) -> dict[str, dict[str, str]]:
        found: dict[str, dict[str, str]] = {}
        for table, column, kind in conn.execute(text(
                "SELECT f_table_name, f_geometry_column, type FROM geometry_columns "
                "WHERE f_table_schema = current_schema()")):
            found.setdefault(table, {})[column] = GEOMETRY_KINDS[kind.upper()]
        return found

    def after_explicit_ids(self, conn: Connection, table: str) -> None:
        """Each serial column's sequence moved past the largest value in it."""
        serials = conn.execute(text(
            "SELECT a.attname, pg_get_serial_sequence(:t, a.attname) FROM pg_attribute a "
            "WHERE a.attrelid = to_regclass(:t) AND a.attnum > 0 AND NOT a.attisdropped "
            "AND pg_get_serial_sequence(:t, a.attname) IS NOT NULL"), {"t": table}).all()
        for column, sequence in serials:
            conn.execute(text(f"SELECT setval(:s, coalesce((SELECT max({column}) FROM {table}), 0) + 1, false)"),
                         {"s": sequence})

    @contextmanager
    def bulk_loading(self, conn: Connection, tables: list[str]) -> Iterator[None]:
        """The foreign keys and the secondary (not unique) indexes of ``tables`` are dropped, and made
        again once the rows are in: one index build and one validating join each, where checking and
        indexing a row at a time costs several times as much (300 000 events: 5.5 s against 1.5 s).
        Primary keys and unique indexes stay. It all happens in the caller's transaction, so no one
        sees the tables without them, and a key the rows violate fails the whole load."""
        listed = "SELECT to_regclass(t) FROM unnest(CAST(:tables AS text[])) AS t"
        keys = conn.execute(text(
            "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c "
            f"WHERE c.contype = 'f' AND c.conrelid IN ({listed}) ORDER BY c.conrelid::regclass::text, c.conname"),
            {"tables": tables}).all()
        indexes = conn.execute(text(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            f"WHERE i.indrelid IN ({listed}) AND NOT i.indisunique AND NOT i.indisprimary "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) ORDER BY 1"),
            {"tables": tables}).all()
        for table, name, _definition in keys:
            conn.execute(text(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"'))
        for name, _definition in indexes:
            conn.execute(text(f"DROP INDEX {name}"))
        yield
        for _name, definition in indexes:   # a partitioned table's index, made again on its partitions too
            conn.execute(text(definition.replace(" ON ONLY ", " ON ", 1)))
        for table, name, definition in keys:
            conn.execute(text(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'))


#: psycopg dumper for each PostgreSQL type in a binary COPY; geometry and jsonb go as raw bytes.
_WIRE_TYPE = {"geometry": "bytea", "jsonb": "bytea", "varchar": "text", "bpchar": "text"}


def _ewkb(geoms: Sequence) -> list[bytes]:
    """EWKB with SRID 4490 (what geometry_recv reads), MULTI forced.

    The SRID is spliced into little-endian WKB (flag 0x20000000 on the type, then
    the SRID): GEOS would need a copy of every geometry to carry the SRID.
    """
    geoms = np.asarray(geoms, dtype=object)
    single = shapely.get_type_id(geoms) == 3
    if single.any():
        geoms = geoms.copy()
        geoms[single] = shapely.multipolygons(geoms[single][:, np.newaxis])
    srid = struct.pack("<I", 4490)
    out = []
    for wkb in shapely.to_wkb(geoms, byte_order=1):
        kind = struct.unpack_from("<I", wkb, 1)[0] | 0x20000000
        out.append(wkb[:1] + struct.pack("<I", kind) + srid + wkb[5:])
    return out


def _create_database(url: URL, exist_ok: bool = False) -> None:
    """CREATE DATABASE through the server's maintenance database (for `init` and restores)."""
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if exist_ok and conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                         {"n": url.database}).first():
                return
            name = url.database.replace('"', '""')
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except DBAPIError as e:
        raise DatabaseUnavailableError(msg("storage.postgres_cannot_create", database=url.database, where=_where(url),
                                           reason=_first_line(e))) from None
    finally:
        admin.dispose()


def pg_tool(name: str) -> str:
    """``pg_dump`` or ``pg_restore``: on PATH, else the newest of Debian's /usr/lib/postgresql/N/bin."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=lambda p: int(p.parts[-3]))
    if not candidates:
        raise ConfigurationError(msg("backups.pg_tool_missing", tool=name))
    return str(candidates[-1])


def _run_pg_tool(name: str, *args: str, url: URL) -> None:
    """Run a PostgreSQL client tool against ``url`` (its password by PGPASSWORD, not on the command line)."""
    env = {**os.environ, **({"PGPASSWORD": str(url.password)} if url.password else {})}
    target = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    done = subprocess.run([pg_tool(name), f"--dbname={target}", *args], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
        raise DatabaseUnavailableError(msg("backups.pg_tool_failed", tool=name, where=_where(url), reason=reason))
