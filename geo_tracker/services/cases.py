"""Enforcement cases (立案查处): one case may cover several patches, or none."""

from __future__ import annotations

import re
from datetime import date

from ..catalogue import msg
from ..core.lifecycle import check_transition
from ..errors import ConflictError, InvalidValueError, NotFoundError, StaleRowError
from ..store import Store
from ..store import cases as repo
from ..store import events as events_repo
from .tracking import actor, apply_event, check_event_date, folded_state

VOCABULARY_KINDS = ("violation", "act", "category", "outcome", "review_reason")


def list_vocabulary(store: Store) -> dict[str, list[str]]:
    with store.engine.connect() as conn:
        return {kind: repo.vocabulary_values(conn, kind) for kind in VOCABULARY_KINDS}


def add_vocabulary(store: Store, kind: str, value: str) -> None:
    """Add a violation type or act this office uses (the lists are per deployment)."""
    if kind not in VOCABULARY_KINDS:
        raise InvalidValueError(msg("cases.bad_vocabulary_kind", kind=kind, choices=", ".join(VOCABULARY_KINDS)))
    if not value.strip():
        raise InvalidValueError(msg("cases.empty_value"), field="value")
    with store.transaction() as conn:
        if value.strip() not in repo.vocabulary_values(conn, kind):
            repo.insert_vocabulary(conn, kind, value.strip())


def check_vocabulary(conn, kind: str, value: str | None) -> None:
    if value is None:
        return
    allowed = repo.vocabulary_values(conn, kind)
    if value not in allowed:
        raise InvalidValueError(msg("cases.not_in_vocabulary", kind=msg(f"cases.kind.{kind}"), code=kind, value=value,
                                    allowed=_listed(list(allowed))), field=kind)


def _listed(values: list[str]):
    """Words of a list as "a、b" / "a, b"."""
    if not values:
        return ""
    first, *rest = values
    return first if not rest else msg("cases.values", first=first, rest=_listed(rest))


def _find_case(conn, case_no: str):
    row = repo.case_row(conn, case_no)
    if row is None:
        raise NotFoundError(msg("cases.not_found", case_no=case_no))
    return row


def _bump(conn, case: dict, **values) -> None:
    if not repo.bump_case(conn, case, **values):
        raise StaleRowError(msg("cases.stale", case_no=case["case_no"]))


def open_case(store: Store, case_no: str, on: date, *, patches_refs: list[str] = (), violation: str | None = None,
              act: str | None = None, fine_yuan: float | None = None, note: str | None = None,
              category: str | None = None, user: str | None = None) -> dict:
    """File a case (立案), optionally linking the illegal patches it covers."""
    if not case_no.strip():
        raise InvalidValueError(msg("cases.empty_number"), field="case_no")
    if fine_yuan is not None and fine_yuan < 0:
        raise InvalidValueError(msg("cases.negative_fine", fine=fine_yuan), field="fine_yuan")
    with store.transaction() as conn:
        check_vocabulary(conn, "violation", violation)
        check_vocabulary(conn, "act", act)
        check_vocabulary(conn, "category", category)
        if repo.case_row(conn, case_no) is not None:
            raise ConflictError(msg("cases.number_taken", case_no=case_no), field="case_no")
        case_id = repo.insert_case(conn, case_no=case_no, opened_on=on, violation=violation, act=act,
                                   fine_yuan=fine_yuan, note=note, category=category)
        events_repo.insert_event(conn, kind="case_opened", occurred_on=on, actor=actor(user), case_id=case_id,
                                 payload={"case_no": case_no, "violation": violation, "act": act,
                                          "fine_yuan": fine_yuan, "note": note})
        linked = [_link(conn, store, case_id, case_no, ref, on, user) for ref in patches_refs]
    return {"case_no": case_no, "opened_on": on, "linked": linked}


