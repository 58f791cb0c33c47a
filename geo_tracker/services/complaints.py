"""Complaints (投诉举报): received, responded to, closed — and the rates reports print."""

from __future__ import annotations

from datetime import date, timedelta

from ..core.rounding import format_rate
from ..catalogue import msg
from ..errors import ConflictError, InvalidValueError, NotFoundError
from ..store import Store
from ..store import complaints as repo
from ..store import events as events_repo
from .tracking import actor

CHANNELS = ("phone", "letter", "visit", "online", "12345", "other")
CHANNEL_LABELS = {"phone": "来电", "letter": "来信", "visit": "来访", "online": "网络", "12345": "12345热线",
                  "other": "其他"}
#: Days to respond and to complete, from receipt (configurable per call).
RESPOND_DAYS = 3
COMPLETE_DAYS = 15


def add_complaint(store: Store, received: date, channel: str, category: str, content: str, *,
                  location: tuple[float, float] | None = None, village: str | None = None,
                  respond_days: int = RESPOND_DAYS, complete_days: int = COMPLETE_DAYS,
                  user: str | None = None) -> dict:
    if channel not in CHANNELS:
        raise InvalidValueError(msg("complaints.bad_channel", channel=channel, choices=", ".join(CHANNELS)),
                                field="channel")
    if not category.strip() or not content.strip():
        raise InvalidValueError(msg("complaints.need_text"))
    if respond_days < 0 or complete_days < respond_days:
        raise InvalidValueError(msg("complaints.bad_deadlines"))
    with store.transaction() as conn:
        if village and not repo.unit_exists(conn, village):
            raise InvalidValueError(msg("complaints.no_village", village=village), field="village")
        cid = repo.insert_complaint(
            conn, received_on=received, channel=channel, category=category, content=content,
            lon=location[0] if location else None, lat=location[1] if location else None, village_code=village,
            respond_by=received + timedelta(days=respond_days), complete_by=received + timedelta(days=complete_days),
            actor=actor(user),
        )
    return {"id": cid, "received_on": received, "respond_by": received + timedelta(days=respond_days)}


def _get(conn, cid: int) -> dict:
    row = repo.complaint_row(conn, cid)
    if row is None:
        raise NotFoundError(msg("complaints.not_found", id=cid))
    return row


def respond(store: Store, cid: int, on: date, *, user: str | None = None) -> dict:
    with store.transaction() as conn:
        row = _get(conn, cid)
        if row["responded_on"]:
            raise ConflictError(msg("complaints.already_responded", id=cid, on=row["responded_on"]))
        if on < row["received_on"]:
            raise InvalidValueError(msg("complaints.before_received", on=on, id=cid, received=row["received_on"]))
        repo.update_complaint(conn, cid, responded_on=on)
        events_repo.insert_event(conn, kind="complaint_responded", occurred_on=on, actor=actor(user),
                                 payload={"complaint": cid})
    return {"id": cid, "responded_on": on, "in_time": on <= row["respond_by"]}


def close(store: Store, cid: int, on: date, result: str, *, patch: str | None = None, case_no: str | None = None,
          user: str | None = None) -> dict:
    """Close (办结) a complaint, linking the patch or case it led to."""
    if not result.strip():
        raise InvalidValueError(msg("complaints.need_result"), field="result")
    with store.transaction() as conn:
        row = _get(conn, cid)
        if row["closed_on"]:
            raise ConflictError(msg("complaints.already_closed", id=cid, on=row["closed_on"]))
        if on < row["received_on"]:
            raise InvalidValueError(msg("complaints.before_received", on=on, id=cid, received=row["received_on"]))
        values = {"closed_on": on, "result": result, "responded_on": row["responded_on"] or on}
        if patch:
            values["patch_id"] = events_repo.find_patch(conn, store, patch)["lineage_id"]
        if case_no:
            case_id = repo.case_id(conn, case_no)
            if case_id is None:
                raise NotFoundError(msg("cases.unknown", case_no=case_no))
            values["case_id"] = case_id
        repo.update_complaint(conn, cid, **values)
        events_repo.insert_event(conn, kind="complaint_closed", occurred_on=on, actor=actor(user),
                                 payload={"complaint": cid, "result": result})
    return {"id": cid, "closed_on": on}


def complaint_figures(store: Store, as_of: date, year: int | None = None) -> dict:
    """Received, responded and closed by ``as_of``; 回应率 and 办结率 with the rate rule of reports."""
    with store.engine.connect() as conn:
        figures = repo.figures(conn, as_of, year)
    figures["response_rate"] = format_rate(figures["responded"], figures["received"])
    figures["completion_rate"] = format_rate(figures["closed"], figures["received"])
    return figures


def list_complaints(store: Store) -> list[dict]:
    with store.engine.connect() as conn:
        return repo.all_complaints(conn)
