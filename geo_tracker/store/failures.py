"""Outages are not bugs: what a database or disk failure means for the person who met it.

The one place that knows how SQLite, PostgreSQL and the operating system say "I am
not there" or "I am full"; the CLI and the service turn any exception through
:func:`translate` before deciding it is a bug.
"""

from __future__ import annotations

import errno

from sqlalchemy import exc as sa_exc

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
    if any(word in text for word in _FULL):
        return StorageFullError(f"cannot write {where}: its disk is full or failing. Nothing was written: "
                                "free space on that disk (or move the database), then try again")
    if any(word in text for word in _READONLY):
        return StorageFullError(f"cannot write {where}: it is read-only. Nothing was written: check the "
                                "file's permissions and that its disk is mounted read-write")
    if any(word in text for word in _BUSY):
        return DatabaseUnavailableError(f"{where} is busy with another write (a long import?). Nothing was "
                                        "written: try again in a minute")
    if error.connection_invalidated or any(word in text for word in _GONE):
        return DatabaseUnavailableError(f"{where} does not answer. Nothing was written: start the database "
                                        "server or check the network, then try again")
    return None


def _os_error(error: OSError) -> GeoTrackerError | None:
    name = f" {error.filename}" if error.filename else ""
    if error.errno in _FULL_ERRNOS:
        return StorageFullError(f"cannot write{name}: the disk is full (or the file may not grow). Nothing was "
                                "written: free space on that disk, then try again")
    if error.errno == errno.EROFS:
        return StorageFullError(f"cannot write{name}: the disk is mounted read-only. Nothing was written")
    return None