def _link(conn, store: Store, case_id: int, case_no: str, ref: str, on: date, user: str | None) -> dict:
    patch = events_repo.find_patch(conn, store, ref)
    check_event_date(patch, on)
    state = folded_state(conn, patch, as_of=on)
    check_transition("link_case", state["status"], patch["label"])
    if repo.is_linked(conn, case_id, patch["lineage_id"]):
        raise ConflictError(msg("cases.already_linked", label=patch["label"], case_no=case_no))
    other = repo.case_of_patch(conn, patch["lineage_id"])
    if other:
        raise ConflictError(msg("cases.other_case", label=patch["label"], other=other))
    repo.insert_link(conn, case_id, patch["lineage_id"], on)
    return apply_event(conn, patch, kind="case_linked", on=on, user=user, case_id=case_id, expected_version=None,
                       payload={"case_no": case_no, "before": {"status": state["status"]}})


def link_case(store: Store, case_no: str, refs: list[str], on: date, *, user: str | None = None) -> list[dict]:
    with store.transaction() as conn:
        case = _find_case(conn, case_no)
        if case["closed_on"]:
            raise ConflictError(msg("cases.closed_no_link", case_no=case_no, closed=case["closed_on"]))
        return [_link(conn, store, case["id"], case_no, ref, on, user) for ref in refs]


def decide_case(store: Store, case_no: str, on: date, *, fine_yuan: float | None = None, note: str | None = None,
                outcome: str | None = None, user: str | None = None) -> dict:
    """Record the penalty decision (处罚决定): its date and fine in 元."""
    if fine_yuan is not None and fine_yuan < 0:
        raise InvalidValueError(msg("cases.negative_fine", fine=fine_yuan), field="fine_yuan")
    with store.transaction() as conn:
        case = _find_case(conn, case_no)
        check_vocabulary(conn, "outcome", outcome)
        if on < case["opened_on"]:
            raise InvalidValueError(msg("cases.decision_before_opening", on=on, opened=case["opened_on"]))
        if case["executed_on"] and on > case["executed_on"]:
            raise InvalidValueError(msg("cases.decision_after_execution", on=on, executed=case["executed_on"]),
                                    field="on")
        _bump(conn, case, decided_on=on, decided_fine_yuan=fine_yuan, outcome=outcome or "行政处罚")
        events_repo.insert_event(conn, kind="case_decided", occurred_on=on, actor=actor(user), case_id=case["id"],
                                 payload={"case_no": case_no, "fine_yuan": fine_yuan, "note": note,
                                          "before": {"decided_fine_yuan": case["decided_fine_yuan"]}})
    return {"case_no": case_no, "decided_on": on, "fine_yuan": fine_yuan}


def execute_case(store: Store, case_no: str, on: date, *, note: str | None = None, user: str | None = None) -> dict:
    """Record that the decision was executed (执行完毕: fine paid, demolition done), which makes the case 办结.

    Only after a decision (on or after its date), once, and not once the case is closed:
    a case may also be closed (结案) without this, as before.
    """
    with store.transaction() as conn:
        case = _find_case(conn, case_no)
        if case["closed_on"]:
            raise ConflictError(msg("cases.closed_no_execution", case_no=case_no, closed=case["closed_on"]))
        if case["executed_on"]:
            raise ConflictError(msg("cases.already_executed", case_no=case_no, executed=case["executed_on"]))
        if not case["decided_on"]:
            raise ConflictError(msg("cases.execution_without_decision", case_no=case_no))
        if on < case["decided_on"]:
            raise InvalidValueError(msg("cases.execution_before_decision", on=on, decided=case["decided_on"]),
                                    field="on")
        _bump(conn, case, executed_on=on)
        events_repo.insert_event(conn, kind="case_executed", occurred_on=on, actor=actor(user), case_id=case["id"],
                                 payload={"case_no": case_no, "note": note})
    return {"case_no": case_no, "executed_on": on}


