"""Patches (图斑) and their tracking: 核查, 整改, 销号, 申请销号 and 审核, and voiding a mistaken record."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, File, Form, Path, Query, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field

from ...services import accounts, review, tracking
from ...services.dossier import dossier_bytes
from ...services.imagery import patch_pair
from ...services.patches import list_patches, patches_geojson, show_patch
from .. import uploads
from ..deps import Caller, drawn_part, need
from ..responses import MEDIA, download, plain

MAX_ID = 2**31 - 1
router = APIRouter()
reader, tracker, reviewer = need("read"), need("track"), need("review")


class VerifyBody(BaseModel):
    result: str = Field(description="legal | no_change | illegal (合法/伪变化/违法)")
    on: date
    note: str | None = None
    cadre: str | None = None
    expected_version: int | None = Field(None, ge=0, le=MAX_ID,
                                         description="row_version read with the patch; 409 if it moved")


class CloseBody(BaseModel):
    on: date
    note: str | None = None
    approval_ref: str | None = Field(None, description="the county's 批准文号 (where no review policy applies)")
    expected_version: int | None = Field(None, ge=0, le=MAX_ID)


class ReviewBody(BaseModel):
    decision: str = Field(description="approve | return (通过/退回)")
    on: date
    reason: str | None = Field(None, description="why it is returned (required for a return without codes)")
    reason_codes: list[str] = Field(default=[], description="from the vocabulary review_reason (照片不清晰 …)")
    expected_version: int | None = Field(None, ge=0, le=MAX_ID)


class VoidBody(BaseModel):
    reason: str


@router.get("/patches", tags=["patches"])
def patches(batch: str | None = None, village: str | None = None, status: str | None = None,
            source: str | None = None, as_of: date | None = None,
            limit: int | None = Query(None, ge=1, le=100_000), offset: int = Query(0, ge=0, le=MAX_ID),
            who: Caller = Depends(reader)):
    """The patches the user may see, as GeoJSON (EPSG:4490), with their state as of a date; ``limit`` and
    ``offset`` page them (ordered by batch date, batch, code)."""
    frame = list_patches(who.store, batch=batch, village=village, status=status, source=source,
                         as_of=as_of, villages=who.villages, limit=limit, offset=offset)
    return patches_geojson(frame)


@router.get("/patches/{ref:path}/dossier.docx", tags=["patches"], response_class=Response,
            responses={200: {"content": {MEDIA["docx"]: {}}, "description": "the dossier (举证材料)"}})
def dossier(ref: str, who: Caller = Depends(reader)):
    """The patch's dossier (举证材料) for the county's review, as a Word file: facts, map, the bureau's
    attributes, verification, rectification, cases, photos with time, place and distance, review history."""
    content, name = dossier_bytes(who.store, who.patch(ref), villages=who.villages)
    return download(content, name, MEDIA["docx"])


@router.get("/patches/{ref:path}/imagery", tags=["imagery"])
def patch_imagery(ref: str, who: Caller = Depends(reader)):
    """The patch's before and after imagery (前时相 / 后时相): the latest layer taken on or before its
    前时相 (else its issue date) and the latest taken later, each with its tile URL; null where none."""
    return plain(patch_pair(who.store, show_patch(who.store, who.patch(ref), villages=who.villages),
                            who.villages))


@router.get("/patches/{ref:path}", tags=["patches"])
def patch(ref: str, as_of: date | None = None, who: Caller = Depends(reader)):
    """One patch (CODE or BATCH/CODE): state, shares, versions, and its events (history)."""
    data = show_patch(who.store, ref, as_of, villages=who.villages)
    data["events"] = tracking.patch_history(who.store, f"{data['batch']}/{data['patch_code']}")
    return plain(data)


@router.post("/patches/{ref:path}/verify", tags=["tracking"])
def verify(ref: str, body: VerifyBody, who: Caller = Depends(tracker)):
    """核查: legal, no_change (伪变化) or illegal."""
    return plain(tracking.verify_patch(who.store, who.patch(ref), body.result, body.on, note=body.note,
                                       cadre=body.cadre, user=who.username, expected_version=body.expected_version))


@router.post("/patches/{ref:path}/rectify", tags=["tracking"])
def rectify(ref: str, on: date = Form(...), measure: str = Form(...),
            area_mu: float | None = Form(None), full: bool = Form(False), cultivated_mu: float | None = Form(None),
            note: str | None = Form(None), expected_version: int | None = Form(None, ge=0, le=MAX_ID),
            evidence: list[UploadFile] = File(default=[]), geometry: UploadFile | None = File(None),
            drawn: str | None = Form(None, description="GeoJSON polygon of the part, lon/lat, clipped to it"),
            who: Caller = Depends(tracker)):
    """整改登记: an area, everything left (full), a part in a file (geometry) or sketched on a map (drawn),
    with photos or scans."""
    ref = who.patch(ref)
    with uploads.rectification_files(who.settings.upload_dir, evidence, geometry) as (photos, part):
        return plain(tracking.rectify_patch(who.store, ref, on, measure, area_mu=area_mu, full=full or None,
                                            geometry=part, drawn=drawn_part(drawn), cultivated_mu=cultivated_mu,
                                            evidence=photos, note=note, user=who.username,
                                            expected_version=expected_version))


@router.post("/patches/{ref:path}/close", tags=["tracking"])
def close(ref: str, body: CloseBody, who: Caller = Depends(tracker)):
    """销号."""
    return plain(tracking.close_patch(who.store, who.patch(ref), body.on, note=body.note,
                                      approval_ref=body.approval_ref, user=who.username,
                                      expected_version=body.expected_version))


@router.post("/patches/{ref:path}/submit", tags=["review"])
def submit(ref: str, on: date = Form(...), note: str | None = Form(None),
           expected_version: int | None = Form(None, ge=0, le=MAX_ID), evidence: list[UploadFile] = File(default=[]),
           who: Caller = Depends(tracker)):
    """申请销号: to the first level of the source's review policy, with photos or documents."""
    ref = who.patch(ref)
    with uploads.rectification_files(who.settings.upload_dir, evidence, None) as (photos, _part):
        return plain(review.submit_patch(who.store, ref, on, note=note, evidence=photos, user=who.username,
                                         expected_version=expected_version))


@router.post("/patches/{ref:path}/review", tags=["review"])
def review_answer(ref: str, body: ReviewBody, who: Caller = Depends(reviewer)):
    """审核: approve (the last level's approval closes the patch) or return with reasons."""
    return plain(review.review_patch(who.store, who.patch(ref), body.decision, body.on, reason=body.reason,
                                     reason_codes=body.reason_codes, user=who.username,
                                     expected_version=body.expected_version,
                                     levels=accounts.review_levels(who.store, who.user)))


@router.post("/events/{event_id}/void", tags=["tracking"])
def void(body: VoidBody, event_id: int = Path(ge=1, le=MAX_ID), who: Caller = Depends(reader)):
    """Void a mistaken event by a new one that says why; the original stays in the history. A
    review's answer is voided by a reviewer, the township's records by those who may track."""
    tracking.require_void_right(event_id, who.user.can)            # before the scope, as any refused role
    accounts.check_event_scope(who.store, who.user, event_id)
    return plain(tracking.void_event(who.store, event_id, body.reason, user=who.username, may=who.user.can))
