"""Cases (案件): 立案 with the patches they cover, linking more, 处罚决定, 执行完毕, 结案."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from ...services import accounts, cases
from ..deps import Caller, need
from ..responses import plain

router = APIRouter(tags=["cases"])
reader, tracker = need("read"), need("track")


class CaseBody(BaseModel):
    case_no: str
    opened_on: date
    patches: list[str] = []
    violation: str | None = None
    act: str | None = None
    fine_yuan: float | None = None
    category: str | None = None
    note: str | None = None


class LinkBody(BaseModel):
    patches: list[str]
    on: date


class DecisionBody(BaseModel):
    on: date
    fine_yuan: float | None = None
    outcome: str | None = None
    note: str | None = None


class CaseExecutionBody(BaseModel):
    on: date
    note: str | None = None


class CaseCloseBody(BaseModel):
    on: date
    note: str | None = None


def case_in_scope(who: Caller, case_no: str) -> None:
    cases.show_case(who.store, case_no, villages=who.villages)


@router.get("/cases")
def case_list(as_of: date | None = None, who: Caller = Depends(reader)):
    return plain(cases.list_cases(who.store, as_of, villages=who.villages))


@router.get("/cases/{case_no:path}")
def case(case_no: str, who: Caller = Depends(reader)):
    return plain(cases.show_case(who.store, case_no, villages=who.villages))


@router.post("/cases", status_code=201)
def case_open(body: CaseBody, who: Caller = Depends(tracker)):
    """立案, linking the illegal patches it covers (a unit-scoped user must link at least one)."""
    refs = accounts.case_patches_in_scope(who.store, who.user, body.patches)
    return plain(cases.open_case(who.store, body.case_no, body.opened_on, patches_refs=refs,
                                 violation=body.violation, act=body.act, fine_yuan=body.fine_yuan,
                                 note=body.note, category=body.category, user=who.username))


@router.post("/cases/{case_no:path}/links")
def case_link(case_no: str, body: LinkBody, who: Caller = Depends(tracker)):
    case_in_scope(who, case_no)
    refs = [who.patch(ref) for ref in body.patches]
    return plain(cases.link_case(who.store, case_no, refs, body.on, user=who.username))


@router.post("/cases/{case_no:path}/decision")
def case_decide(case_no: str, body: DecisionBody, who: Caller = Depends(tracker)):
    """处罚决定."""
    case_in_scope(who, case_no)
    return plain(cases.decide_case(who.store, case_no, body.on, fine_yuan=body.fine_yuan,
                                   outcome=body.outcome, note=body.note, user=who.username))


@router.post("/cases/{case_no:path}/execution")
def case_execute(case_no: str, body: CaseExecutionBody, who: Caller = Depends(tracker)):
    """执行完毕: the decision was executed (the case counts as 办结)."""
    case_in_scope(who, case_no)
    return plain(cases.execute_case(who.store, case_no, body.on, note=body.note, user=who.username))


@router.post("/cases/{case_no:path}/close")
def case_close(case_no: str, body: CaseCloseBody, who: Caller = Depends(tracker)):
    """结案."""
    case_in_scope(who, case_no)
    return plain(cases.close_case(who.store, case_no, body.on, note=body.note, user=who.username))
