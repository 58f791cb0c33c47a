"""What every route depends on: who is asking, what they may see, and the form values pages send.

Tokens and HTTP Basic serve scripts and GIS clients, session cookies the pages. A Basic
password is checked (Argon2) until it succeeds; the process then remembers the success
for a few minutes (under a keyed hash, never the password), so a GIS request costs what a
token request costs (``accounts.basic_principal``). A
cookie-authenticated request that changes something must carry the session's CSRF
token (header ``X-CSRF-Token`` or form field ``csrf_token``); token and Basic requests
need none, since a browser never adds those by itself.

A route asks for a :class:`Caller` through ``need(action)``: the user, the store and
the user's unit scope in one value, so the scope is decided in one place.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextvars
import hmac
import json
import math
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from functools import cached_property, partial

from fastapi import Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from ..catalogue import msg
from ..errors import AuthenticationError, CSRFError, InvalidValueError
from ..services import accounts
from ..services.accounts import Principal
from ..store import Store

COOKIE = "gt_session"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
#: After a change, the client's next reads name its transaction here (see :func:`store_of`).
WROTE_COOKIE = "gt_wrote"
#: How long after a change a client's reads make sure a replica has it ("a moment").
WROTE_SECONDS = 60
#: Each user's last change in this process: (transaction id, when), for clients that keep no cookies.
_last_write: dict[str, tuple[str, float]] = {}


def store_of(request: Request, username: str | None = None) -> Store:
    """The store this request reads from. A change goes to the primary. A read goes to a
    streaming replica that has replayed the asker's last change (the cookie's transaction,
    or the user's last in this process), else to the primary: nobody sees their own change
    vanish. Blocks while it waits for a replica (call it off the event loop)."""
    store: Store = request.app.state.store
    if request.method not in SAFE_METHODS or not store.has_replicas:
        return store
    own = _recent_write(username)
    chosen = getattr(request.state, "read_store", None)
    if chosen is None or own:
        chosen = request.state.read_store = store.reading(request.cookies.get(WROTE_COOKIE), own)
    return chosen


def _recent_write(username: str | None) -> str | None:
    found = _last_write.get(username or "")
    return found[0] if found and time.monotonic() - found[1] < WROTE_SECONDS else None


def remember_write(request: Request, response: Response, changes: list[str]) -> None:
    """After a change on a store with replicas: its last transaction, in a cookie and by user."""
    if not changes:
        return
    username = getattr(request.state, "user", None)
    if username:
        _last_write[username] = (changes[-1], time.monotonic())
    response.set_cookie(WROTE_COOKIE, changes[-1], max_age=WROTE_SECONDS, httponly=True, samesite="lax", path="/")


async def _off_loop_if_waiting(request: Request, fn, *args):
    """``fn(*args)``, run off the event loop where choosing a replica may wait for one."""
    if request.app.state.store.has_replicas:
        return await run_in_threadpool(fn, *args)
    return fn(*args)


async def principal(request: Request) -> Principal:
    """The authenticated user; every protected route depends on this."""
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    store = await _off_loop_if_waiting(request, store_of, request)
    header = request.headers.get("authorization")
    if header:
        # Off the event loop; a Basic password not remembered comes back as the check to run
        # (an Argon2 hash), which runs on its own few threads so that guessers queue there
        # without a thread, and remembered clients never wait behind their hashes.
        user = await run_in_threadpool(_from_header, store, header, client_address(request))
        if not isinstance(user, Principal):
            context = contextvars.copy_context()
            user = await asyncio.get_running_loop().run_in_executor(_password_pool(), context.run, user)
    else:
        user = await _from_cookie(request, store)
    request.state.principal = user
    request.state.user = user.username
    return user


async def _from_cookie(request: Request, store: Store) -> Principal:
    cookie = request.cookies.get(COOKIE)
    if not cookie:
        raise AuthenticationError(msg("accounts.not_logged_in"))
    user, csrf = accounts.session_principal(store, cookie)
    request.state.csrf = csrf
    if request.method not in SAFE_METHODS:
        sent = request.headers.get("x-csrf-token")
        if sent is None and "form" in request.headers.get("content-type", ""):
            sent = (await request.form()).get("csrf_token")
        if not sent or not hmac.compare_digest(str(sent).encode(), csrf.encode()):
            raise CSRFError(msg("accounts.csrf"), field="csrf_token")
    return user


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


#: How many Argon2 password checks of HTTP Basic run at once (each hash also uses several cores).
PASSWORD_CHECKS = max(2, (os.cpu_count() or 2) // 2)
#: Their threads run at this lower CPU priority (Linux: per thread, inherited by Argon2's own
#: threads), so requests of remembered clients are not slowed by guessers' hashes.
PASSWORD_NICE = 10
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _lower_priority() -> None:
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), PASSWORD_NICE)
    except (AttributeError, OSError):    # not Linux, or not allowed: the same priority as the rest
        pass


def _password_pool() -> ThreadPoolExecutor:
    """The process's few threads for Basic password checks; requests waiting for one hold no thread."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(PASSWORD_CHECKS, thread_name_prefix="password-check",
                                       initializer=_lower_priority)
        return _pool


