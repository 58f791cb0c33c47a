"""The life of a patch as a fold over its dated events: status, rectified area, as of any date.

    issued ─► legal | no_change ─────────────────────────────► closed
           └► illegal ─► case_filed ─► rectifying ─► rectified ─► closed
                                      legal | no_change | rectified ─► submitted ─► closed
                                                          ▲             │ (returned)
                                                          └─────────────┘

Where the county reviews before 销号 (a review policy for the source), the township submits
(申请销号) instead of closing; a return sends the patch back to the status it was submitted
from, an approval at the last level closes it.

The statuses and the steps between them are written once, in :data:`STATUS_TABLE`
and :data:`STEPS`; the fold, history validation (:func:`validate_history`) and the
statistics SQL (:func:`status_case_sql`) are all read from them.

Events are never changed: a mistaken one is voided by a later event, so any past
date can be reconstructed either with today's knowledge (``as_of`` only) or
exactly as it was known at a moment (``known_at``: events recorded later, and
voids recorded later, are ignored).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import pandas as pd

from ..catalogue import msg
from ..errors import TransitionError


@dataclass(frozen=True)
class Status:
    """One status of a patch; :data:`STATUS_TABLE` lists them in the order a life runs."""

    name: str
    label: str          # the word on forms and reports
    open: bool          # still owes verification or rectification: overdue once past its deadline
    next_step: str      # the catalogue key of what may be done next, for refusals


@dataclass(frozen=True)
class Step:
    """One row of the lifecycle table (生命周期表): ``event`` with ``outcome`` moves ``sources`` to ``to``.

    ``outcome`` tells rows of one event apart (:func:`event_outcome`); ``to`` None
    keeps the status.
    """

    action: str                 # what a user does: verify, link_case, rectify, close
    event: str                  # the event kind it records
    outcome: str | None
    sources: tuple[str, ...]    # the statuses it is allowed from
    to: str | None


#: Every status, earliest first. Steps only move forward in this order, which is what
#: lets SQL take the latest status whose step has happened (:func:`status_case_sql`).
STATUS_TABLE = (
    Status("issued", "下发", True, "lifecycle.next.issued"),
    Status("legal", "合法", False, "lifecycle.next.legal"),
    Status("no_change", "伪变化", False, "lifecycle.next.no_change"),
    Status("illegal", "违法", True, "lifecycle.next.illegal"),
    Status("case_filed", "已立案", True, "lifecycle.next.case_filed"),
    Status("rectifying", "整改中", True, "lifecycle.next.rectifying"),
    Status("rectified", "整改到位", False, "lifecycle.next.rectified"),
    Status("submitted", "待审核", False, "lifecycle.next.submitted"),
    Status("closed", "已销号", False, "lifecycle.next.closed"),
)
#: What a township may submit for 销号 (and where a return sends it back to).
SUBMITTABLE = ("legal", "no_change", "rectified")
#: Where rectification may be recorded: 违法, 已立案, 整改中.
_WORKING = ("illegal", "case_filed", "rectifying")
#: The lifecycle table. Rows of one event and outcome are tried in order (see :func:`next_status`).
STEPS = (
    Step("verify", "verified", "legal", ("issued",), "legal"),
    Step("verify", "verified", "no_change", ("issued",), "no_change"),
    Step("verify", "verified", "illegal", ("issued",), "illegal"),
    Step("link_case", "case_linked", None, ("illegal",), "case_filed"),
    Step("link_case", "case_linked", None, ("case_filed", "rectifying", "rectified"), None),
    Step("rectify", "rectified", "part", _WORKING, "rectifying"),
    Step("rectify", "rectified", "full", _WORKING, "rectified"),
    Step("close", "closed", None, SUBMITTABLE, "closed"),
    Step("submit", "submitted", None, SUBMITTABLE, "submitted"),
    *(Step("review", "review_returned", back, ("submitted",), back) for back in SUBMITTABLE),
    Step("review", "review_approved", "final", ("submitted",), "closed"),
    Step("review", "review_approved", "level", ("submitted",), None),
)

STATUSES = tuple(s.name for s in STATUS_TABLE)
STATUS_LABELS = {s.name: s.label for s in STATUS_TABLE}
#: Status -> catalogue key of what may be done next (worded per interface: a command on the CLI, a page on the web).
NEXT_STEPS = {s.name: s.next_step for s in STATUS_TABLE}
#: Statuses that become overdue (逾期) past their deadline.
OPEN_STATUSES = tuple(s.name for s in STATUS_TABLE if s.open)
VERIFY_RESULTS = tuple(s.outcome for s in STEPS if s.event == "verified")
LIFECYCLE_EVENTS = tuple(dict.fromkeys(s.event for s in STEPS))
#: What each action needs the patch to be.
ALLOWED = {action: {src for s in STEPS if s.action == action for src in s.sources}
           for action in dict.fromkeys(s.action for s in STEPS)}
_ACTION_OF = {s.event: s.action for s in STEPS}
#: (event, outcome, status) -> the status it leads to, for the steps the table allows (first row wins).
_MOVES = {(s.event, s.outcome, src): s.to or src for s in reversed(STEPS) for src in s.sources}
#: (event, outcome) -> where it leads from a status the table does not allow it from.
_FALLBACK = {(s.event, s.outcome): s.to for s in STEPS}

#: Chinese words cadres write for each verification result.
RESULT_WORDS = {
    "legal": "legal", "合法": "legal", "no_change": "no_change", "伪变化": "no_change",
    "不变化": "no_change", "未变化": "no_change", "illegal": "illegal", "违法": "illegal",
}
MEASURES = ("demolition", "restore_farmland", "regreen", "permit", "other")
MEASURE_LABELS = {"demolition": "拆除", "restore_farmland": "复耕", "regreen": "复绿", "permit": "补办手续",
                  "other": "其他"}
#: What each kind of event in a patch's history is called: kind -> (Chinese, English).
EVENT_LABELS = {
    "verified": ("核查", "verified"), "rectified": ("整改", "rectified"), "closed": ("销号", "closed"),
    "case_linked": ("立案关联", "linked to a case"), "withdrawn": ("撤回", "withdrawn"), "void": ("作废", "voided"),
    "finding_recorded": ("巡查发现", "patrol finding"), "deadline_set": ("调整整改期限", "deadline changed"),
    "reissued": ("重新下发", "re-issued"), "batch_imported": ("批次导入", "batch imported"),
    "case_opened": ("立案", "case opened"), "case_decided": ("作出决定", "case decided"),
    "case_executed": ("执行完毕", "decision executed"), "case_closed": ("结案", "case closed"),
    "submitted": ("申请销号", "submitted for review"), "review_returned": ("审核退回", "returned by review"),
    "review_approved": ("审核通过", "approved by review"),
}
#: Rectified area may exceed the patch area by this much (亩) before it is refused: rounding.
AREA_EPSILON_MU = 1e-6


def check_transition(action: str, status: str, label: str) -> None:
    """Refuse ``action`` on a patch in ``status``, saying what may be done instead."""
    if status not in ALLOWED[action]:
        raise TransitionError(msg("lifecycle.refused", **_refusal(action, status, label)))


def _refusal(action: str, status: str, label: str) -> dict:
    """The values of a refused step: the action and status in both languages, and the next step."""
    return {"action": msg(f"lifecycle.action.{action}"), "label": label,
            "status": msg(f"lifecycle.status.{status}") if status in STATUS_LABELS else status,
            "next": msg(NEXT_STEPS.get(status, "lifecycle.next.unknown"))}


def event_outcome(kind: str, payload: dict, rectified_mu: float, area_mu: float) -> str | None:
    """Which rows of :data:`STEPS` an event matches; ``rectified_mu`` counts this event already."""
    if kind == "verified":
        return payload["result"]
    if kind == "rectified":
        return "full" if rectified_mu >= area_mu - AREA_EPSILON_MU else "part"
    if kind == "review_returned":
        return payload["from_status"]
    if kind == "review_approved":
        return payload["outcome"]
    return None


def allows(kind: str, outcome: str | None, status: str) -> bool:
    """Whether the lifecycle table lets this event happen to a patch in ``status``."""
    return (kind, outcome, status) in _MOVES


def next_status(kind: str, outcome: str | None, status: str) -> str:
    """The status after the event, by its first row allowed from ``status``.

    Outside the table (histories :func:`validate_history` refuses, e.g. left by a race)
    the event's last row decides, or the status stays, so the fold never stops.
    """
    moved = _MOVES.get((kind, outcome, status))
    if moved is None:
        moved = _FALLBACK.get((kind, outcome)) or status
    return moved


def status_case_sql(mark: Callable[[str, str | None], str]) -> str:
    """A patch's status as one SQL ``CASE`` over its aggregated events, from :data:`STEPS`.

    Steps only move forward in :data:`STATUS_TABLE`, so on a valid history the status
    is the latest one entered by a step that has happened; the CASE tries them latest
    first. ``mark(event, outcome)`` is the SQL, true once such an event counts.
    """
    whens = [f"WHEN {_entry_sql(s, mark)} THEN {_literal(status)}"
             for status in reversed(STATUSES) for s in STEPS if s.to == status]
    return f"CASE {' '.join(whens)} ELSE {_literal(STATUSES[0])} END"


def _entry_sql(step: Step, mark: Callable[[str, str | None], str]) -> str:
    """SQL true once ``step`` has happened: a step from a single status also needs that status
    entered (a case link makes 已立案 of an illegal patch only); wider steps rely on the order."""
    (source, *more) = step.sources
    if more or source == STATUSES[0]:
        return mark(step.event, step.outcome)
    entries = [_entry_sql(s, mark) for s in STEPS if s.to == source and source not in s.sources]
    return f"{mark(step.event, step.outcome)} AND ({' OR '.join(entries)})"


def sql_list(values) -> str:
    """``'a', 'b'`` for an SQL ``IN (...)``."""
    return ", ".join(_literal(v) for v in values)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@dataclass(frozen=True)
class PatchState:
    status: str
    status_on: date | None
    rectified_mu: float
    rectified_cultivated_mu: float
    verified: str | None
    case_numbers: tuple[str, ...]


STATE_COLUMNS = ["status", "status_on", "rectified_mu", "rectified_cultivated_mu", "verified", "case_numbers"]


def visible_events(events: pd.DataFrame, as_of: date | None = None, known_at: datetime | None = None) -> pd.DataFrame:
    """Events that count at ``as_of`` (effective date) as known at ``known_at`` (record time).

    ``events`` has ``id, patch, kind, occurred_on, recorded_at, payload, voided_by,
    voided_at`` (the void's record time).
    """
    shown = events
    if as_of is not None:
        shown = shown[shown["occurred_on"] <= as_of]
    if known_at is not None:
        shown = shown[shown["recorded_at"] <= known_at]
        voided = shown["voided_by"].notna() & (shown["voided_at"] <= known_at)
    else:
        voided = shown["voided_by"].notna()
    return shown[~voided]


def fold(events: pd.DataFrame, patches: pd.DataFrame, as_of: date | None = None,
         known_at: datetime | None = None) -> pd.DataFrame:
    """The state of each patch from its events; ``patches`` has ``patch, area_mu, issued_on``.

    Returns ``patches`` with :data:`STATE_COLUMNS` added.
    """
    state = patches.copy()
    state["status"] = "issued"
    state["status_on"] = state["issued_on"]
    state["rectified_mu"] = 0.0
    state["rectified_cultivated_mu"] = 0.0
    state["verified"] = None
    state["case_numbers"] = [() for _ in range(len(state))]
    if events.empty or state.empty:
        return state
    shown = visible_events(events[events["kind"].isin(LIFECYCLE_EVENTS)], as_of, known_at)
    shown = shown.sort_values(["occurred_on", "recorded_at", "id"], kind="stable")
    index = {p: i for i, p in enumerate(state["patch"])}
    status = np.array(state["status"], dtype=object)
    status_on = np.array(state["status_on"], dtype=object)
    rectified = np.zeros(len(state))
    rect_cult = np.zeros(len(state))
    verified = np.full(len(state), None, dtype=object)
    cases = [list() for _ in range(len(state))]
    area = np.array(state["area_mu"], dtype=float)
    for patch, kind, day, payload in zip(shown["patch"], shown["kind"], shown["occurred_on"], shown["payload"]):
        i = index.get(patch)
        if i is None:
            continue
        if kind == "verified":
            verified[i] = payload["result"]
        elif kind == "case_linked":
            cases[i].append(payload["case_no"])
        elif kind == "rectified":
            rectified[i] += float(payload.get("area_mu", 0.0))
            rect_cult[i] += float(payload.get("cultivated_mu") or 0.0)
        after = next_status(kind, event_outcome(kind, payload, rectified[i], area[i]), status[i])
        if after != status[i]:
            status[i], status_on[i] = after, day
    state["status"] = status
    state["status_on"] = status_on
    state["rectified_mu"] = np.minimum(rectified, area)
    state["rectified_cultivated_mu"] = rect_cult
    state["verified"] = verified
    state["case_numbers"] = [tuple(dict.fromkeys(c)) for c in cases]
    return state


def validate_history(events: pd.DataFrame, area_mu: float, cultivated_mu: float | None, label: str) -> None:
    """Refuse a history that does not read as a valid life, step by step in date order.

    Actions back-dated before the patch's last event, and voids, are accepted as long
    as the whole history, replayed in date order, takes only steps of :data:`STEPS`
    and never rectifies more than the patch (or its 耕地).
    """
    shown = visible_events(events[events["kind"].isin(LIFECYCLE_EVENTS)])
    shown = shown.sort_values(["occurred_on", "recorded_at", "id"], kind="stable")
    status, rectified, rect_cult, submitted_from = "issued", 0.0, 0.0, None
    for kind, day, payload in zip(shown["kind"], shown["occurred_on"], shown["payload"]):
        if kind == "rectified":
            rectified += float(payload.get("area_mu", 0.0))
            rect_cult += float(payload.get("cultivated_mu") or 0.0)
        outcome = event_outcome(kind, payload, rectified, area_mu)
        if not allows(kind, outcome, status) or (kind == "review_returned" and outcome != submitted_from):
            raise TransitionError(msg("lifecycle.refused_on", day=day, **_refusal(_ACTION_OF[kind], status, label)))
        if kind == "submitted":
            submitted_from = status
        if kind == "rectified":
            _check_rectified(label, day, float(payload.get("area_mu", 0.0)), rectified, rect_cult, area_mu,
                             cultivated_mu)
        status = next_status(kind, outcome, status)


def _check_rectified(label: str, day, this_mu: float, rectified: float, rect_cult: float, area_mu: float,
                     cultivated_mu: float | None) -> None:
    """Refuse rectified totals (``rectified``, ``rect_cult``, this record included) beyond the patch's."""
    if rectified > area_mu + AREA_EPSILON_MU:
        raise TransitionError(msg("lifecycle.over_rectified", label=label, day=day, rectified=rectified,
                                  area=area_mu, remained=max(area_mu - rectified + this_mu, 0)))
    if cultivated_mu is not None and not np.isnan(cultivated_mu) and rect_cult > cultivated_mu + AREA_EPSILON_MU:
        raise TransitionError(msg("lifecycle.over_rectified_cultivated", label=label, day=day, rectified=rect_cult,
                                  cultivated=cultivated_mu))


def month_ends(start: date, end: date) -> list[date]:
    """The last day of each month from ``start``'s to ``end``'s, the last one clipped to ``end``."""
    out, year, month = [], start.year, start.month
    while True:
        last = date.fromordinal(date(year + month // 12, month % 12 + 1, 1).toordinal() - 1)
        out.append(min(last, end))
        if last >= end:
            return out
        year, month = year + month // 12, month % 12 + 1


def is_overdue(status: str, deadline: date | None, as_of: date) -> bool:
    """Past its deadline in a status that still owes work (:data:`OPEN_STATUSES`)."""
    return deadline is not None and deadline < as_of and status in OPEN_STATUSES
