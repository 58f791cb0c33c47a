"""审核 and 退回: the county reviewer's queue, a submitted patch's material beside the approve/return
form, and the township's list of returned patches; plus what the patch page shows of a review
(the banner of a return, the note of a pending submission, whether 申请销号 replaces 销号).

A refused answer (a return without a reason) re-renders the page with the reason and what was
entered; an answer given redirects to the queue (POST, redirect, GET).
"""

from __future__ import annotations

from datetime import date
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request

from ...core.lifecycle import ALLOWED
from ...core.review import REVIEW_EVENTS
from ...core.sources import SOURCES
from ...errors import GeoTrackerError, NotFoundError
from ...maps.builder import script_json
from ...services import accounts, cases, review, tracking
from ...services.batches import list_batches
from ...services.boundaries import list_boundaries, village_units
from ...services.imagery import patch_pair
from ...services.patches import show_patch
from ..deps import Caller, need, required_date, signed_in
from .render import back, error_text, render

router = APIRouter(include_in_schema=False)
reviewer = need("review")


def patch_href(batch: str, code: str) -> str:
    return f"/patches/{quote(batch, safe='')}/{quote(code, safe='')}"


def policy_levels(store, source: str) -> tuple[str, ...]:
    """The levels that review a source's patches before 销号 (empty: the township closes them)."""
    return next((p.levels for p in review.policies(store) if p.source == source), ())


def review_note(patch: dict, events: list[dict], today: date) -> dict | None:
    """What a page says of the patch's review: its last return (level, round, reasons, day) or the
    pending submission (level, days since); None when neither applies."""
    state = patch.get("review")
    if not state:
        return None
    if state["returned"]:
        last = next((e for e in reversed(events) if e["kind"] == "review_returned" and e["voided_by"] is None), None)
        reasons = [*state["reason_codes"], *([state["reason"]] if state["reason"] else [])]
        return {"kind": "returned", "level": ((last or {}).get("payload") or {}).get("level") or "county",
                "round": state["round"], "reasons": "；".join(reasons), "on": state["last_review_on"]}
    if state["pending_level"]:
        submitted = date.fromisoformat(state["submitted_on"])
        return {"kind": "pending", "level": state["pending_level"], "round": state["round"],
                "days": (today - submitted).days, "on": state["submitted_on"]}
    return None


def patch_review(store, patch: dict, events: list[dict], may_track: bool) -> dict:
    """The patch page's part of the review: the note, the policy's levels, whether to offer 申请销号."""
    levels = policy_levels(store, patch["source"])
    return {"review_note": review_note(patch, events, date.today()), "policy_levels": levels,
            "can_submit": may_track and bool(levels) and patch["status"] in ALLOWED["submit"]}


def _townships(store, rows: list[dict]) -> tuple[dict[str, str], list[dict]]:
    """Each queued village's township code, and the townships (code, name) that have any."""
    codes = sorted({r["village_code"] for r in rows if r.get("village_code")})
    units = village_units(store, codes=codes) if codes else None
    parents = dict(zip(units["code"], units["parent_code"])) if units is not None else {}
    names = {t["code"]: t["name"] for t in list_boundaries(store, level="township")} if parents else {}
    used = sorted(set(parents.values()) - {None})
    return parents, [{"code": c, "name": names.get(c, c)} for c in used]


@router.get("/review")
def review_queue(request: Request, township: str | None = None, batch: str | None = None,
                 source: str | None = None, who: Caller = Depends(reviewer)):
    """审核: the submissions in the reviewer's units awaiting an answer, oldest first."""
    rows = review.queue(who.store, villages=who.villages)
    parents, townships = _townships(who.store, rows)
    shown = [r for r in rows if (not township or parents.get(r["village_code"]) == township)
             and (not batch or r["batch"] == batch) and (not source or r["source"] == source)]
    for r in shown:
        r["href"] = f"/review/{quote(r['batch'], safe='')}/{quote(r['patch_code'], safe='')}"
    return render(request, "review_queue.html", rows=shown, total=len(rows), townships=townships,
                  batches=list_batches(who.store, villages=who.villages), source_keys=SOURCES,
                  filters={"township": township or "", "batch": batch or "", "source": source or ""})


def _review_context(who: Caller, ref: str) -> dict:
    patch = show_patch(who.store, who.patch(ref), villages=who.villages)
    label = f"{patch['batch']}/{patch['patch_code']}"
    events = tracking.patch_history(who.store, label)
    shape = {"patch": {"type": "Feature", "geometry": patch["geometry"], "properties": {}},
             "villages": {"type": "FeatureCollection", "features": []}}
    state = patch.get("review") or {}
    pair = patch_pair(who.store, patch, who.villages)                 # 前时相 / 后时相, to judge by
    return {"patch": patch, "label": label, "events": events, "imagery": pair, "imagery_json": script_json(pair), "href": patch_href(patch["batch"], patch["patch_code"]),
            "action": f"/review/{quote(patch['batch'], safe='')}/{quote(patch['patch_code'], safe='')}",
            "shape": script_json(shape), "review_note": review_note(patch, events, date.today()),
            "history": [e for e in events if e["kind"] in REVIEW_EVENTS],
            "pending": bool(state.get("pending_level")), "today": date.today(),
            "reason_codes": sorted(cases.list_vocabulary(who.store).get("review_reason", []), key=lambda c: c == "其他")}


@router.get("/review/{ref:path}")
def review_page(request: Request, ref: str, who: Caller = Depends(reviewer)):
    """A submitted patch's material (facts, verification, rectification with photos, cases, the
    review history) beside the 通过 / 退回 form."""
    return render(request, "review_patch.html", chosen=[], reason="", **_review_context(who, ref))


@router.post("/review/{ref:path}")
def review_answer(request: Request, ref: str, decision: str = Form(""), on: str = Form(""),
                  reason: str = Form(""), reason_codes: list[str] = Form(default=[]),
                  row_version: int | None = Form(None), who: Caller = Depends(reviewer)):
    ref = who.patch(ref)
    try:
        review.review_patch(who.store, ref, decision, required_date(on), reason=reason or None,
                            reason_codes=[c for c in reason_codes if c], user=who.username,
                            expected_version=row_version, levels=accounts.review_levels(who.store, who.user))
    except GeoTrackerError as e:
        if isinstance(e, NotFoundError):
            raise
        return render(request, "review_patch.html", status_code=e.http_status, error=error_text(request, e),
                      chosen=reason_codes, reason=reason, on=on, **_review_context(who, ref))
    return back("/review")


@router.get("/returned")
def returned_list(request: Request, who: Caller = Depends(signed_in)):
    """退回: the patches in the user's units whose last review returned them, with the reasons."""
    rows = review.returned(who.store, villages=who.villages)
    for r in rows:
        r["href"] = patch_href(r["batch"], r["patch_code"])
        r["reasons"] = "；".join([*r["reason_codes"], *([r["reason"]] if r["reason"] else [])])
    return render(request, "returned.html", rows=rows)
