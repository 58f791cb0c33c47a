"""Streaming replicas that answer reads (PostGIS): which one a read goes to, or the primary.

A replica replays the primary's WAL a moment behind it. A read that follows the same
client's change names that change's transaction (``after``, a full transaction id); it goes
to a replica where that transaction already shows as committed (``pg_xact_status``, which a
hot standby answers from what it has replayed), waiting up to ``wait_s`` for one, else to the
primary, so nobody sees their own change vanish. (A WAL position would not do: the primary's
write and insert positions run ahead of the last complete record a replica can replay.) A
replica that does not answer is left out for a few seconds; its reads go to the others, or
the primary.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Sequence

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import DBAPIError

#: How long a replica that answered is taken as live without asking again.
CHECK_S = 1.0
#: How long a replica that did not answer is left out.
DOWN_S = 5.0
#: How often a read waiting for a replica to catch up asks again.
POLL_S = 0.02
#: PostgreSQL's answer for a transaction id the standby has not replayed yet ("in the future").
NOT_YET = "22023"


class _Replica:
    def __init__(self, engine: Engine):
        self.engine = engine
        self.checked_at = float("-inf")
        self.down_until = float("-inf")


class ReplicaSet:
    """The read engines of one primary, taken in turn."""

    def __init__(self, urls: Sequence, wait_s: float = 0.5):
        self._replicas = [_Replica(create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10,
                                                 connect_args={"connect_timeout": 3,
                                                               "application_name": "geo_tracker read"}))
                          for url in urls]
        self.wait_s = wait_s
        self._turn = 0
        self._lock = threading.Lock()

    @property
    def engines(self) -> list[Engine]:
        return [replica.engine for replica in self._replicas]

    def choose(self, *after: str | None) -> Engine | None:
        """A live replica's engine where every transaction in ``after`` has committed (any live one
        when none is given), or None when the primary has to answer: none live, or none caught up
        within ``wait_s``."""
        wanted = sorted({int(xid) for xid in after if xid and str(xid).isdigit()})
        deadline = time.monotonic() + self.wait_s
        while True:
            for replica in self._in_turn():
                if self._caught_up(replica, wanted):
                    return replica.engine
            if not wanted or time.monotonic() >= deadline:
                return None
            time.sleep(POLL_S)

    def _in_turn(self) -> list[_Replica]:
        with self._lock:
            self._turn = (self._turn + 1) % len(self._replicas)
            order = self._replicas[self._turn:] + self._replicas[:self._turn]
        now = time.monotonic()
        return [replica for replica in order if replica.down_until <= now]

    def _caught_up(self, replica: _Replica, wanted: list[int]) -> bool:
        now = time.monotonic()
        if not wanted and now - replica.checked_at < CHECK_S:
            return True
        try:
            with replica.engine.connect() as conn:
                pending = conn.execute(text(
                    "SELECT count(*) FROM unnest(CAST(:xids AS text[])) AS x "
                    "WHERE pg_xact_status(CAST(x AS xid8)) = 'in progress'"),
                    {"xids": [str(xid) for xid in wanted]}).scalar_one()
        except DBAPIError as e:
            if (getattr(e.orig, "sqlstate", None) or getattr(e.orig, "pgcode", None)) == NOT_YET:
                return False
            replica.down_until = now + DOWN_S
            return False
        replica.checked_at = now
        return pending == 0

    def dispose(self) -> None:
        for replica in self._replicas:
            replica.engine.dispose()


_CHANGES: ContextVar[list | None] = ContextVar("geo_tracker_changes", default=None)


@contextmanager
def noting_changes() -> Iterator[list[str]]:
    """Inside, each transaction committed on a watched engine adds its id to the yielded list."""
    changes: list[str] = []
    token = _CHANGES.set(changes)
    try:
        yield changes
    finally:
        _CHANGES.reset(token)


def watch_commits(engine: Engine) -> None:
    """Make ``engine``'s commits note their transaction ids (those that wrote) for :func:`noting_changes`."""
    @event.listens_for(engine, "commit")
    def _note(conn) -> None:
        changes = _CHANGES.get()
        if changes is None:
            return
        cursor = conn.connection.cursor()
        try:
            cursor.execute("SELECT pg_current_xact_id_if_assigned()::text")
            xid = cursor.fetchone()[0]
        finally:
            cursor.close()
        if xid:
            changes.append(xid)