def _from_header(store: Store, header: str, address: str) -> Principal | Callable[[], Principal]:
    """The user of a token or of remembered Basic credentials; for Basic credentials not
    remembered, the (slow) check to run, which returns the user or raises."""
    scheme, _, value = header.partition(" ")
    scheme, value = scheme.lower(), value.strip()
    if scheme == "bearer" and value:
        return accounts.token_principal(store, value)
    if scheme == "basic" and value:
        try:
            username, _, password = base64.b64decode(value).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise AuthenticationError(msg("accounts.bad_basic")) from None
        if password.startswith(accounts.TOKEN_PREFIX):
            user = accounts.token_principal(store, password)
            if user.username != username:
                raise AuthenticationError(msg("accounts.token_of_other"))
            return user
        user = accounts.remembered_basic(store, username, password)
        if user is not None:
            return user
        return partial(accounts.basic_principal, store, username, password, address=address)
    raise AuthenticationError(msg("accounts.bad_authorization"))


def refuse_cross_site(request: Request) -> None:
    """A login posted from another site's page (login CSRF) is refused: browsers say so in
    ``Sec-Fetch-Site``; scripts and GIS clients send no such header."""
    if request.headers.get("sec-fetch-site") == "cross-site":
        raise CSRFError(msg("accounts.cross_site_login"), field="csrf_token")


class Caller:
    """Who asks, against which store, within which units (None: all)."""

    def __init__(self, request: Request, user: Principal):
        self.request, self.user = request, user
        self.store: Store = store_of(request, user.username)
        self.settings = request.app.state.settings

    @cached_property
    def villages(self) -> frozenset[str] | None:
        """The village codes the user may see and change."""
        return accounts.scope_villages(self.store, self.user)

    def patch(self, ref: str) -> str:
        """``BATCH/CODE`` of a patch the user may see (404 for any other)."""
        return accounts.patch_in_scope(self.store, self.user, ref)

    @property
    def username(self) -> str:
        return self.user.username


def need(action: str):
    """A dependency giving the :class:`Caller` when its role may take ``action`` (403 otherwise)."""
    async def check(request: Request, user: Principal = Depends(principal)) -> Caller:
        user.require(action)
        return await _off_loop_if_waiting(request, Caller, request, user)
    check.__name__ = f"need_{action}"
    return check


async def signed_in(request: Request, user: Principal = Depends(principal)) -> Caller:
    """Any signed-in user; pages check the action themselves, to render a refusal as a page."""
    return await _off_loop_if_waiting(request, Caller, request, user)


async def user_admin(request: Request, user: Principal = Depends(principal)) -> Caller:
    user.require_user_admin()
    return await _off_loop_if_waiting(request, Caller, request, user)


def me(user: Principal) -> dict:
    return {"username": user.username, "display_name": user.display_name, "role": user.role,
            "units": list(user.units),
            "may": sorted(action for action in accounts.PERMISSIONS if user.can(action))}


def open_session(request: Request, response: Response, user: Principal) -> str:
    """Start a session for ``user``: the HttpOnly, SameSite cookie on ``response``; returns the CSRF token."""
    store, settings = request.app.state.store, request.app.state.settings
    token, csrf = accounts.start_session(store, user, settings.session_hours)
    response.set_cookie(COOKIE, token, max_age=int(settings.session_hours * 3600), httponly=True,
                        samesite="lax", secure=settings.cookie_secure, path="/")
    request.state.user = user.username
    return csrf


def close_session(request: Request, response: Response) -> None:
    cookie = request.cookies.get(COOKIE)
    if cookie:
        accounts.end_session(request.app.state.store, cookie)
    response.delete_cookie(COOKIE, path="/")


# --- values sent as text (forms and queries) -----------------------------------------------
def required_date(value: str, field: str = "on") -> date:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise InvalidValueError(msg("common.not_a_date", value=value), field=field) from None


def optional_date(value: str | None) -> date | None:
    """A filter's date: anything that is not one is no filter."""
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def number(value: str, field: str) -> float:
    try:
        found = float(value)
    except (TypeError, ValueError):
        raise InvalidValueError(msg("common.not_a_number", field=field, value=value), field=field) from None
    if not math.isfinite(found):
        raise InvalidValueError(msg("common.not_finite", field=field, value=value), field=field)
    return found


def drawn_part(text: str | None) -> dict | None:
    """The rectified part sketched on a map, sent as GeoJSON text (a geometry or a Feature)."""
    if not text:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        raise InvalidValueError(msg("service.drawn_not_geojson"), field="drawn") from None
    if isinstance(data, dict) and data.get("type") == "Feature":
        data = data.get("geometry")
    if not isinstance(data, dict):
        raise InvalidValueError(msg("service.drawn_not_geometry"), field="drawn")
    return data
