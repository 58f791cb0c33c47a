"""Outages are not bugs: what a database or disk failure means for the person who met it.

The one place that knows how SQLite, PostgreSQL and the operating system say "I am
not there" or "I am full"; the CLI and the service turn any exception through
:func:`translate` before deciding it is a bug.
"""

from __future__ import annotations

import errno

from sqlalchemy import exc as sa_exc

from ..catalogue import msg
from ..errors import DatabaseUnavailableError, GeoTrackerError, StorageFullError

#: What the database driver raises, for interfaces that must catch it without knowing the driver:
#: any database error, and a value the database refused to store.
DatabaseError = sa_exc.DBAPIError
RefusedValueError = sa_exc.DataError

_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
_FULL = ("database or disk is full", "disk i/o error", "no space left on device", "could not extend file",
         "disk full")
_READONLY = ("readonly database", "read-only")
_BUSY = ("database is locked", "database table is locked")
#: What drivers say when the database is not there (SQLite: the file; PostgreSQL: the server).
_GONE = ("unable to open database file", "could not connect", "connection refused", "server closed the connection",
         "terminating connection", "connection is closed", "connection timeout", "timeout expired",
         "the database system is starting up", "the database system is shutting down", "no route to host",
         "ssl syscall error", "consuming input failed", "connection to server")


def translate(error: BaseException, where: str = "the database") -> GeoTrackerError | None:
    """The typed error an outage or full disk stands for; None when ``error`` is none of those
    (a missing table or bad SQL stays a bug). The driver's own words go to the log, not here."""
    if isinstance(error, GeoTrackerError):
        return error
    if isinstance(error, OSError):
        return _os_error(error)
    if not isinstance(error, sa_exc.DBAPIError):
        return None
    text = str(error.orig if error.orig is not None else error).lower()
    place = _place(where)
    if any(word in text for word in _FULL):
        return StorageFullError(msg("storage.disk_full", where=place))
    if any(word in text for word in _READONLY):
        return StorageFullError(msg("storage.read_only", where=place))
    if any(word in text for word in _BUSY):
        return DatabaseUnavailableError(msg("storage.busy", where=place))
    if error.connection_invalidated or any(word in text for word in _GONE):
        return DatabaseUnavailableError(msg("storage.gone", where=place))
    return None


def _place(where: str):
    """``where`` as a message: "the database" (with its URL) reads 数据库 in Chinese; anything else stays."""
    if where == "the database":
        return msg("storage.the_database")
    if where.startswith("the database "):
        return msg("storage.the_database_at", url=where[len("the database "):])
    return where


def _os_error(error: OSError) -> GeoTrackerError | None:
    name = f" {error.filename}" if error.filename else ""
    if error.errno in _FULL_ERRNOS:
        return StorageFullError(msg("storage.file_disk_full", name=name))
    if error.errno == errno.EROFS:
        return StorageFullError(msg("storage.file_read_only", name=name))
    return None
