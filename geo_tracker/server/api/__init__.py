"""The JSON API (/api/v1): each route takes its :class:`~geo_tracker.server.deps.Caller`, parses,
calls one service function and formats.

No rule lives here: imports, tracking, cases, figures and accounts come from
``geo_tracker.services`` exactly as the CLI uses them. A user's admin units limit
every patch they read or change (a patch outside them answers 404, as if absent).
"""

from fastapi import APIRouter

from . import accounts, backups, batches, cases, field, field_uploads, figures, imagery, patches, review

router = APIRouter(prefix="/api/v1")
for _module in (accounts, backups, batches, patches, cases, figures, review, field, field_uploads, imagery):
    router.include_router(_module.router)
