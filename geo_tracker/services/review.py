"""The county's review before 销号 (审核): policies, submitting, approving or returning, queues.

Under a policy for a source, a township cannot close its own patch: it submits it (申请销号)
with its evidence; each level of the policy approves or returns it with reasons; the last
level's approval closes it. Without a policy (``none``) the township closes the patch itself,
recording the county's approval reference (批准文号).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date

import pandas as pd

from ..catalogue import msg
from ..core.lifecycle import check_transition
from ..core.review import LEVELS, REVIEW_DAYS, ReviewState, next_level, parse_levels, review_states
from ..core.sources import SOURCES
from ..errors import ConflictError, InvalidValueError, PermissionDeniedError, StaleRowError
from ..store import Store
from ..store import events as events_repo
from ..store import review as repo
from .cases import check_vocabulary
from .tracking import actor, apply_event, check_event_date, folded_state, record_evidence


@dataclass(frozen=True)
class Policy:
    source: str
    levels: tuple[str, ...]          # () : no review, the township closes
    review_days: int = REVIEW_DAYS


def set_policy(store: Store, source: str, levels: str, *, review_days: int | None = None,
               user: str | None = None) -> Policy:
    """``levels`` as written on the command line: ``county``, ``county,city`` or ``none``."""
    if source not in SOURCES:
        raise InvalidValueError(msg("review.bad_source", source=source, choices=", ".join(SOURCES)), field="source")
    try:
        parsed = parse_levels(levels)
    except ValueError as e:
        raise InvalidValueError(msg("review.bad_levels", levels=levels, wrong=str(e),
                                    choices=", ".join(LEVELS)), field="levels") from None
    if review_days is not None and review_days < 1:
        raise InvalidValueError(msg("review.bad_days", days=review_days), field="review_days")
    with store.transaction() as conn:
        days = review_days or (repo.policy(conn, source) or {}).get("review_days") or REVIEW_DAYS
        repo.set_policy(conn, source, ",".join(parsed), days, actor(user))
    return Policy(source, parsed, days)


def policies(store: Store) -> list[Policy]:
    """Every source's policy; a source without a row has none (the township closes)."""
    with store.engine.connect() as conn:
        rows = {r["source"]: r for r in repo.policies(conn)}
    return [_policy(s, rows.get(s)) for s in SOURCES]


def policy_of(conn, source: str) -> Policy:
    return _policy(source, repo.policy(conn, source))


def _policy(source: str, row: dict | None) -> Policy:
    if row is None:
        return Policy(source, ())
    return Policy(source, parse_levels(row["levels"]), int(row["review_days"]))


def submit_patch(store: Store, ref: str, on: date, *, note: str | None = None, evidence=(),
                 user: str | None = None, expected_version: int | None = None, action_key: str | None = None) -> dict:
    """申请销号: a legal, unchanged or rectified patch goes to the first level of its policy."""
    with store.transaction() as conn:
        patch = events_repo.find_patch(conn, store, ref)
        check_event_date(patch, on)
        levels = repo.levels(conn, patch["source"])
        if not levels:
            raise ConflictError(msg("review.no_policy", label=patch["label"], source=patch["source"]))
        state = folded_state(conn, patch, as_of=on)
        check_transition("submit", state["status"], patch["label"])
        round_no = _review(conn, patch).round + 1
        stored = [record_evidence(conn, store, f, patch) for f in evidence]
        payload = {"levels": list(levels), "level": levels[0], "round": round_no, "from_status": state["status"],
                   "note": note, "evidence": stored, "before": {"status": state["status"]},
                   "after": {"status": "submitted"}}
        return apply_event(conn, patch, kind="submitted", on=on, user=user, payload=payload,
                           expected_version=expected_version, action_key=action_key)


def review_patch(store: Store, ref: str, decision: str, on: date, *, reason: str | None = None,
                 reason_codes: Collection[str] = (), user: str | None = None,
                 expected_version: int | None = None, levels: Collection[str] | None = None) -> dict:
    """The pending level's answer: ``approve`` (the last level's closes the patch) or ``return``
    (which needs a reason, and sends the patch back to the status it was submitted from).
    ``levels`` are the levels the reviewer answers for (from their units: a county's reviewer
    answers the county level only), so nobody passes two levels alone; ``expected_version`` makes
    a second click on the same answer a conflict instead of the next level's approval."""
    if decision not in ("approve", "return"):
        raise InvalidValueError(msg("review.bad_decision", decision=decision), field="decision")
    reason = (reason or "").strip() or None
    if decision == "return" and not reason and not reason_codes:
        raise InvalidValueError(msg("review.reason_needed"), field="reason")
    with store.transaction() as conn:
        patch = events_repo.find_patch(conn, store, ref)
        check_event_date(patch, on)
        for code in reason_codes:
            check_vocabulary(conn, "review_reason", code)
        state = folded_state(conn, patch, as_of=on)
        check_transition("review", state["status"], patch["label"])
        if expected_version is not None and patch["row_version"] != expected_version:
            raise StaleRowError(msg("storage.patch_stale", label=patch["label"], version=expected_version))
        review = _review(conn, patch, on)
        if levels is not None and review.pending_level not in levels:
            raise PermissionDeniedError(msg("review.wrong_level", label=patch["label"],
                                            level=LEVELS.get(review.pending_level, review.pending_level),
                                            yours="、".join(LEVELS.get(lv, lv) for lv in levels) or "-"))
        submission = _submission(conn, patch)
        base = {"level": review.pending_level, "round": review.round, "reason": reason,
                "reason_codes": list(reason_codes), "before": {"status": "submitted"}}
        if decision == "return":
            back = submission["from_status"]
            payload = {**base, "from_status": back, "after": {"status": back}}
            return apply_event(conn, patch, kind="review_returned", on=on, user=user, payload=payload,
                               expected_version=expected_version)
        following = next_level(submission["levels"], review.pending_level)
        payload = {**base, "outcome": "level" if following else "final", "next_level": following,
                   "after": {"status": "submitted" if following else "closed"}}
        return apply_event(conn, patch, kind="review_approved", on=on, user=user, payload=payload,
                           expected_version=expected_version)


