"""Logging in and out, and one's own password."""

from __future__ import annotations

import asyncio
import hmac
import secrets

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from ...errors import AuthenticationError, CSRFError, GeoTrackerError, TooManyAttemptsError
from ...services import accounts
from ...services.logins import TARPIT_S
from ..deps import COOKIE, Caller, client_address, close_session, open_session, refuse_cross_site, signed_in
from .render import error_text, render

router = APIRouter(include_in_schema=False)
LOGIN_COOKIE = "gt_login"


def safe_next(value: str | None) -> str:
    return value if value and value.startswith("/") and not value.startswith("//") else "/dashboard"


def login_form(request: Request, *, status_code: int = 200, **context):
    """The login page with a fresh form token, set as a cookie too (double submit)."""
    token = secrets.token_urlsafe(16)
    response = render(request, "login.html", status_code=status_code, login_token=token, **context)
    response.set_cookie(LOGIN_COOKIE, token, max_age=7200, httponly=True, samesite="strict", path="/login",
                        secure=request.app.state.settings.cookie_secure)
    return response


@router.get("/login")
def login_page(request: Request, next: str | None = None):
    return login_form(request, next=safe_next(next))


@router.post("/login")
async def login(request: Request, username: str = Form(""), password: str = Form(""),
                next: str = Form("/dashboard"), login_token: str = Form("")):
    """Log in. The form carries a token matching a cookie set with the form (no login CSRF)."""
    again = {"next": safe_next(next), "username": username}
    if not _form_is_ours(request, login_token):
        return login_form(request, status_code=403, error_key="login.expired", **again)
    try:
        user = await run_in_threadpool(accounts.authenticate, request.app.state.store, username, password,
                                       address=client_address(request))
    except TooManyAttemptsError as e:
        await asyncio.sleep(min(e.retry_after, TARPIT_S))  # hold the guesser, not the server
        response = login_form(request, status_code=429, error_key="login.throttled", wait=e.retry_after, **again)
        response.headers["Retry-After"] = str(e.retry_after)
        return response
    except AuthenticationError:
        return login_form(request, status_code=401, error_key="login.failed", **again)
    response = RedirectResponse(safe_next(next), status_code=303)
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    open_session(request, response, user)
    return response


def _form_is_ours(request: Request, login_token: str) -> bool:
    expected = request.cookies.get(LOGIN_COOKIE, "")
    try:
        refuse_cross_site(request)
    except CSRFError:
        return False
    return bool(expected) and hmac.compare_digest(login_token.encode(), expected.encode())


@router.post("/logout")
def logout(request: Request, who: Caller = Depends(signed_in)):
    response = RedirectResponse("/login", status_code=303)
    close_session(request, response)
    return response


@router.get("/account")
def account(request: Request, who: Caller = Depends(signed_in)):
    return render(request, "account.html")


@router.post("/account/password")
def password(request: Request, old_password: str = Form(""), new_password: str = Form(""),
             who: Caller = Depends(signed_in)):
    try:
        accounts.change_password(who.store, who.username, new_password, old_password,
                                 address=client_address(request))
    except GeoTrackerError as e:
        return render(request, "account.html", status_code=e.http_status, error=error_text(request, e))
    response = RedirectResponse("/login?msg=account.changed", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response
