"""备份: the backups of this ledger, and a button that takes one and downloads it (admins of every unit)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from ...services import backup
from ..deps import Caller, user_admin
from ..responses import file_download
from .render import render

router = APIRouter(include_in_schema=False)


@router.get("/backups")
def backups_page(request: Request, who: Caller = Depends(user_admin)):
    warning = backup.backup_warning(who.store)
    return render(request, "backups.html", rows=backup.recent_backups(who.store), schedule=who.settings.backup,
                  warning=warning)


@router.post("/backups")
def backup_now(request: Request, who: Caller = Depends(user_admin)):
    """The archive as a download (kept in the ``[backup]`` folder when one is set)."""
    settings = who.settings.backup
    result, cleanup = backup.backup_for_download(who.store, settings.folder, keep=settings.keep,
                                                 actor=who.user.username)
    return file_download(result.path, cleanup)
