"""The county's review of a patch submitted for 销号 (审核), as a fold over its events.

A submission (``submitted``) carries the levels its source's policy named then (``["county"]``
or ``["county", "city"]``), so a later change of policy never rewrites a past one. Each
level answers with ``review_approved`` (the last level's approval closes the patch; an earlier
one hands it to the next level) or ``review_returned`` with reasons, which sends the patch
back to the township. *Returned* is a mark, not a status: the patch is back in the status it
was submitted from, with the round and the reasons shown wherever it is shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pandas as pd

from .lifecycle import visible_events

REVIEW_EVENTS = ("submitted", "review_returned", "review_approved")
#: The county's answers: only a reviewer records them, and only a reviewer voids them.
REVIEW_ANSWERS = ("review_returned", "review_approved")
#: The levels a policy may name, lowest first, with their Chinese names.
LEVELS = {"county": "县级", "city": "市级", "province": "省级"}
#: Calendar days a level has to answer a submission, unless the policy says otherwise.
REVIEW_DAYS = 10


@dataclass(frozen=True)
class ReviewState:
    """Where a patch stands in review (审核状态) as of a day."""

    round: int = 0                     # submissions so far (第几轮)
    pending_level: str | None = None   # the level whose answer is awaited (None: nothing pending)
    submitted_on: date | None = None   # when the pending level got it (the submission, or the lower approval)
    returned: bool = False             # the last answer was a return, not yet submitted again
    reason: str | None = None          # the last return's words
    reason_codes: tuple[str, ...] = ()
    last_review_on: date | None = None
    last_decision: str | None = None   # "approved" or "returned"
    approved_levels: tuple[str, ...] = ()

    def due_on(self, review_days: int = REVIEW_DAYS) -> date | None:
        return self.submitted_on + timedelta(days=review_days) if self.submitted_on else None

    def as_dict(self) -> dict:
        """For answers and pages: the fields, dates as text, and the pending level's Chinese name."""
        return {"round": self.round, "pending_level": self.pending_level,
                "pending_level_label": LEVELS.get(self.pending_level) if self.pending_level else None,
                "submitted_on": _text(self.submitted_on), "returned": self.returned, "reason": self.reason,
                "reason_codes": list(self.reason_codes), "last_review_on": _text(self.last_review_on),
                "last_decision": self.last_decision, "approved_levels": list(self.approved_levels)}


def _text(day: date | None) -> str | None:
    return day.isoformat() if day else None


def parse_levels(text: str) -> tuple[str, ...]:
    """``county,city`` as levels in order; ``none`` (or nothing) as no review. Raises ValueError
    naming what is not a level."""
    words = [w.strip() for w in str(text or "").replace("，", ",").split(",") if w.strip()]
    if words in ([], ["none"]):
        return ()
    unknown = [w for w in words if w not in LEVELS]
    if unknown or len(set(words)) != len(words):
        raise ValueError(", ".join(unknown) or text)
    return tuple(words)


def review_states(events: pd.DataFrame, as_of: date | None = None,
                  known_at: datetime | None = None) -> dict[int, ReviewState]:
    """Each patch's review state from its events (``patch, kind, occurred_on, payload`` and what
    :func:`~.lifecycle.visible_events` needs); patches never submitted are absent."""
    if events.empty:
        return {}
    shown = visible_events(events[events["kind"].isin(REVIEW_EVENTS)], as_of, known_at)
    shown = shown.sort_values(["occurred_on", "recorded_at", "id"], kind="stable")
    states: dict[int, ReviewState] = {}
    for patch, kind, day, payload in zip(shown["patch"], shown["kind"], shown["occurred_on"], shown["payload"]):
        states[patch] = step(states.get(patch, ReviewState()), kind, day, payload)
    return states


def step(state: ReviewState, kind: str, day: date, payload: dict) -> ReviewState:
    """The state after one review event."""
    if kind == "submitted":
        return ReviewState(round=state.round + 1, pending_level=payload["level"], submitted_on=day,
                           last_review_on=state.last_review_on, last_decision=state.last_decision)
    if kind == "review_returned":
        return ReviewState(round=state.round, returned=True, reason=payload.get("reason"),
                           reason_codes=tuple(payload.get("reason_codes") or ()), last_review_on=day,
                           last_decision="returned", approved_levels=state.approved_levels)
    approved = (*state.approved_levels, payload["level"])
    return ReviewState(round=state.round, pending_level=payload.get("next_level"),
                       submitted_on=day if payload.get("next_level") else None, last_review_on=day,
                       last_decision="approved", approved_levels=approved)


def next_level(levels: list[str] | tuple[str, ...], level: str) -> str | None:
    """The level after ``level`` in a submission's levels (None: it was the last)."""
    at = list(levels).index(level)
    return levels[at + 1] if at + 1 < len(levels) else None
