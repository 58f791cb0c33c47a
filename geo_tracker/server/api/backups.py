"""Backups for admins of every unit: the list, and a new one downloaded at once."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from ...services import backup
from ..deps import Caller, user_admin
from ..errors import answer_language
from ..responses import file_download, plain

router = APIRouter(tags=["backups"])


@router.get("/backups")
def backups(request: Request, who: Caller = Depends(user_admin)):
    """The newest backups (newest first) and the warning /readyz gives when the last is old."""
    warning = backup.backup_warning(who.store)
    return {"backups": plain(backup.recent_backups(who.store)),
            "warning": warning.text(answer_language(request), "api") if warning else None}


@router.post("/backups")
def backup_now(request: Request, who: Caller = Depends(user_admin)):
    """Take a backup now and download it (a zip: database, evidence files, manifest)."""
    settings = who.settings.backup
    result, cleanup = backup.backup_for_download(who.store, settings.folder, keep=settings.keep,
                                                 actor=who.user.username)
    return file_download(result.path, cleanup)
