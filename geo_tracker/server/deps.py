"""Who is asking: bearer tokens and HTTP Basic for scripts and GIS clients, session cookies for pages.

A cookie-authenticated request that changes something must carry the session's
CSRF token (header ``X-CSRF-Token`` or form field ``csrf_token``); token and Basic
requests need none, since a browser never adds those by itself.
"""

from __future__ import annotations

import base64
import binascii
import hmac

from fastapi import APIRouter, Depends, Form, Request, Response
from starlette.concurrency import run_in_threadpool

from ..errors import AuthenticationError, CSRFError
from ..services import accounts
from ..services.accounts import Principal

COOKIE = "gt_session"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


async def principal(request: Request) -> Principal:
    """The authenticated user; every protected route depends on this."""
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    store = request.app.state.store
    header = request.headers.get("authorization")
    if header:
        # Off the event loop: a password check is an Argon2 hash, which would stall every request.
        user = await run_in_threadpool(_from_header, store, header, client_address(request))
    else:
        cookie = request.cookies.get(COOKIE)
        if not cookie:
            raise AuthenticationError("log in first (POST /api/v1/login), or send 'Authorization: Bearer <token>' "
                                      "(`geo-tracker tokens create`)")
        user, csrf = accounts.session_principal(store, cookie)
        request.state.csrf = csrf
        if request.method not in SAFE_METHODS:
            sent = request.headers.get("x-csrf-token")
            if sent is None and "form" in request.headers.get("content-type", ""):
                sent = (await request.form()).get("csrf_token")
            if not sent or not hmac.compare_digest(str(sent).encode(), csrf.encode()):
                raise CSRFError("the form's CSRF token is missing or wrong: reload the page and send it again",
                                field="csrf_token")
    request.state.principal = user
    request.state.user = user.username
    return user


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _from_header(store, header: str, address: str) -> Principal:
    scheme, _, value = header.partition(" ")
    scheme, value = scheme.lower(), value.strip()
    if scheme == "bearer" and value:
        return accounts.token_principal(store, value)
    if scheme == "basic" and value:
        try:
            username, _, password = base64.b64decode(value).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise AuthenticationError("the Basic credentials are not base64 of user:password") from None
        if password.startswith(accounts.TOKEN_PREFIX):
            user = accounts.token_principal(store, password)
            if user.username != username:
                raise AuthenticationError("the API token belongs to another user")
            return user
        return accounts.authenticate(store, username, password, address=address)
    raise AuthenticationError("the Authorization header must be 'Bearer <token>' or 'Basic <user:password>'")


def refuse_cross_site(request: Request) -> None:
    """A login posted from another site's page (login CSRF) is refused: browsers say so in
    ``Sec-Fetch-Site``; scripts and GIS clients send no such header."""
    if request.headers.get("sec-fetch-site") == "cross-site":
        raise CSRFError("a login from another site's page is refused", field="csrf_token")


def need(action: str):
    """A dependency that lets only roles allowed to take ``action`` through (403 for the others)."""
    async def check(user: Principal = Depends(principal)) -> Principal:
        user.require(action)
        return user
    check.__name__ = f"need_{action}"
    return check


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


def router() -> APIRouter:
    api = APIRouter(prefix="/api/v1", tags=["accounts"])

    @api.post("/login")
    def login(request: Request, response: Response, username: str = Form(...), password: str = Form(...)):
        """Log in with a form (user name, password): sets the HttpOnly session cookie, returns the CSRF token."""
        refuse_cross_site(request)
        user = accounts.authenticate(request.app.state.store, username, password, address=client_address(request))
        return {"user": me(user), "csrf_token": open_session(request, response, user)}

    @api.post("/logout")
    def logout(request: Request, response: Response, user: Principal = Depends(principal)):
        close_session(request, response)
        return {"logged_out": user.username}

    @api.get("/me")
    def whoami(user: Principal = Depends(principal)):
        return me(user)

    @api.post("/me/password")
    def password(request: Request, old_password: str = Form(...), new_password: str = Form(...),
                 user: Principal = Depends(principal)):
        """Change one's own password (the old one is checked); every session and API token of the user ends."""
        revoked = accounts.change_password(request.app.state.store, user.username, new_password, old_password,
                                           address=client_address(request))
        return {"changed": user.username, "tokens_revoked": revoked}

    return api
