"""Persistence: the only package that knows SQL, SpatiaLite and PostGIS.

>>> from geo_tracker.store import open_store
>>> with open_store("sqlite:///office.sqlite") as store:   # doctest: +SKIP
...     store.check_schema()
"""

from __future__ import annotations

from sqlalchemy.engine import URL

from .base import STORAGE_SRID, Store
from .url import mask, parse_url, resolve_url

__all__ = ["STORAGE_SRID", "Store", "open_store", "store_class", "parse_url", "resolve_url", "mask"]


def store_class(url: str | None = None) -> tuple[type[Store], "URL"]:
    """The Store subclass for ``url`` and the parsed URL, without connecting (for what acts on a
    database before it can be opened: restoring into it, wiping it)."""
    backend, sa_url = parse_url(resolve_url(url))
    if backend == "spatialite":
        from .spatialite import SpatiaLiteStore as cls
    else:
        from .postgis import PostGISStore as cls
    return cls, sa_url


def open_store(url: str | None = None, *, create: bool = False, check_schema: bool = True) -> Store:
    """Open the database at ``url`` (default: $GEO_TRACKER_DB or ./geo_tracker.sqlite).

    ``create`` allows a missing SpatiaLite file or PostgreSQL database to be created
    (only ``geo-tracker init`` does that). ``check_schema`` refuses a database whose
    schema is missing or at another revision, telling the user to run ``init``.
    """
    cls, sa_url = store_class(url)
    store = cls.open(sa_url, create=create)
    if check_schema:
        try:
            store.check_schema()
        except Exception:
            store.close()
            raise
    return store
