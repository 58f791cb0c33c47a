"""Events (the audit trail) and the current-state projection of patches."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pandas as pd
import shapely
import sqlalchemy as sa
from sqlalchemy import Connection

from ..core.sources import split_ref
from ..catalogue import msg
from ..errors import InvalidValueError, NotFoundError, StaleRowError
from . import partitions
from .admin_units import as_date
from .base import Store
from .batches import decode_json, now_utc
from .schema import events, patches


_PATCH_SELECT = (
    "SELECT p.id, p.lineage_id, p.patch_code, p.batch_id, b.name AS batch, b.source, p.area_mu, "
    "p.cultivated_mu, p.status, p.status_on, p.row_version, p.withdrawn, "
    "coalesce(p.deadline, b.deadline) AS deadline, coalesce(i.issued_on, b.issued_on) AS issued_on, "
    "{wkb} AS wkb FROM patches p JOIN batches b ON b.id = p.batch_id "
    "LEFT JOIN batch_imports i ON i.id = p.import_id WHERE p.is_current AND {where}"
)


def _lock(conn: Connection, store: Store) -> str:
    """In a write transaction on PostGIS, lock the patch row: concurrent actions on one patch
    then wait for each other instead of failing as stale (SpatiaLite writers are serial anyway)."""
    return store.row_lock(conn, "p")


def _patch(row) -> dict:
    row = dict(row)
    row["geom"] = shapely.from_wkb(bytes(row.pop("wkb")))
    for key in ("issued_on", "deadline", "status_on"):
        row[key] = as_date(row[key])
    row["label"] = f"{row['batch']}/{row['patch_code']}"
    return row


def find_patch(conn: Connection, store: Store, ref: str) -> dict:
    """The current version of the patch named ``CODE`` or ``BATCH/CODE``."""
    batch, code = split_ref(ref)
    where = "p.patch_code = :code"
    params = {"code": code}
    if batch:
        where += " AND b.name = :batch"
        params["batch"] = batch
    rows = conn.execute(sa.text(_PATCH_SELECT.format(wkb=store.geometry_as_wkb("p.geom"), where=where)
                                + _lock(conn, store)), params).mappings().all()
    if not rows:
        raise NotFoundError(msg("storage.patch_not_found", ref=ref))
    if len(rows) > 1:
        raise InvalidValueError(msg("storage.patch_code_ambiguous", code=code,
                                    batches=", ".join(r["batch"] for r in rows)))
    return _patch(rows[0])


def find_patch_by_lineage(conn: Connection, store: Store, lineage_id: int) -> dict:
    row = conn.execute(sa.text(_PATCH_SELECT.format(wkb=store.geometry_as_wkb("p.geom"), where="p.lineage_id = :l")
                               + _lock(conn, store)), {"l": lineage_id}).mappings().first()
    if row is None:
        raise NotFoundError(msg("storage.lineage_not_found", lineage=lineage_id))
    return _patch(row)


def insert_event(conn: Connection, *, kind: str, occurred_on: date, actor: str, payload: dict,
                 patch_id: int | None = None, batch_id: int | None = None, case_id: int | None = None) -> int:
    partitions.ensure(conn, "events", [occurred_on.year])
    return conn.execute(sa.insert(events).values(
        kind=kind, occurred_on=occurred_on, recorded_at=now_utc(), actor=actor, payload=payload,
        patch_id=patch_id, batch_id=batch_id, case_id=case_id,
    ).returning(events.c.id)).scalar_one()


def recent_of_kind(conn: Connection, kind: str, *, limit: int = 50) -> list[dict]:
    """The newest events of one kind (not bound to a patch), newest first."""
    rows = conn.execute(sa.select(events.c.id, events.c.recorded_at, events.c.actor, events.c.payload)
                        .where(events.c.kind == kind).order_by(events.c.id.desc()).limit(limit)).mappings()
    return [{**r, "payload": decode_json(r["payload"]) or {}} for r in rows]


def lineage_events(conn: Connection, lineage_ids: list[int] | None = None) -> pd.DataFrame:
    """Events of the given patches (all when None), with the record time of any void."""
    where = ""
    if lineage_ids is not None:
        if not lineage_ids:
            lineage_ids = [-1]
        where = "WHERE e.patch_id IN (" + ", ".join(str(int(i)) for i in lineage_ids) + ")"
    rows = conn.execute(sa.text(
        "SELECT e.id, e.patch_id AS patch, e.case_id, e.kind, e.occurred_on, e.recorded_at, e.actor, e.payload, "
        f"e.voided_by, v.recorded_at AS voided_at FROM events e LEFT JOIN events v ON v.id = e.voided_by {where} "
        "ORDER BY e.occurred_on, e.recorded_at, e.id")).all()
    frame = pd.DataFrame.from_records([tuple(r) for r in rows], columns=["id", "patch", "case_id", "kind", "occurred_on",
                                                                        "recorded_at", "actor", "payload", "voided_by", "voided_at"])
    frame["occurred_on"] = [as_date(d) for d in frame["occurred_on"]]
    frame["recorded_at"] = [as_datetime(t) for t in frame["recorded_at"]]
    frame["voided_at"] = [as_datetime(t) for t in frame["voided_at"]]
    frame["payload"] = [decode_json(p) or {} for p in frame["payload"]]
    return frame


def as_datetime(value):
    """A UTC-aware datetime from either backend (SQLite returns naive UTC text)."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def get_event(conn: Connection, event_id: int):
    return conn.execute(sa.select(events).where(events.c.id == event_id)).mappings().first()


def mark_voided(conn: Connection, event_id: int, void_id: int) -> None:
    conn.execute(sa.update(events).where(events.c.id == event_id).values(voided_by=void_id))


def unlink_case(conn: Connection, case_id: int, patch_id: int) -> None:
    conn.execute(sa.text("DELETE FROM case_patches WHERE case_id = :c AND patch_id = :p"), {"c": case_id, "p": patch_id})


def update_state(conn: Connection, patch: dict, state: dict, expected_version: int | None = None) -> int:
    """Write the patch's current state (:data:`~geo_tracker.core.lifecycle.STATE_COLUMNS`, as folded
    from its events); refuse if someone changed the row meanwhile."""
    expected = patch["row_version"] if expected_version is None else expected_version
    result = conn.execute(
        sa.update(patches)
        .where(patches.c.id == patch["id"], patches.c.row_version == expected)
        .values(**stored_state(state), row_version=patches.c.row_version + 1)
    )
    if result.rowcount != 1:
        raise StaleRowError(msg("storage.patch_stale", label=patch["label"], version=expected))
    return expected + 1


def stored_state(state: dict) -> dict:
    """The state columns of a patch row from a folded state."""
    return {"status": state["status"], "status_on": state["status_on"],
            "rectified_mu": float(state["rectified_mu"]),
            "rectified_cultivated_mu": float(state["rectified_cultivated_mu"]),
            "verified": state["verified"], "case_numbers": list(state["case_numbers"])}


def set_deadline(conn: Connection, patch: dict, deadline: date) -> None:
    result = conn.execute(sa.update(patches).where(patches.c.id == patch["id"],
                                                   patches.c.row_version == patch["row_version"])
                          .values(deadline=deadline, row_version=patches.c.row_version + 1))
    if result.rowcount != 1:
        raise StaleRowError(msg("storage.patch_changed_meanwhile", label=patch["label"]))
