"""What the field app needs of the database: where the ledger stands (a work package's version),
what changed since a version, and the keys of actions already recorded."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import Connection

from .batches import now_utc
from .schema import action_keys, events, patches

_matches = sa.table("patch_matches", sa.column("patch_id"), sa.column("village_code"))


def cursor(conn: Connection) -> tuple[int, int]:
    """(newest event id, newest patch row id): every change to a patch adds one or the other."""
    return (int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(events.c.id), 0))).scalar_one()),
            int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(patches.c.id), 0))).scalar_one()))


def changed_lineages(conn: Connection, after_event: int, after_patch: int) -> set[int]:
    """Lineages with an event after ``after_event`` (a record, a void, a withdrawal) or a row after
    ``after_patch`` (a new patch, a re-issued version)."""
    by_event = sa.select(events.c.patch_id).where(events.c.id > after_event, events.c.patch_id.is_not(None))
    by_row = sa.select(patches.c.lineage_id).where(patches.c.id > after_patch)
    return {int(i) for i in conn.execute(sa.union(by_event, by_row)).scalars()}


def recorded_event(conn: Connection, key: str) -> int | None:
    """The event an action key was recorded as, or None."""
    return conn.execute(sa.select(action_keys.c.event_id).where(action_keys.c.action_key == key)).scalar()


def claim(conn: Connection, key: str, event_id: int, actor: str) -> None:
    """Bind an action key to its event, in the event's transaction (a second claim fails on the key)."""
    conn.execute(sa.insert(action_keys).values(action_key=key, event_id=event_id, actor=actor,
                                               recorded_at=now_utc()))


def row_versions(conn: Connection, lineage_ids: list[int]) -> dict[int, tuple[int, int]]:
    """lineage -> (current row id, row_version)."""
    if not lineage_ids:
        return {}
    rows = conn.execute(sa.select(patches.c.lineage_id, patches.c.id, patches.c.row_version)
                        .where(patches.c.lineage_id.in_(lineage_ids), patches.c.is_current))
    return {int(lin): (int(pid), int(ver)) for lin, pid, ver in rows}


def lineages_in(conn: Connection, lineage_ids: set[int], villages: list[str] | None) -> set[int]:
    """Those of ``lineage_ids`` with a version whose main village is listed (None: all of them)."""
    if villages is None or not lineage_ids:
        return set(lineage_ids)
    query = (sa.select(patches.c.lineage_id).distinct()
             .join(_matches, _matches.c.patch_id == patches.c.id)
             .where(patches.c.lineage_id.in_(sorted(lineage_ids)), _matches.c.village_code.in_(villages)))
    return {int(i) for i in conn.execute(query).scalars()}
