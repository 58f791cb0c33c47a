"""The life of a patch as a fold over its dated events: status, rectified area, as of any date.

    issued ─► legal | no_change ─────────────────────────────► closed
           └► illegal ─► case_filed ─► rectifying ─► rectified ─► closed

Events are never changed: a mistaken one is voided by a later event, so any past
date can be reconstructed either with today's knowledge (``as_of`` only) or
exactly as it was known at a moment (``known_at``: events recorded later, and
voids recorded later, are ignored).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import pandas as pd

from ..errors import GeoTrackerError

STATUSES = ("issued", "legal", "no_change", "illegal", "case_filed", "rectifying", "rectified", "closed")
STATUS_LABELS = {
    "issued": "下发", "legal": "合法", "no_change": "伪变化", "illegal": "违法", "case_filed": "已立案",
    "rectifying": "整改中", "rectified": "整改到位", "closed": "已销号",
}
VERIFY_RESULTS = ("legal", "no_change", "illegal")
#: Chinese words cadres write for each verification result.
RESULT_WORDS = {
    "legal": "legal", "合法": "legal", "no_change": "no_change", "伪变化": "no_change",
    "不变化": "no_change", "未变化": "no_change", "illegal": "illegal", "违法": "illegal",
}
MEASURES = ("demolition", "restore_farmland", "regreen", "permit", "other")
MEASURE_LABELS = {"demolition": "拆除", "restore_farmland": "复耕", "regreen": "复绿", "permit": "补办手续",
                  "other": "其他"}
LIFECYCLE_EVENTS = ("verified", "case_linked", "rectified", "closed")
#: Rectified area may exceed the patch area by this much (亩) before it is refused: rounding.
AREA_EPSILON_MU = 1e-6

#: What each action needs the patch to be, and what it makes of it.
ALLOWED = {
    "verify": {"issued"},
    "link_case": {"illegal", "case_filed", "rectifying", "rectified"},
    "rectify": {"illegal", "case_filed", "rectifying"},
    "close": {"legal", "no_change", "rectified"},
}
NEXT_STEPS = {
    "issued": "verify it (patches verify --result legal|no_change|illegal)",
    "legal": "close it (patches close)",
    "no_change": "close it (patches close)",
    "illegal": "file a case (cases open/link) or record rectification (patches rectify)",
    "case_filed": "record rectification (patches rectify)",
    "rectifying": "record the rest of the rectification (patches rectify)",
    "rectified": "close it (patches close)",
    "closed": "nothing: it is closed (void the closing event to reopen it)",
}


class TransitionError(GeoTrackerError):
    """An action the patch's current status does not allow."""

    http_status = 409


def check_transition(action: str, status: str, label: str) -> None:
    """Refuse ``action`` on a patch in ``status``, saying what may be done instead."""
    if status not in ALLOWED[action]:
        raise TransitionError(
            f"cannot {action.replace('_', ' ')} patch {label}: it is {status} "
            f"({STATUS_LABELS.get(status, status)}); next you can {NEXT_STEPS.get(status, 'nothing')}"
        )


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
        before = status[i]
        if kind == "verified":
            verified[i] = payload["result"]
            status[i] = payload["result"]
        elif kind == "case_linked":
            cases[i].append(payload["case_no"])
            if status[i] == "illegal":
                status[i] = "case_filed"
        elif kind == "rectified":
            rectified[i] += float(payload.get("area_mu", 0.0))
            rect_cult[i] += float(payload.get("cultivated_mu") or 0.0)
            status[i] = "rectified" if rectified[i] >= area[i] - AREA_EPSILON_MU else "rectifying"
        elif kind == "closed":
            status[i] = "closed"
        if status[i] != before:
            status_on[i] = day
    state["status"] = status
    state["status_on"] = status_on
    state["rectified_mu"] = np.minimum(rectified, area)
    state["rectified_cultivated_mu"] = rect_cult
    state["verified"] = verified
    state["case_numbers"] = [tuple(dict.fromkeys(c)) for c in cases]
    return state


_ACTION_OF = {"verified": "verify", "case_linked": "link_case", "rectified": "rectify", "closed": "close"}


def validate_history(events: pd.DataFrame, area_mu: float, cultivated_mu: float | None, label: str) -> None:
    """Refuse a history that does not read as a valid life, step by step in date order.

    Back-dated records and voids are allowed as long as every step is still a
    permitted transition and rectified areas never exceed the patch's.
    """
    shown = visible_events(events[events["kind"].isin(LIFECYCLE_EVENTS)])
    shown = shown.sort_values(["occurred_on", "recorded_at", "id"], kind="stable")
    status, rectified, rect_cult = "issued", 0.0, 0.0
    for kind, day, payload in zip(shown["kind"], shown["occurred_on"], shown["payload"]):
        action = _ACTION_OF[kind]
        if status not in ALLOWED[action]:
            raise TransitionError(
                f"cannot {action.replace('_', ' ')} patch {label} on {day}: it is {status} "
                f"({STATUS_LABELS.get(status, status)}) then; next you can {NEXT_STEPS.get(status, 'nothing')}"
            )
        if kind == "verified":
            status = payload["result"]
        elif kind == "case_linked":
            status = "case_filed" if status == "illegal" else status
        elif kind == "rectified":
            rectified += float(payload.get("area_mu", 0.0))
            rect_cult += float(payload.get("cultivated_mu") or 0.0)
            if rectified > area_mu + AREA_EPSILON_MU:
                raise TransitionError(
                    f"rectified area of patch {label} would reach {rectified:.4f} 亩 on {day}, more than its "
                    f"{area_mu:.4f} 亩 ({max(area_mu - rectified + float(payload.get('area_mu', 0.0)), 0):.4f} 亩 remained)"
                )
            if cultivated_mu is not None and not np.isnan(cultivated_mu) and rect_cult > cultivated_mu + AREA_EPSILON_MU:
                raise TransitionError(
                    f"rectified cultivated land of patch {label} would reach {rect_cult:.4f} 亩 on {day}, "
                    f"more than its {cultivated_mu:.4f} 亩 of 耕地"
                )
            status = "rectified" if rectified >= area_mu - AREA_EPSILON_MU else "rectifying"
        elif kind == "closed":
            status = "closed"


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
    """Past its deadline and neither settled (legal, no change) nor rectified or closed."""
    return deadline is not None and deadline < as_of and status in ("issued", "illegal", "case_filed", "rectifying")
