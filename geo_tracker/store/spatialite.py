"""SpatiaLite: the embedded, one-file store for a single office."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
import sqlite3 as _stdlib_sqlite3
import struct
from pathlib import Path
from types import ModuleType
from typing import Sequence

# pyproj, pyogrio and rasterio bundle their own PROJ/GDAL (and libtiff). SQLite loads
# Debian's mod_spatialite RTLD_GLOBAL, with the system PROJ and libtiff behind it: a bundled
# GDAL loaded after that binds to them and crashes the interpreter (rasterio.open of a GeoTIFF
# did). Importing them here, before any extension is loaded, fixes the order for every caller.
import pyogrio  # noqa: F401
import pyproj  # noqa: F401
import rasterio  # noqa: F401
import numpy as np
import shapely
from sqlalchemy import Connection, create_engine, event, text
from sqlalchemy.engine import URL

from ..catalogue import msg
from ..errors import DatabaseURLError, SchemaNotInitialisedError, SpatialExtensionError
from .base import GEOMETRY_KINDS, WRITE_OPTION, Store

SPATIALITE_LIBRARY = os.environ.get("SPATIALITE_LIBRARY_PATH", "mod_spatialite")
DEBIAN_PACKAGE = "libsqlite3-mod-spatialite"
BUSY_TIMEOUT_MS = 30_000
#: From this many rows on, bulk inserts fill the spatial index in one statement.
BULK_INDEX_ROWS = 2_000


def sqlite_module(stdlib: ModuleType = _stdlib_sqlite3) -> ModuleType:
    """The DB-API module to use: the stdlib one if it can load extensions, else pysqlite3.

    Many Python builds (pyenv's default among them) compile ``sqlite3`` without
    ``enable_load_extension``; ``pysqlite3-binary`` ships a build that has it.
    """
    if hasattr(stdlib.Connection, "enable_load_extension"):
        return stdlib
    try:
        import pysqlite3.dbapi2 as pysqlite3
    except ImportError:
        raise SpatialExtensionError(msg("storage.sqlite_no_extensions", package=DEBIAN_PACKAGE)) from None
    return pysqlite3


def load_spatialite(dbapi_conn) -> None:
    """Load mod_spatialite into a raw DB-API connection, with a fix-it message on failure."""
    try:
        dbapi_conn.enable_load_extension(True)
        dbapi_conn.load_extension(SPATIALITE_LIBRARY)
        dbapi_conn.enable_load_extension(False)
    except Exception as e:
        raise SpatialExtensionError(msg("storage.spatialite_unloadable", library=SPATIALITE_LIBRARY, reason=str(e),
                                        package=DEBIAN_PACKAGE)) from None


def spatialite_blobs(geoms: Sequence, srid: int = 4490) -> list[bytes]:
    """MultiPolygons as SpatiaLite BLOB geometries, built from WKB without a SQL call per row.

    The BLOB is a header (start 0x00, little-endian 0x01, SRID, MBR, 0x7C), the WKB
    body after its byte-order byte with each polygon's byte-order byte replaced by
    the entity marker 0x69, and an end byte 0xFE. Parsing WKB in SQLite
    (``GeomFromWKB``) would cost more than the rest of the insert.
    """
    geoms = np.asarray(geoms, dtype=object)
    single = shapely.get_type_id(geoms) == 3
    if single.any():
        geoms = geoms.copy()
        geoms[single] = shapely.multipolygons(geoms[single][:, np.newaxis])
    wkbs = shapely.to_wkb(geoms, byte_order=1)
    parts_per_geom = shapely.get_num_geometries(geoms)
    owner = np.repeat(np.arange(len(geoms)), parts_per_geom)
    # Offset of each polygon's byte-order byte within its own WKB, after the 9-byte multi
    # header: 0 for the first polygon; later ones (rare) need their predecessors' sizes.
    within = np.zeros(len(owner), dtype=np.int64)
    multi = np.flatnonzero(parts_per_geom > 1)
    if len(multi):
        first = np.r_[0, np.cumsum(parts_per_geom)[:-1]]
        for g in multi:
            sizes = [9 + sum(4 + 16 * len(r.coords) for r in (p.exterior, *p.interiors))
                     for p in geoms[g].geoms]
            within[first[g]:first[g] + parts_per_geom[g]] = np.r_[0, np.cumsum(sizes)[:-1]]
    lengths = np.fromiter((len(w) for w in wkbs), dtype=np.int64, count=len(wkbs))
    starts = np.r_[0, np.cumsum(lengths)[:-1]]
    buffer = np.frombuffer(b"".join(wkbs), dtype=np.uint8).copy()
    buffer[starts[owner] + 9 + within] = 0x69
    body = buffer.tobytes()
    bounds = shapely.bounds(geoms)
    head = struct.Struct("<BBi4dB")
    return [
        head.pack(0, 1, srid, *b, 0x7C) + body[start + 1:start + length] + b"\xfe"
        for b, start, length in zip(bounds.tolist(), starts.tolist(), lengths.tolist())
    ]


#: Names of the tables SpatiaLite and SQLite make for themselves (lower case).
SPATIALITE_PREFIXES = ("idx_", "sqlite_", "spatial", "views_", "virts_", "sql_statements", "data_licenses",
                       "elementarygeometries")

#: One write lock per database file, shared by every store of this process.
_WRITE_LOCKS: dict[str, threading.Lock] = {}


class SpatiaLiteStore(Store):
    backend = "spatialite"
    like_ignores_case = True

    @classmethod
    def open(cls, url: URL, *, create: bool = False) -> "SpatiaLiteStore":
        path = Path(url.database)
        if not create and not path.exists():
            raise SchemaNotInitialisedError(msg("storage.sqlite_file_missing", path=path))
        if create and not path.parent.is_dir():
            raise DatabaseURLError(msg("storage.sqlite_folder_missing", path=path, folder=path.parent))
        module = sqlite_module()
        engine = create_engine(url, module=module,
                               connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn, _record):
            # Autocommit at the driver level; SQLAlchemy's "begin" event issues BEGIN so
            # DDL and DML share one real transaction (pysqlite's implicit one does not).
            dbapi_conn.isolation_level = None
            load_spatialite(dbapi_conn)
            cur = dbapi_conn.cursor()
            for pragma in (
                "journal_mode=WAL",
                "foreign_keys=ON",
                f"busy_timeout={BUSY_TIMEOUT_MS}",
                "synchronous=NORMAL",
                "cache_size=-65536",
            ):
                cur.execute(f"PRAGMA {pragma}")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn):
            # Writers take the write lock up front (no upgrade that could fail half-way);
            # readers start a deferred transaction, so under WAL they never wait for a writer.
            writes = conn.get_execution_options().get(WRITE_OPTION, False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")

        store = cls(engine, url)
        with engine.connect():
            pass
        return store

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """Writers of this process queue on a lock before SQLite's: SQLite's busy wait polls
        with growing sleeps, and under many readers a waiting writer could starve for seconds."""
        with _WRITE_LOCKS.setdefault(str(self.url.database), threading.Lock()):
            with super().transaction() as conn:
                yield conn

    snapshot_member = "database/ledger.sqlite"

    @contextmanager
    def snapshot(self, path: Path) -> Iterator["SpatiaLiteStore"]:
        """SQLite's online backup API in one step: one read transaction, so writers under WAL go
        on and the copy is whole (a page copy: three times as fast as ``VACUUM INTO`` here)."""
        raw = self.engine.raw_connection()
        copy = sqlite_module().connect(str(path))
        try:
            raw.driver_connection.backup(copy)
        finally:
            copy.close()
            raw.close()
        copy = type(self).open(URL.create("sqlite", database=str(path)))
        try:
            yield copy
        finally:
            copy.close()

    @classmethod
    def load_snapshot(cls, url: URL, path: Path) -> None:
        target = Path(url.database)
        partial = target.with_name(target.name + ".restoring")
        shutil.copyfile(path, partial)
        partial.replace(target)

    @classmethod
    def wipe(cls, url: URL) -> None:
        """The file holds one ledger and nothing else (a restore refuses a file with other tables)."""
        cls.remove(url)

    @classmethod
    def remove(cls, url: URL) -> None:
        database = Path(url.database)
        for suffix in ("", "-wal", "-shm"):
            database.with_name(database.name + suffix).unlink(missing_ok=True)

    def _spatial_table(self, name: str) -> bool:
        """SpatiaLite's metadata, the R*Trees of spatial indexes and SQLite's own tables."""
        lowered = name.lower()
        return lowered.startswith(SPATIALITE_PREFIXES) or "geometry" in lowered or lowered in ("knn", "knn2")

    def _default_evidence_dir(self) -> Path:
        database = Path(self.url.database)
        return database.with_name(database.stem + "_evidence")

    def _default_imagery_dir(self) -> Path:
        database = Path(self.url.database)
        return database.with_name(database.stem + "_imagery")

    def _folders_written(self) -> list[Path]:
        return [Path(self.url.database).resolve().parent, self.evidence_dir]

    def prepare(self, conn: Connection) -> None:
        has_metadata = conn.execute(
            text("SELECT count(*) FROM sqlite_master WHERE name = 'geometry_columns'")
        ).scalar_one()
        if not has_metadata:
            conn.execute(text("SELECT InitSpatialMetadata()"))

    def geometry_from_wkb(self, param: str, kind: str = "MultiPolygon") -> str:
        return f"CastTo{kind}(GeomFromWKB(:{param}, 4490))"

    def bbox_condition(self, table: str, alias: str | None = None) -> str:
        return (f"{alias or table}.ROWID IN (SELECT ROWID FROM SpatialIndex WHERE f_table_name = '{table}' "
                "AND f_geometry_column = 'geom' AND search_frame = BuildMbr(:xmin, :ymin, :xmax, :ymax, 4490))")

    def intersects_box(self, column: str) -> str:
        return f"Intersects({column}, BuildMbr(:xmin, :ymin, :xmax, :ymax, 4490))"

    def json_number(self, column: str, key: str) -> str:
        return f"CAST(json_extract({column}, '$.{key}') AS REAL)"

    def json_text(self, column: str, key: str) -> str:
        return f"json_extract({column}, '$.{key}')"

    def day_number(self, column: str) -> str:
        return f"CAST(julianday({column}) AS INTEGER)"

    def geometry_as_wkb(self, column: str) -> str:
        return f"AsBinary({column})"

    def reserve_ids(self, conn: Connection, table: str, count: int) -> list[int]:
        # The write lock is ours from BEGIN IMMEDIATE, so max(id) cannot move under us.
        last = conn.exec_driver_sql(f"SELECT coalesce(max(id), 0) FROM {table}").scalar_one()
        return list(range(last + 1, last + 1 + count))

    def bulk_insert(self, conn: Connection, table: str, columns: dict[str, Sequence]) -> None:
        """Executemany; for large batches the R*Tree is filled in one statement.

        SpatiaLite checks each geometry's type and SRID, keeps its spatial index and
        stamps geometry_columns_time by triggers that run once per row, which costs
        more than the insert itself. For a large insert those three triggers are
        dropped inside this transaction (the BLOBs are MULTIPOLYGON/4490 by
        construction), the index entries for the new rows are added with one
        INSERT ... SELECT, and the triggers are restored from their own SQL: other
        connections never see the difference, and a failure rolls all of it back.
        """
        names = list(columns)
        values = [spatialite_blobs(v) if n == "geom" else v for n, v in columns.items()]
        if not len(values[0]):
            return
        marks = ", ".join("?" for n in names)
        insert = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})"
        triggers = []
        if "geom" in columns and len(values[0]) >= BULK_INDEX_ROWS:
            triggers = conn.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name IN (?, ?, ?)",
                (f"gii_{table}_geom", f"tmi_{table}_geom", f"ggi_{table}_geom"),
            ).all()
        if len(triggers) < 3:
            conn.exec_driver_sql(insert, list(zip(*values)))
            return
        last_id = conn.exec_driver_sql(f"SELECT coalesce(max(rowid), 0) FROM {table}").scalar_one()
        for name, _sql in triggers:
            conn.exec_driver_sql(f'DROP TRIGGER "{name}"')
        conn.exec_driver_sql(insert, list(zip(*values)))
        conn.exec_driver_sql(
            f"INSERT INTO idx_{table}_geom (pkid, xmin, xmax, ymin, ymax) "
            f"SELECT rowid, MbrMinX(geom), MbrMaxX(geom), MbrMinY(geom), MbrMaxY(geom) FROM {table} "
            "WHERE rowid > ? AND geom IS NOT NULL", (last_id,),
        )
        conn.exec_driver_sql(
            "UPDATE geometry_columns_time SET last_insert = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') "
            "WHERE lower(f_table_name) = lower(?) AND lower(f_geometry_column) = 'geom'", (table,),
        )
        for _name, sql in triggers:
            conn.exec_driver_sql(sql)

    def extent_columns(self, column: str) -> str:
        return f"min(MbrMinX({column})), min(MbrMinY({column})), max(MbrMaxX({column})), max(MbrMaxY({column}))"

    def row_lock(self, conn: Connection, alias: str) -> str:
        return ""  # SQLite writers are serial: BEGIN IMMEDIATE already holds the lock

    def timestamp_param(self, moment):
        """Times are stored as ISO text; compared as text they must be written the same way."""
        return moment.strftime("%Y-%m-%d %H:%M:%S.%f")

    def spatial_versions(self, conn: Connection) -> dict[str, str]:
        row = conn.execute(
            text(
                "SELECT sqlite_version(), spatialite_version(), geos_version(), proj_version()"
            )
        ).one()
        return {
            "SQLite": row[0],
            "SpatiaLite": row[1],
            "GEOS (SpatiaLite)": row[2],
            "PROJ (SpatiaLite)": row[3],
            "sqlite3 module": sqlite_module().__name__,
        }

    # --- copying a ledger (geo-tracker move) ------------------------------------------

    def geometry_columns(self, conn: Connection) -> dict[str, dict[str, str]]:
        """From SpatiaLite's ``geometry_columns``, whose type is a code (6 MULTIPOLYGON; +1000 per dimension)."""
        codes = {1: "POINT", 2: "LINESTRING", 3: "POLYGON", 4: "MULTIPOINT", 5: "MULTILINESTRING", 6: "MULTIPOLYGON"}
        found: dict[str, dict[str, str]] = {}
        for table, column, code in conn.execute(text(
                "SELECT f_table_name, f_geometry_column, geometry_type FROM geometry_columns")):
            found.setdefault(table.lower(), {})[column.lower()] = GEOMETRY_KINDS[codes[int(code) % 1000]]
        return found

    @contextmanager
    def bulk_loading(self, conn: Connection, tables: list[str]) -> Iterator[None]:
        """The secondary (not unique) indexes of ``tables`` are dropped, and made again from their own
        SQL once the rows are in: one sort per index instead of a B-tree insert per row. Unique
        indexes and the R*Trees (which ``bulk_insert`` fills in one statement) stay. In the caller's
        transaction, like the rest of the load."""
        marks = ", ".join("?" for _ in tables)
        indexes = conn.exec_driver_sql(
            f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ({marks}) "
            "AND upper(sql) NOT LIKE 'CREATE UNIQUE%' ORDER BY name", tuple(tables)).all()
        for name, _sql in indexes:
            conn.exec_driver_sql(f'DROP INDEX "{name}"')
        yield
        for _name, sql in indexes:
            conn.exec_driver_sql(sql)