def _review(conn, patch: dict, as_of: date | None = None) -> ReviewState:
    events = events_repo.lineage_events(conn, [patch["lineage_id"]])
    return review_states(events, as_of).get(patch["lineage_id"], ReviewState())


def _submission(conn, patch: dict) -> dict:
    """The payload of the patch's latest (not voided) submission."""
    events = events_repo.lineage_events(conn, [patch["lineage_id"]])
    found = events[(events["kind"] == "submitted") & events["voided_by"].isna()]
    return found.iloc[-1]["payload"]


def main_reasons(store: Store, source: str, as_of: date, *, villages=None, year: int | None = None
                 ) -> tuple[str, ...]:
    """The reasons of a source's returns up to ``as_of`` (within ``villages``, of patches issued in
    ``year``), most given first: what the report names as 主要原因."""
    from collections import Counter

    with store.engine.connect() as conn:
        reasons = repo.return_reasons(conn, source, as_of, villages=villages, year=year)
    counted = Counter(code for codes in reasons for code in codes)
    return tuple(code for code, _n in counted.most_common())


def level_label(store: Store, source: str) -> str:
    """The name of the level whose approval closes a source's patches now (县级, 市级), for sentences."""
    with store.engine.connect() as conn:
        levels = repo.levels(conn, source)
    return LEVELS[levels[-1]] if levels else LEVELS["county"]


def review_columns(states: list[ReviewState | None]) -> dict[str, list]:
    """审核状态, 最近审核意见, 审核日期 per patch, as exports and lists print them."""
    rows = [_review_words(s) for s in states]
    return {"review_status": [r[0] for r in rows], "review_opinion": [r[1] for r in rows],
            "review_on": [r[2] for r in rows]}


def _review_words(s: ReviewState | None) -> tuple[str, str | None, str | None]:
    if s is None:
        return "未申请", None, None
    status = f"待{LEVELS[s.pending_level]}审核" if s.pending_level else ("已退回" if s.returned else "审核通过")
    words = "；".join([*s.reason_codes, *([s.reason] if s.reason else [])])
    opinion = ("退回：" + words) if s.returned else ("通过" if s.last_decision == "approved" else None)
    return status, opinion, s.last_review_on.isoformat() if s.last_review_on else None


def review_frame(store: Store, lineages: list[int], as_of: date | None = None) -> dict[int, ReviewState]:
    """The review state of each of these patch lineages (for lists, queues, figures and exports)."""
    with store.engine.connect() as conn:
        events = events_repo.lineage_events(conn, lineages) if lineages else pd.DataFrame()
    return review_states(events, as_of)


def queue(store: Store, *, level: str | None = None, villages: Collection[str] | None = None,
          today: date | None = None) -> list[dict]:
    """The submitted patches awaiting an answer (oldest first), with days waiting and the due day."""
    from .patches import list_patches

    today = today or date.today()
    frame = list_patches(store, status="submitted", villages=villages)
    days = {p.source: p.review_days for p in policies(store)}
    states = review_frame(store, [int(x) for x in frame["lineage_id"]])
    rows = []
    for p in frame.itertuples():
        state = states.get(int(p.lineage_id), ReviewState())
        if level and state.pending_level != level:
            continue
        due = state.due_on(days.get(p.source) or REVIEW_DAYS)
        rows.append({**_row(p), "level": state.pending_level, "round": state.round,
                     "submitted_on": state.submitted_on,
                     "days_waiting": (today - state.submitted_on).days if state.submitted_on else None,
                     "due_on": due, "overdue": bool(due and due < today)})
    return sorted(rows, key=lambda r: (r["submitted_on"] or today, r["batch"], r["patch_code"]))


def returned(store: Store, *, villages: Collection[str] | None = None) -> list[dict]:
    """Patches whose last review returned them and that are not yet submitted again (退回待整改)."""
    from .patches import list_patches

    frame = list_patches(store, villages=villages)
    states = review_frame(store, [int(x) for x in frame["lineage_id"]])
    rows = [{**_row(p), "round": s.round, "returned_on": s.last_review_on, "reason": s.reason,
             "reason_codes": list(s.reason_codes)}
            for p in frame.itertuples() if (s := states.get(int(p.lineage_id))) and s.returned]
    return sorted(rows, key=lambda r: (r["returned_on"], r["batch"], r["patch_code"]))


def _row(p) -> dict:
    return {"ref": f"{p.batch}/{p.patch_code}", "batch": p.batch, "patch_code": p.patch_code, "source": p.source,
            "village_code": p.village_code, "village_name": p.village_name, "status": p.status,
            "area_mu": float(p.area_mu)}
