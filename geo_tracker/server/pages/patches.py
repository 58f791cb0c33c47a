"""The patch list, a patch's page with its history and map, its evidence files, and the
tracking forms (核查, 整改, 销号, or 申请销号 where the county reviews: see review.py). A refused
action re-renders the page with the reason."""

from __future__ import annotations

from datetime import date
from urllib.parse import quote, urlencode

import shapely
from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, Response

from ...core.lifecycle import ALLOWED, MEASURES, STATUSES, VERIFY_RESULTS
from ...core.sources import SOURCES
from ...errors import GeoTrackerError, NotFoundError
from ...maps.builder import script_json
from ...services import tracking
from ...services.batches import list_batches
from ...services.boundaries import village_units
from ...services.dossier import dossier_bytes
from ...services.imagery import patch_pair
from ...services.patches import DUE_SOON_DAYS, due_soon, page_of_patches, show_patch
from ...services.review import submit_patch
from .. import uploads
from ..deps import Caller, drawn_part, need, number, optional_date, required_date, signed_in
from ..responses import MEDIA, download
from .render import back, error_text, render
from .review import patch_review

router = APIRouter(include_in_schema=False)
tracker = need("track")
PAGE_SIZE = 50
SORTABLE = ("patch_code", "batch", "village_name", "area_mu", "status", "rectified_mu", "deadline", "issued_on")


#: What the list can be exported as, by a link carrying its filters.
EXPORTS = ("xlsx", "csv", "geojson")


@router.get("/patches")
def patch_list(request: Request, q: str | None = None, batch: str | None = None, source: str | None = None,
               status: str | None = None, village: str | None = None, as_of: str | None = None,
               sort: str = "patch_code", order: str = "asc", page: int = 1, all: str | None = None,
               who: Caller = Depends(signed_in)):
    """The patches, searched (``q``: code, village name, case number) and filtered; ``all`` for printing."""
    sort = sort if sort in SORTABLE else "patch_code"
    listing = page_of_patches(
        who.store, q=(q or "").strip() or None, batch=batch or None, source=source or None,
        status=status if status in STATUSES else None, village=(village or "").strip() or None,
        as_of=optional_date(as_of), villages=who.villages, page=page, size=None if all else PAGE_SIZE,
        sortby=("-" if order == "desc" else "") + sort)
    rows = listing.frame.to_dict("records")
    filters = {"q": q, "batch": batch, "source": source, "status": status, "village": village, "as_of": as_of}
    query = {k: v for k, v in filters.items() if v}
    export_query = {k: v for k, v in query.items() if k != "status" or v in STATUSES}
    return render(request, "patches.html", rows=rows, total=listing.total, counted=listing.exact, page=listing.page,
                  pages=listing.pages,
                  sort=sort, order=order, filters=filters, query=query, showing_all=bool(all),
                  exports={fmt: f"/api/v1/exports/patches.{fmt}?{urlencode(export_query)}" for fmt in EXPORTS},
                  batches=list_batches(who.store, villages=who.villages), status_keys=STATUSES,
                  source_keys=SOURCES, urlencode=urlencode)


@router.get("/due-soon")
def due_list(request: Request, days: str | None = None, batch: str | None = None, as_of: str | None = None,
             who: Caller = Depends(signed_in)):
    """即将到期: the patches whose deadline falls in the next days (14 unless asked)."""
    within = int(days) if days and days.isascii() and days.isdigit() and int(days) <= 366 else DUE_SOON_DAYS
    day = optional_date(as_of)
    frame = due_soon(who.store, days=within, as_of=day, batch=batch or None, villages=who.villages)
    today = day or date.today()
    rows = [{**r, "days_left": (r["deadline"] - today).days} for r in frame.drop(columns="geometry").to_dict("records")]
    return render(request, "due.html", rows=rows, days=within, batch=batch or "", as_of=as_of or "",
                  batches=list_batches(who.store, villages=who.villages))


def _village_shapes(store, patch: dict) -> dict:
    """The villages a patch lies in (or the nearest), as GeoJSON for its little map."""
    codes = [v["village_code"] for v in patch["villages"]] or (
        [patch["nearest_code"]] if patch.get("nearest_code") else [])
    units = village_units(store, codes=codes).itertuples() if codes else ()
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": shapely.geometry.mapping(u.geometry),
         "properties": {"code": u.code, "name": u.name}} for u in units]}


