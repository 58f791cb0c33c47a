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
    status = state["status"].to_numpy(dtype=object)
    status_on = state["status_on"].to_numpy(dtype=object)
    rectified = state["rectified_mu"].to_numpy(dtype=float)
    rect_cult = state["rectified_cultivated_mu"].to_numpy(dtype=float)
    verified = state["verified"].to_numpy(dtype=object)
    cases = [list() for _ in range(len(state))]
    area = state["area_mu"].to_numpy(dtype=float)
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


def is_overdue(status: str, deadline: date | None, as_of: date) -> bool:
    """Past its deadline and neither settled (legal, no change) nor rectified or closed."""
    return deadline is not None and deadline < as_of and status in ("issued", "illegal", "case_filed", "rectifying")
