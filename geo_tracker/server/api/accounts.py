"""Logging in and out, one's own account, and the users (admins of all units only)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request, Response
from pydantic import BaseModel

from ...services import accounts
from ...services.accounts import Principal
from ..deps import Caller, client_address, close_session, me, open_session, principal, refuse_cross_site, user_admin
from ..responses import plain

router = APIRouter(tags=["accounts"])


class UserBody(BaseModel):
    username: str
    password: str
    role: str
    units: list[str]
    display_name: str | None = None


@router.post("/login")
def login(request: Request, response: Response, username: str = Form(...), password: str = Form(...)):
    """Log in with a form (user name, password): sets the HttpOnly session cookie, returns the CSRF token."""
    refuse_cross_site(request)
    user = accounts.authenticate(request.app.state.store, username, password, address=client_address(request))
    return {"user": me(user), "csrf_token": open_session(request, response, user)}


@router.post("/logout")
def logout(request: Request, response: Response, user: Principal = Depends(principal)):
    close_session(request, response)
    return {"logged_out": user.username}


@router.get("/me")
def whoami(user: Principal = Depends(principal)):
    return me(user)


@router.post("/me/password")
def password(request: Request, old_password: str = Form(...), new_password: str = Form(...),
             user: Principal = Depends(principal)):
    """Change one's own password (the old one is checked); every session and API token of the user ends."""
    revoked = accounts.change_password(request.app.state.store, user.username, new_password, old_password,
                                       address=client_address(request))
    return {"changed": user.username, "tokens_revoked": revoked}


@router.get("/users")
def users(who: Caller = Depends(user_admin)):
    return accounts.list_users(who.store)


@router.get("/users/lockouts")
def lockouts(who: Caller = Depends(user_admin)):
    """Accounts locked by failed logins (newest first), with the seconds still to wait."""
    return plain(accounts.locked_accounts(who.store))


@router.post("/users", status_code=201)
def user_add(body: UserBody, who: Caller = Depends(user_admin)):
    return accounts.add_user(who.store, body.username, body.password, body.role, body.units,
                             display_name=body.display_name)


@router.post("/users/{username}/disable")
def user_disable(username: str, who: Caller = Depends(user_admin)):
    return accounts.disable_user(who.store, username)


@router.post("/users/{username}/enable")
def user_enable(username: str, who: Caller = Depends(user_admin)):
    return accounts.disable_user(who.store, username, disabled=False)
