"""Cases (案件): the list with the 立案 form, a case's page and its actions (关联图斑, 处罚决定, 执行完毕, 结案)."""

from __future__ import annotations

from datetime import date
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request

from ...errors import GeoTrackerError
from ...services import accounts, cases
from ..deps import Caller, need, number, required_date, signed_in
from .render import back, error_text, render

router = APIRouter(include_in_schema=False)
tracker = need("track")


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


@router.get("/cases")
def case_list(request: Request, who: Caller = Depends(signed_in)):
    return render(request, "cases.html", rows=cases.list_cases(who.store, villages=who.villages),
                  today=date.today())


@router.post("/cases")
def case_open(request: Request, case_no: str = Form(""), opened_on: str = Form(""), violation: str = Form(""),
              category: str = Form(""), refs: str = Form(""), who: Caller = Depends(tracker)):
    try:
        linked = accounts.case_patches_in_scope(who.store, who.user, _lines(refs))
        cases.open_case(who.store, case_no.strip(), required_date(opened_on, "opened_on"), patches_refs=linked,
                        violation=violation or None, category=category or None, user=who.username)
    except GeoTrackerError as e:
        return render(request, "cases.html", status_code=e.http_status, error=error_text(request, e), today=date.today(),
                      rows=cases.list_cases(who.store, villages=who.villages))
    return back(f"/cases/{quote(case_no.strip())}")


def _case_context(who: Caller, case_no: str) -> dict:
    return {"case": cases.show_case(who.store, case_no, villages=who.villages), "today": date.today(),
            "vocab": cases.list_vocabulary(who.store)}


def _case_action(request: Request, who: Caller, case_no: str, action):
    context = _case_context(who, case_no)
    try:
        action()
    except GeoTrackerError as e:
        return render(request, "case.html", status_code=e.http_status, error=error_text(request, e), **context)
    return back(f"/cases/{quote(case_no)}")


@router.post("/cases/{case_no:path}/link")
def case_link(request: Request, case_no: str, refs: str = Form(""), on: str = Form(""),
              who: Caller = Depends(tracker)):
    return _case_action(request, who, case_no, lambda: cases.link_case(
        who.store, case_no, [who.patch(ref) for ref in _lines(refs)], required_date(on), user=who.username))


@router.post("/cases/{case_no:path}/decision")
def case_decide(request: Request, case_no: str, on: str = Form(""), fine_yuan: str = Form(""),
                outcome: str = Form(""), who: Caller = Depends(tracker)):
    return _case_action(request, who, case_no, lambda: cases.decide_case(
        who.store, case_no, required_date(on), fine_yuan=number(fine_yuan, "fine_yuan") if fine_yuan else None,
        outcome=outcome or None, user=who.username))


@router.post("/cases/{case_no:path}/execution")
def case_execute(request: Request, case_no: str, on: str = Form(""), who: Caller = Depends(tracker)):
    return _case_action(request, who, case_no, lambda: cases.execute_case(
        who.store, case_no, required_date(on), user=who.username))


@router.post("/cases/{case_no:path}/close")
def case_close(request: Request, case_no: str, on: str = Form(""), who: Caller = Depends(tracker)):
    return _case_action(request, who, case_no, lambda: cases.close_case(
        who.store, case_no, required_date(on), user=who.username))


@router.get("/cases/{case_no:path}")
def case_page(request: Request, case_no: str, who: Caller = Depends(signed_in)):
    return render(request, "case.html", **_case_context(who, case_no))
