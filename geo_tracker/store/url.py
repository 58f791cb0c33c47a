"""Database URLs: the one ``--db`` value that selects SpatiaLite or PostGIS."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from ..config import DB_ENV_VAR as ENV_VAR
from ..config import DEFAULT_DB_FILE
from ..catalogue import msg
from ..errors import DatabaseURLError

_SQLITE_SCHEMES = {"sqlite", "sqlite+pysqlite", "spatialite"}
_POSTGRES_SCHEMES = {"postgresql", "postgres", "postgresql+psycopg", "postgresql+psycopg2", "postgis"}


def resolve_url(value: str | None = None) -> str:
    """The URL to use: the explicit value, else $GEO_TRACKER_DB, else ./geo_tracker.sqlite."""
    return value or os.environ.get(ENV_VAR) or f"sqlite:///{DEFAULT_DB_FILE}"


def parse_url(value: str) -> tuple[str, URL]:
    """Return ``(backend, sqlalchemy_url)`` for a user-supplied database URL or file path.

    A bare path (``office.sqlite``) means a SpatiaLite file. ``postgresql://`` is
    driven by psycopg 3 unless the URL names ``+psycopg2`` explicitly.
    """
    text = value.strip()
    if not text:
        raise DatabaseURLError(msg("storage.url_empty"))
    if "://" not in text:
        return "spatialite", URL.create("sqlite", database=str(Path(text)))
    try:
        url = make_url(text)
    except ArgumentError:
        raise DatabaseURLError(msg("storage.url_unparsable", url=mask(text))) from None
    scheme = url.drivername
    if scheme in _SQLITE_SCHEMES:
        if not url.database or url.database == ":memory:":
            raise DatabaseURLError(msg("storage.url_no_file", url=text))
        return "spatialite", url.set(drivername="sqlite")
    if scheme in _POSTGRES_SCHEMES:
        if not url.database:
            raise DatabaseURLError(msg("storage.url_no_database", url=mask(text)))
        driver = "postgresql+psycopg2" if scheme == "postgresql+psycopg2" else "postgresql+psycopg"
        return "postgis", url.set(drivername=driver)
    raise DatabaseURLError(msg("storage.url_unsupported", scheme=scheme, url=mask(text)))


def mask(value: str | URL) -> str:
    """The URL with its password replaced by ***, for messages and `info`."""
    if isinstance(value, URL):
        return value.render_as_string(hide_password=True)
    try:
        return make_url(value).render_as_string(hide_password=True)
    except ArgumentError:
        return value


def remove_database_file(value: str) -> None:
    """Delete the SpatiaLite file a URL names, with its journals (a PostgreSQL URL: nothing)."""
    backend, url = parse_url(value)
    if backend != "spatialite":
        return
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{url.database}{suffix}").unlink(missing_ok=True)
