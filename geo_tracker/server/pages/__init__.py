"""The Chinese pages: server-rendered over the same services as the JSON API and the CLI.

Each page takes its :class:`~geo_tracker.server.deps.Caller`, calls service functions
and renders a template from ``templates/`` with words from ``messages.py``. A failed
action re-renders its page with the reason; every other error is a page too
(``render.html_error``); a success redirects (POST, redirect, GET).
"""

from fastapi import APIRouter

from . import account, backups, batches, cases, dashboard, field, imports, maps, patches, review
from .render import STATIC, html_error

router = APIRouter(include_in_schema=False)
for _module in (account, dashboard, maps, patches, batches, imports, cases, backups, review, field):
    router.include_router(_module.router)

__all__ = ["STATIC", "html_error", "router"]