def close_case(store: Store, case_no: str, on: date, *, note: str | None = None, user: str | None = None) -> dict:
    """Close (结案) a case, whether or not its decision was recorded as executed."""
    with store.transaction() as conn:
        case = _find_case(conn, case_no)
        if case["closed_on"]:
            raise ConflictError(msg("cases.already_closed", case_no=case_no, closed=case["closed_on"]))
        if on < case["opened_on"]:
            raise InvalidValueError(msg("cases.closing_before_opening", on=on, opened=case["opened_on"]))
        if case["executed_on"] and on < case["executed_on"]:
            raise InvalidValueError(msg("cases.closing_before_execution", on=on, executed=case["executed_on"]),
                                    field="on")
        _bump(conn, case, closed_on=on)
        events_repo.insert_event(conn, kind="case_closed", occurred_on=on, actor=actor(user), case_id=case["id"],
                                 payload={"case_no": case_no, "note": note})
    return {"case_no": case_no, "closed_on": on}


def case_number_key(case_no: str) -> tuple:
    """Sort key reading the numbers in a case number as numbers: 〔2023〕1号 before 〔2023〕10号."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part)
                 for part in re.split(r"(\d+)", case_no or "") if part)


def list_cases(store: Store, as_of: date | None = None, *, villages=None) -> list[dict]:
    """Cases (opened by ``as_of``) with their patches and state as of that date, by case number.

    ``status`` as of that date: ``open`` (办理中), ``decided`` (已决定), ``executed`` (已执行:
    the decision executed, not yet closed) or ``closed`` (已结案); a date after ``as_of`` is not yet.

    ``villages`` (a user's scope) keeps the cases linked to a patch in those villages.
    ``patches`` holds the codes; ``patch_refs`` the same patches as (batch, code) for links.
    """
    with store.engine.connect() as conn:
        seen = None if villages is None else repo.links_in_scope(conn, villages)
        rows = repo.case_rows(conn, as_of, None if seen is None else {c for c, _ in seen})
        links = [(cid, linked_on, code, batch) for cid, linked_on, code, lineage, batch in repo.links(conn)
                 if seen is None or (cid, lineage) in seen]
    for row in rows:
        mine = [(code, batch) for cid, linked_on, code, batch in links
                if cid == row["id"] and (as_of is None or linked_on <= as_of)]
        row["patches"] = [code for code, _ in mine]
        row["patch_refs"] = [{"batch": batch, "code": code} for code, batch in mine]
        if as_of is not None:
            if row["decided_on"] and row["decided_on"] > as_of:
                row["decided_on"], row["decided_fine_yuan"] = None, None
            for column in ("executed_on", "closed_on"):
                if row[column] and row[column] > as_of:
                    row[column] = None
        row["status"] = ("closed" if row["closed_on"] else "executed" if row["executed_on"]
                         else "decided" if row["decided_on"] else "open")
    return sorted(rows, key=lambda r: case_number_key(r["case_no"]))


def show_case(store: Store, case_no: str, *, villages=None) -> dict:
    with store.engine.connect() as conn:
        case = _find_case(conn, case_no)
    found = [c for c in list_cases(store, villages=villages) if c["case_no"] == case_no]
    if not found:
        raise NotFoundError(msg("cases.not_found", case_no=case_no))
    return {**case, **found[0]}


def case_figures(store: Store, as_of: date, year: int | None = None) -> dict:
    """Cases opened by ``as_of`` by category and by outcome (decided by then), with fines in 元.

    ``closed`` counts 结案 (the 结案率 of statistics tables); 办结 of reports, which also counts
    an executed decision, is :func:`geo_tracker.services.report.case_register`'s.
    """
    with store.engine.connect() as conn:
        by_category, by_outcome = repo.figures(conn, as_of, year)
    total = {"cases": sum(r["cases"] for r in by_category), "closed": sum(int(r["closed"] or 0) for r in by_category),
             "fines_yuan": sum(float(r["fines_yuan"] or 0) for r in by_category)}
    return {"by_category": by_category, "by_outcome": by_outcome, "total": total}