def _patch_context(who: Caller, ref: str) -> dict:
    patch = show_patch(who.store, ref, villages=who.villages)
    label = f"{patch['batch']}/{patch['patch_code']}"
    shape = {"patch": {"type": "Feature", "geometry": patch["geometry"], "properties": {}},
             "villages": _village_shapes(who.store, patch)}
    may_track, status = who.user.can("track"), patch["status"]
    events = tracking.patch_history(who.store, label)
    reviewed = patch_review(who.store, patch, events, may_track)     # 审核: banner, note, 申请销号
    pair = patch_pair(who.store, patch, who.villages)                 # 前时相 / 后时相
    return {"patch": patch, "label": label, "events": events, **reviewed,
            "imagery": pair, "imagery_json": script_json(pair),
            "href": f"/patches/{quote(patch['batch'], safe='')}/{quote(patch['patch_code'], safe='')}",
            "shape": script_json(shape),
            "can_verify": may_track and status in ALLOWED["verify"],
            "can_rectify": may_track and status in ALLOWED["rectify"],
            "can_close": may_track and status in ALLOWED["close"] and not reviewed["policy_levels"],
            "results": VERIFY_RESULTS, "measure_keys": MEASURES,
            "remaining": max(patch["area_mu"] - (patch["rectified_mu"] or 0), 0), "today": date.today()}


@router.get("/patches/{ref:path}/evidence/{sha256}")
def evidence(ref: str, sha256: str, who: Caller = Depends(signed_in)):
    """An evidence file, only through a patch the user may see and whose records cite it."""
    ref = who.patch(ref)
    for event in tracking.patch_history(who.store, ref):
        for item in (event["payload"] or {}).get("evidence") or []:
            path = tracking.evidence_path(who.store, sha256) if item.get("sha256") == sha256 else None
            if path is not None:
                return _evidence_file(path, item.get("file_name") or sha256)
    raise NotFoundError(f"no evidence {sha256} on patch {ref}")


def _evidence_file(path, name: str) -> FileResponse:
    try:
        media = uploads.evidence_type(path)
    except GeoTrackerError:
        media = "application/octet-stream"
    return FileResponse(path, media_type=media, filename=name,
                        content_disposition_type="inline" if media.startswith("image/") else "attachment")


@router.get("/patches/{ref:path}/dossier.docx")
def dossier(ref: str, who: Caller = Depends(signed_in)):
    """The patch's dossier (举证材料) as a Word file, for whoever may see the patch (404 for any other)."""
    content, name = dossier_bytes(who.store, who.patch(ref), villages=who.villages)
    return download(content, name, MEDIA["docx"])


@router.get("/patches/{ref:path}")
def patch_page(request: Request, ref: str, who: Caller = Depends(signed_in)):
    return render(request, "patch.html", **_patch_context(who, ref))


def _patch_action(request: Request, who: Caller, ref: str, action) -> Response:
    ref = who.patch(ref)
    try:
        action(ref)
    except GeoTrackerError as e:
        if isinstance(e, NotFoundError):
            raise
        return render(request, "patch.html", status_code=e.http_status, error=error_text(request, e), **_patch_context(who, ref))
    return back(f"/patches/{quote(ref)}")


@router.post("/patches/{ref:path}/verify")
def verify(request: Request, ref: str, result: str = Form(""), on: str = Form(""), note: str = Form(""),
           cadre: str = Form(""), who: Caller = Depends(tracker)):
    return _patch_action(request, who, ref, lambda ref: tracking.verify_patch(
        who.store, ref, result, required_date(on), note=note or None, cadre=cadre or None, user=who.username))


@router.post("/patches/{ref:path}/rectify")
def rectify(request: Request, ref: str, on: str = Form(""), measure: str = Form(""), area_mu: str = Form(""),
            full: str = Form(""), cultivated_mu: str = Form(""), note: str = Form(""),
            evidence: list[UploadFile] = File(default=[]), geometry: UploadFile | None = File(None),
            drawn: str = Form(""), who: Caller = Depends(tracker)):
    def act(ref):
        with uploads.rectification_files(who.settings.upload_dir, evidence, geometry) as (photos, part):
            sketch = drawn_part(drawn)
            tracking.rectify_patch(who.store, ref, required_date(on), measure,
                                   area_mu=None if full or part or sketch else number(area_mu, "area_mu"),
                                   full=bool(full) or None, geometry=part, drawn=sketch,
                                   cultivated_mu=number(cultivated_mu, "cultivated_mu") if cultivated_mu else None,
                                   evidence=photos, note=note or None, user=who.username)
    return _patch_action(request, who, ref, act)


@router.post("/patches/{ref:path}/close")
def close(request: Request, ref: str, on: str = Form(""), note: str = Form(""), approval_ref: str = Form(""),
          who: Caller = Depends(tracker)):
    return _patch_action(request, who, ref, lambda ref: tracking.close_patch(
        who.store, ref, required_date(on), note=note or None, approval_ref=approval_ref or None,
        user=who.username))


@router.post("/patches/{ref:path}/submit")
def submit(request: Request, ref: str, on: str = Form(""), note: str = Form(""),
           evidence: list[UploadFile] = File(default=[]), who: Caller = Depends(tracker)):
    """申请销号, with the photos of the rectified site, where the source's policy has the county review."""
    def act(ref):
        with uploads.rectification_files(who.settings.upload_dir, evidence, None) as (photos, _part):
            submit_patch(who.store, ref, required_date(on), note=note or None, evidence=photos, user=who.username)
    return _patch_action(request, who, ref, act)
