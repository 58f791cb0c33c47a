"""Outages are not bugs: what a database or disk failure means for the person who met it.

The one place that knows how SQLite, PostgreSQL and the operating system say "I am
not there" or "I am full"; the CLI and the service turn any exception through
:func:`translate` before deciding it is a bug.
"""

from __future__ import annotations

import errno

from sqlalchemy import exc as sa_exc

from ..errors import DatabaseUnavailableError, GeoTrackerError, StorageFullError

_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
_SQLITE_FULL = ("database or disk is full", "disk i/o error")
_SQLITE_READONLY = ("readonly database", "read-only")
_PG_FULL = ("no space left on device", "could not extend file", "disk full")


def translate(error: BaseException, where: str = "the database") -> GeoTrackerError | None:
    """The typed error an outage or full disk stands for; None when ``error`` is none of those."""
    if isinstance(error, GeoTrackerError):
        return error
    if isinstance(error, OSError):
        return _os_error(error)
    if not isinstance(error, sa_exc.DBAPIError):
        return None
    text = str(error.orig).lower() if error.orig is not None else str(error).lower()
    if any(word in text for word in _SQLITE_FULL + _PG_FULL):
        return StorageFullError(f"cannot write {where}: its disk is full or failing ({error.orig}). "
                                "Nothing was written: free space on that disk (or move the database), then try again")
    if any(word in text for word in _SQLITE_READONLY):
        return StorageFullError(f"cannot write {where}: it is read-only ({error.orig}). Nothing was written: "
                                "check the file's permissions and that its disk is mounted read-write")
    if isinstance(error, (sa_exc.OperationalError, sa_exc.InterfaceError)) or error.connection_invalidated:
        return DatabaseUnavailableError(
            f"{where} does not answer ({str(error.orig).strip().splitlines()[0] if error.orig else error}). "
            "Nothing was written: start the database server or check the network, then try again")
    return None


def _os_error(error: OSError) -> GeoTrackerError | None:
    name = f" {error.filename}" if error.filename else ""
    if error.errno in _FULL_ERRNOS:
        return StorageFullError(f"cannot write{name}: the disk is full (or the file may not grow). Nothing was "
                                "written: free space on that disk, then try again")
    if error.errno == errno.EROFS:
        return StorageFullError(f"cannot write{name}: the disk is mounted read-only. Nothing was written")
    return None
