"""SpatiaLite: the embedded, one-file store for a single office."""

from __future__ import annotations

import os
import sqlite3 as _stdlib_sqlite3
from pathlib import Path
from types import ModuleType
from typing import Sequence

# pyproj and pyogrio bundle their own PROJ/GDAL. If Debian's mod_spatialite (linked
# against the system PROJ) is loaded into the process first, importing them later
# crashes the interpreter. Importing them here, before any extension is loaded,
# fixes the order for every caller.
import pyogrio  # noqa: F401
import pyproj  # noqa: F401
import numpy as np
import shapely
from sqlalchemy import Connection, create_engine, event, text
from sqlalchemy.engine import URL

from ..errors import DatabaseURLError, SchemaNotInitialisedError, SpatialExtensionError
from .base import Store

SPATIALITE_LIBRARY = os.environ.get("SPATIALITE_LIBRARY_PATH", "mod_spatialite")
DEBIAN_PACKAGE = "libsqlite3-mod-spatialite"
BUSY_TIMEOUT_MS = 30_000


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
        raise SpatialExtensionError(
            "this Python's sqlite3 cannot load extensions and pysqlite3 is not installed: "
            "run `pip install pysqlite3-binary` (and `apt-get install "
            f"{DEBIAN_PACKAGE}` for SpatiaLite itself)"
        ) from None
    return pysqlite3


def load_spatialite(dbapi_conn) -> None:
    """Load mod_spatialite into a raw DB-API connection, with a fix-it message on failure."""
    try:
        dbapi_conn.enable_load_extension(True)
        dbapi_conn.load_extension(SPATIALITE_LIBRARY)
        dbapi_conn.enable_load_extension(False)
    except Exception as e:
        raise SpatialExtensionError(
            f"cannot load SpatiaLite ({SPATIALITE_LIBRARY}): {e}. Install the Debian package "
            f"{DEBIAN_PACKAGE} (apt-get install {DEBIAN_PACKAGE}) or set "
            "SPATIALITE_LIBRARY_PATH to mod_spatialite's full path"
        ) from None


class SpatiaLiteStore(Store):
    backend = "spatialite"

    @classmethod
    def open(cls, url: URL, *, create: bool = False) -> "SpatiaLiteStore":
        path = Path(url.database)
        if not create and not path.exists():
            raise SchemaNotInitialisedError(
                f"database file {path} does not exist: run `geo-tracker --db {path} init` "
                "to create it"
            )
        if create and not path.parent.is_dir():
            raise DatabaseURLError(
                f"cannot create database {path}: folder {path.parent} does not exist"
            )
        module = sqlite_module()
        engine = create_engine(url, module=module, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})

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
            ):
                cur.execute(f"PRAGMA {pragma}")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn):
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        store = cls(engine, url)
        with engine.connect():
            pass
        return store

    def prepare(self, conn: Connection) -> None:
        has_metadata = conn.execute(
            text("SELECT count(*) FROM sqlite_master WHERE name = 'geometry_columns'")
        ).scalar_one()
        if not has_metadata:
            conn.execute(text("SELECT InitSpatialMetadata()"))

    def geometry_from_wkb(self, param: str) -> str:
        return f"CastToMultiPolygon(GeomFromWKB(:{param}, 4490))"

    def geometry_as_wkb(self, column: str) -> str:
        return f"AsBinary({column})"

    def bulk_insert(self, conn: Connection, table: str, columns: dict[str, Sequence]) -> None:
        names = list(columns)
        values = [
            shapely.to_wkb(np.asarray(v, dtype=object)) if n == "geom" else v
            for n, v in columns.items()
        ]
        if not len(values[0]):
            return
        marks = ", ".join("CastToMultiPolygon(GeomFromWKB(?, 4490))" if n == "geom" else "?" for n in names)
        conn.exec_driver_sql(
            f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})", list(zip(*values))
        )

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

