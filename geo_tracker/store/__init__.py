"""Persistence: the only package that knows SQL, SpatiaLite and PostGIS.

>>> from geo_tracker.store import open_store
>>> with open_store("sqlite:///office.sqlite") as store:   # doctest: +SKIP
...     store.check_schema()
"""

from __future__ import annotations

from .base import STORAGE_SRID, Store
from .url import mask, parse_url, resolve_url

__all__ = ["STORAGE_SRID", "Store", "open_store", "parse_url", "resolve_url", "mask"]


def open_store(url: str | None = None, *, create: bool = False, check_schema: bool = True) -> Store:
    """Open the database at ``url`` (default: $GEO_TRACKER_DB or ./geo_tracker.sqlite).

    ``create`` allows a missing SpatiaLite file or PostgreSQL database to be created
    (only ``geo-tracker init`` does that). ``check_schema`` refuses a database whose
    schema is missing or at another revision, telling the user to run ``init``.
    """
    backend, sa_url = parse_url(resolve_url(url))
    if backend == "spatialite":
        from .spatialite import SpatiaLiteStore as cls
    else:
        from .postgis import PostGISStore as cls
    store = cls.open(sa_url, create=create)
    if check_schema:
        try:
            store.check_schema()
        except Exception:
            store.close()
            raise
    return store
