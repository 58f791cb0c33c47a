"""PostGIS: the server store for a county or a province."""

from __future__ import annotations

import struct
from typing import Sequence

import numpy as np
import shapely
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError

from ..catalogue import msg
from ..errors import DatabaseUnavailableError, SchemaNotInitialisedError, SpatialExtensionError
from .base import WRITE_OPTION, Store
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


def _create_database(url: URL) -> None:
    """CREATE DATABASE through the server's maintenance database (for `init` only)."""
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            name = url.database.replace('"', '""')
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except DBAPIError as e:
        raise DatabaseUnavailableError(msg("storage.postgres_cannot_create", database=url.database, where=_where(url),
                                           reason=_first_line(e))) from None
    finally:
        admin.dispose()
