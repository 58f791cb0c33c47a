"""The batches (批次): the list, and a batch's progress page with the figures of ``stats --batch``."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request

from ...services.batches import batch_progress, list_batches
from ..deps import Caller, optional_date, signed_in
from .render import render

router = APIRouter(include_in_schema=False)
#: The figures a batch page shows, in order, with their message keys.
FIGURES = [("patches", "batch.issued"), ("verified", "batch.verified"), ("illegal", "batch.illegal"),
           ("case_filed", "batch.case_filed"), ("rectification_rate_area", "batch.rate"),
           ("closed", "batch.closed"), ("overdue", "batch.overdue")]


@router.get("/batches")
def batch_list(request: Request, who: Caller = Depends(signed_in)):
    return render(request, "batches.html", rows=list_batches(who.store, villages=who.villages))


@router.get("/batches/{name:path}")
def batch_page(request: Request, name: str, source: str | None = None, as_of: str | None = None,
               who: Caller = Depends(signed_in)):
    """One batch's progress: its figures, by village, and what falls due in the next 14 days."""
    day = optional_date(as_of)
    progress = batch_progress(who.store, name, source or None, as_of=day, villages=who.villages)
    query = {"batch": name, **({"as_of": as_of} if day else {})}
    return render(request, "batch.html", progress=progress, figures=FIGURES, as_of=as_of or "",
                  query=urlencode(query))
