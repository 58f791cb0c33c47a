"""PostGIS: the server store for a county or a province."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import shapely
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError

from ..errors import DatabaseUnavailableError, SchemaNotInitialisedError, SpatialExtensionError
from .base import Store
from .url import mask

DEBIAN_PACKAGE = "postgresql-15-postgis-3"
_START_HINT = "is PostgreSQL running? (Debian: pg_ctlcluster --skip-systemctl-redirect 15 main start)"


def _where(url: URL) -> str:
    return f"host {url.host or 'localhost'}:{url.port or 5432}, database {url.database!r}"


def _first_line(error: Exception) -> str:
    orig = getattr(error, "orig", None) or error
    return str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__


class PostGISStore(Store):
    backend = "postgis"

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
                raise SchemaNotInitialisedError(
                    f"PostgreSQL database {url.database!r} does not exist on "
                    f"{url.host or 'localhost'}: run `geo-tracker --db {mask(url)} "
                    "init` to create it"
                ) from None
            raise DatabaseUnavailableError(
                f"cannot connect to PostgreSQL ({_where(url)}): {message}; {_START_HINT}"
            ) from None
        return cls(engine, url)

    def prepare(self, conn: Connection) -> None:
        try:
            with conn.begin_nested():
                conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
        except (ProgrammingError, OperationalError, DBAPIError) as e:
            raise SpatialExtensionError(
                f"cannot enable PostGIS in {_where(self.url)}: {_first_line(e)}. Install "
                f"PostGIS on the database server (Debian: apt-get install {DEBIAN_PACKAGE}) "
                "and make sure this user may CREATE EXTENSION"
            ) from None

    def geometry_from_wkb(self, param: str) -> str:
        return f"ST_Multi(ST_GeomFromWKB(:{param}, 4490))"

    def geometry_as_wkb(self, column: str) -> str:
        return f"ST_AsBinary({column})"

    def bulk_insert(self, conn: Connection, table: str, columns: dict[str, Sequence]) -> None:
        names = list(columns)
        values = [_ewkb_hex(v) if n == "geom" else v for n, v in columns.items()]
        if not len(values[0]):
            return
        raw = conn.connection.dbapi_connection
        with raw.cursor() as cur:
            with cur.copy(f"COPY {table} ({', '.join(names)}) FROM STDIN") as copy:
                for row in zip(*values):
                    copy.write_row(row)

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


def _ewkb_hex(geoms: Sequence) -> np.ndarray:
    """Hex EWKB with SRID 4490: what PostGIS parses as geometry input text in COPY."""
    geoms = np.asarray(geoms, dtype=object)
    single = shapely.get_type_id(geoms) == 3
    if single.any():
        geoms = geoms.copy()
        geoms[single] = shapely.multipolygons(geoms[single][:, np.newaxis])
    return shapely.to_wkb(shapely.set_srid(geoms, 4490), hex=True, include_srid=True)


def _create_database(url: URL) -> None:
    """CREATE DATABASE through the server's maintenance database (for `init` only)."""
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            name = url.database.replace('"', '""')
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except DBAPIError as e:
        raise DatabaseUnavailableError(
            f"database {url.database!r} does not exist and cannot be created ({_where(url)}): "
            f"{_first_line(e)}; create it yourself or use a user with CREATEDB"
        ) from None
    finally:
        admin.dispose()
