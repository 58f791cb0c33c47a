"""The dashboard (the report's figures and charts on a page) and the reports page."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request

from ...reports.render import inline_images
from ...services.batches import list_batches
from ...services.report import report_context
from ..deps import Caller, optional_date, signed_in
from .render import render

router = APIRouter(include_in_schema=False)


@router.get("/dashboard")
def dashboard(request: Request, as_of: str | None = None, year: str | None = None,
              who: Caller = Depends(signed_in)):
    year_value = int(year) if year and year.isascii() and year.isdigit() else None
    folder = Path(tempfile.mkdtemp(prefix="geo_tracker_charts_"))
    try:
        context = inline_images(report_context(who.store, year=year_value, as_of=optional_date(as_of),
                                               chart_dir=folder, villages=who.villages))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return render(request, "dashboard.html", report=context, as_of=context["as_of"], year=context.get("year") or year_value,
                  batches=list_batches(who.store, villages=who.villages))


@router.get("/reports")
def reports(request: Request, year: str | None = None, as_of: str | None = None,
            who: Caller = Depends(signed_in)):
    query = {k: v for k, v in {"year": year, "as_of": as_of}.items() if v}
    return render(request, "reports.html", query=urlencode(query), year=year or "", as_of=as_of or "")
