"""Creating, upgrading and describing a geo_tracker database."""

from __future__ import annotations

import platform
from dataclasses import dataclass

from .. import __version__
from ..store import Store, open_store
from ..store import migrate
from ..store.schema import COUNTED_TABLES


@dataclass(frozen=True)
class InitResult:
    url: str
    backend: str
    from_revision: str | None
    to_revision: str

    @property
    def changed(self) -> bool:
        return self.from_revision != self.to_revision


def init_database(url: str | None = None) -> InitResult:
    """Create the database (file or PostgreSQL database) if needed and upgrade it to head.

    Idempotent: on a database already at head it changes nothing. All migrations
    run in one transaction, so a failure leaves the database as it was.
    """
    with open_store(url, create=True, check_schema=False) as store:
        with store.transaction() as conn:
            before = migrate.current_revision(conn)
            if before != migrate.head_revision():
                store.prepare(conn)
                migrate.upgrade(conn)
        store.check_schema()
        return InitResult(store.display_url, store.backend, before, migrate.head_revision())


def library_versions() -> dict[str, str]:
    """Versions of the Python-side geospatial stack (what computes areas and reads files)."""
    import pyogrio
    import pyproj
    import shapely

    return {
        "Python": platform.python_version(),
        "GEOS (shapely)": shapely.geos_version_string,
        "PROJ (pyproj)": pyproj.proj_version_str,
        "GDAL (pyogrio)": pyogrio.__gdal_version_string__,
    }


def database_info(store: Store) -> dict:
    """What `geo-tracker info` prints: where, which backend, versions, row counts."""
    with store.engine.connect() as conn:
        return {
            "geo_tracker": __version__,
            "database": store.display_url,
            "backend": store.backend,
            "schema_revision": migrate.current_revision(conn),
            "versions": {**store.spatial_versions(conn), **library_versions()},
            "counts": store.table_counts(conn, COUNTED_TABLES),
        }
