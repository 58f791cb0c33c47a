"""The county's review before 销号: policies, the queue and the returned patches."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from ...services import review
from ..deps import Caller, need
from ..responses import plain

router = APIRouter(tags=["review"])
reader, admin = need("read"), need("admin")


class PolicyBody(BaseModel):
    levels: str = Field(description="county | county,city | none")
    review_days: int | None = Field(None, ge=1, le=365)


def _policy(p: review.Policy) -> dict:
    return {"source": p.source, "levels": list(p.levels), "review_days": p.review_days}


@router.get("/review/policies")
def policies(who: Caller = Depends(reader)):
    """Which levels review each source's patches before 销号 (none: the township closes)."""
    return [_policy(p) for p in review.policies(who.store)]


@router.put("/review/policies/{source}")
def set_policy(source: str, body: PolicyBody, who: Caller = Depends(admin)):
    who.user.require_user_admin()
    return _policy(review.set_policy(who.store, source, body.levels, review_days=body.review_days,
                                     user=who.username))


@router.get("/review/queue")
def queue(level: str | None = None, who: Caller = Depends(reader)):
    """Submitted patches in the user's units awaiting an answer, oldest first."""
    return plain(review.queue(who.store, level=level, villages=who.villages))


@router.get("/review/returned")
def returned(who: Caller = Depends(reader)):
    """Patches in the user's units that the review returned, with the reasons."""
    return plain(review.returned(who.store, villages=who.villages))
