"""Accounts: who may do what (role) and where (admin units), logins, sessions and API tokens.

Roles are ``viewer`` (read), ``enforcer`` (verify, rectify, close, cases),
``liaison`` (import batches and boundaries) and ``admin`` (all, and users). A user
is scoped to admin units: they see and change only patches whose village (the
one holding most of the patch) lies in one of their units. The unit ``*`` means
everything, including patches outside every village; a county user has ``*`` or
the county's code.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ..catalogue import msg
from ..core.sources import split_ref
from ..errors import (
    AccountError, AuthenticationError, InvalidValueError, NotFoundError, PermissionDeniedError,
)
from ..store import Store
from ..store import accounts as repo
from ..store.batches import now_utc
from ..store import events as events_repo
from ..store.events import as_datetime
from .logins import GUARD, LOCKOUT_NOTICE

ROLES = ("viewer", "enforcer", "liaison", "admin", "reviewer")
#: Which roles may take each kind of action.
PERMISSIONS = {
    "read": set(ROLES),
    "track": {"enforcer", "admin"},     # 核查, 整改登记, 销号, 案件
    "import": {"liaison", "admin"},     # 批次导入, 行政区划导入
    "admin": {"admin"},                 # 用户, 配置
    "review": {"reviewer"},             # 审核: the county's, never the township's own
}
ALL_UNITS = "*"
MIN_PASSWORD = 8
USERNAME = re.compile(r"^[A-Za-z0-9_.\-@\u4e00-\u9fff]{2,64}$")
TOKEN_PREFIX = "gt_"

log = logging.getLogger("geo_tracker.service")
_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not a password of anyone")


@dataclass(frozen=True)
class Principal:
    """The authenticated user of a request."""

    id: int
    username: str
    role: str
    units: tuple[str, ...]
    display_name: str | None = None

    def can(self, action: str) -> bool:
        return self.role in PERMISSIONS[action]

    def require(self, action: str) -> None:
        if not self.can(action):
            raise PermissionDeniedError(msg("accounts.role_refused", username=self.username, role=role_name(self.role),
                                            action=msg(f"accounts.action.{action}"),
                                            roles=_either(sorted(PERMISSIONS[action]))))

    @property
    def sees_all(self) -> bool:
        return ALL_UNITS in self.units

    def require_user_admin(self) -> None:
        """Users are managed by admins of every unit: a township admin could otherwise widen anyone's scope."""
        self.require("admin")
        if not self.sees_all:
            raise PermissionDeniedError(msg("accounts.partial_admin", username=self.username))


def role_name(role: str):
    """A role as a message shows it: 执法队员 in Chinese, enforcer in English."""
    return msg(f"accounts.role.{role}") if role in ROLES else role


def _either(roles: list[str]):
    """Roles as "管理员或执法队员" / "admin, enforcer"."""
    first, *rest = roles
    return role_name(first) if not rest else msg("accounts.roles_or", first=role_name(first), rest=_either(rest))


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _principal(row: dict) -> Principal:
    return Principal(row["id"], row["username"], row["role"], tuple(row["units"]), row.get("display_name"))


def _check_units(store: Store, units) -> tuple[str, ...]:
    units = tuple(dict.fromkeys(str(u).strip() for u in units if str(u).strip()))
    if not units:
        raise AccountError(msg("accounts.no_units"), field="units")
    with store.engine.connect() as conn:
        known = {code for code, _parent, _level in repo.unit_tree(conn)}
    unknown = [u for u in units if u != ALL_UNITS and u not in known]
    if unknown:
        raise AccountError(msg("accounts.unknown_units", units=", ".join(unknown)), field="units")
    return units


def _check_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD:
        raise AccountError(msg("accounts.short_password", length=MIN_PASSWORD), field="password")


def add_user(store: Store, username: str, password: str, role: str, units, *,
             display_name: str | None = None) -> dict:
    """Create a user with a role and admin units; the password is kept only as an Argon2 hash."""
    if not USERNAME.match(username or ""):
        raise AccountError(msg("accounts.bad_username", username=username), field="username")
    if role not in ROLES:
        raise AccountError(msg("accounts.bad_role", role=role, choices=", ".join(ROLES)), field="role")
    _check_password(password)
    units = _check_units(store, units)
    with store.transaction() as conn:
        if repo.user_row(conn, username=username) is not None:
            raise AccountError(msg("accounts.user_exists", username=username), field="username")
        repo.insert_user(conn, username=username, display_name=display_name, role=role,
                         password_hash=_hasher.hash(password), units=units, created_at=now_utc())
        return public_user(repo.user_row(conn, username=username))


def public_user(row: dict) -> dict:
    return {"username": row["username"], "display_name": row["display_name"], "role": row["role"],
            "units": list(row["units"]), "disabled": bool(row["disabled"])}


def list_users(store: Store) -> list[dict]:
    with store.engine.connect() as conn:
        return [public_user(r) for r in repo.all_users(conn)]


def _user(conn, username: str) -> dict:
    row = repo.user_row(conn, username=username)
    if row is None:
        raise NotFoundError(msg("accounts.no_user", username=username))
    return row


def disable_user(store: Store, username: str, disabled: bool = True) -> dict:
    """Disable (or enable) a user: their sessions end and their tokens stop working at once."""
    with store.transaction() as conn:
        row = _user(conn, username)
        repo.update_user(conn, row["id"], disabled=disabled)
        repo.end_sessions(conn, row["id"])
        user = public_user(repo.user_row(conn, user_id=row["id"]))
    BASIC_CACHE.forget_user(row["id"])
    return user


def change_password(store: Store, username: str, new_password: str, old_password: str | None = None, *,
                    address: str = "local") -> int:
    """Set a new password (checking the old one when given, as the web page does).

    Every session and every API token of the user ends with the old password: a
    password is changed when it may be known to someone else, and a token made with
    it would outlive the change. Returns how many tokens were revoked.
    """
    _check_password(new_password)
    if old_password is not None:
        authenticate(store, username, old_password, address=address)
    with store.transaction() as conn:
        row = _user(conn, username)
        repo.update_user(conn, row["id"], password_hash=_hasher.hash(new_password))
        repo.end_sessions(conn, row["id"])
        revoked = repo.revoke_tokens(conn, row["id"])
    BASIC_CACHE.forget_user(row["id"])
    return revoked


def revoke_all(store: Store, username: str) -> int:
    """Log a user out everywhere: every session ends, every API token is revoked, and the HTTP
    Basic credentials this process remembers for them are forgotten (the next Basic request
    checks the password again). Returns how many tokens were revoked."""
    with store.transaction() as conn:
        row = _user(conn, username)
        repo.end_sessions(conn, row["id"])
        revoked = repo.revoke_tokens(conn, row["id"])
    BASIC_CACHE.forget_user(row["id"])
    return revoked


def authenticate(store: Store, username: str, password: str, *, address: str = "local") -> Principal:
    """The user for a name and password; one message for every failure, so names cannot be probed.

    Throttled per account and per client ``address`` (see :mod:`.logins`); every call checks
    the Argon2 hash (logins are rare: GIS clients go through :func:`basic_principal`).
    """
    return _principal(_verified_row(store, username, password, address))


def basic_principal(store: Store, username: str, password: str, *, address: str = "local") -> Principal:
    """The user of HTTP Basic credentials, which QGIS and ogr2ogr send with every request.

    The first success is checked like a login (throttle, Argon2); for :data:`BASIC_TTL_S` after
    it the same credentials cost what a bearer token costs: the user row is read, no hash. A
    remembered success counts only while that row still holds the password hash that verified
    and the user is enabled, so a password change or a disable in any process refuses the old
    credentials at once; anything else goes through the full check. Failures are never remembered.
    """
    user = remembered_basic(store, username, password)
    if user is not None:
        return user
    row = _verified_row(store, username, password, address)
    key = BASIC_CACHE.key(store.display_url, username or "", password or "")
    BASIC_CACHE.put(key, row["id"], BASIC_CACHE.fingerprint(row["password_hash"]))
    return _principal(row)


def remembered_basic(store: Store, username: str, password: str) -> Principal | None:
    """The user of HTTP Basic credentials that verified within :data:`BASIC_TTL_S`, else None.

    The cheap half of :func:`basic_principal` (one user row read, no hash, no throttle): the
    server runs it apart from the Argon2 checks, so a remembered client never queues behind
    guessers' hashes. None also when the row no longer holds the hash that verified, or the
    user is disabled (the entry is then dropped): the caller must do the full check.
    """
    key = BASIC_CACHE.key(store.display_url, username or "", password or "")
    hit = BASIC_CACHE.get(key)
    if hit is None:
        return None
    with store.engine.connect() as conn:
        row = repo.user_row(conn, user_id=hit[0])
    if row is not None and not row["disabled"] and row["username"] == username \
            and hmac.compare_digest(BASIC_CACHE.fingerprint(row["password_hash"]), hit[1]):
        return _principal(row)
    BASIC_CACHE.forget(key)
    return None


def _verified_row(store: Store, username: str, password: str, address: str) -> dict:
    """The user row whose stored hash ``password`` verifies against (throttled, one message for every failure)."""
    with store.engine.connect() as conn:
        row = repo.user_row(conn, username=username or "")
    GUARD.check(username or "", address)
    try:
        _hasher.verify(row["password_hash"] if row else _DUMMY_HASH, password or "")
    except (VerificationError, InvalidHashError):
        row = None
    if row is None or row["disabled"]:
        if GUARD.failed(username or "", address):
            _notify_lockout(store, username, address)
        raise AuthenticationError(msg("accounts.wrong_login"))
    GUARD.succeeded(username, address)
    return row


#: How long a successful HTTP Basic check is remembered by one process.
BASIC_TTL_S = 300.0


class BasicCredentialCache:
    """Successful HTTP Basic checks of this process, each for :data:`BASIC_TTL_S`.

    An entry is keyed by HMAC-SHA256, under a random key made when the process starts, of
    (database, user name, password): neither the password nor a plain hash of it (which
    a memory dump would let anyone brute-force at GPU speed) is kept. It holds the user id,
    a keyed fingerprint of the stored password hash that verified, and the expiry. An entry
    is a hint only: :func:`basic_principal` reloads the user and compares. Each server process
    (``serve --workers N``) has its own.
    """

    def __init__(self, ttl_s: float = BASIC_TTL_S, clock=time.monotonic, max_entries: int = 10_000):
        self.ttl_s, self._clock, self._max = ttl_s, clock, max_entries
        self._secret = secrets.token_bytes(32)
        self._lock = threading.Lock()
        self._entries: dict[bytes, tuple[float, int, bytes]] = {}

    def key(self, database: str, username: str, password: str) -> bytes:
        message = json.dumps([database, username, password]).encode()   # unambiguous, whatever the characters
        return hmac.new(self._secret, message, hashlib.sha256).digest()

    def fingerprint(self, password_hash: str) -> bytes:
        return hmac.new(self._secret, b"stored hash\0" + password_hash.encode(), hashlib.sha256).digest()

    def get(self, key: bytes) -> tuple[int, bytes] | None:
        """``(user id, fingerprint)`` remembered under ``key`` and not expired, else None."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] <= self._clock():
                del self._entries[key]
                return None
            return entry[1], entry[2]

    def put(self, key: bytes, user_id: int, fingerprint: bytes) -> None:
        now = self._clock()
        with self._lock:
            self._entries.pop(key, None)
            if len(self._entries) >= self._max:
                self._entries = {k: e for k, e in self._entries.items() if e[0] > now}
                while len(self._entries) >= self._max:      # the oldest first (dicts keep insertion order)
                    del self._entries[next(iter(self._entries))]
            self._entries[key] = (now + self.ttl_s, user_id, fingerprint)

    def forget(self, key: bytes) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def forget_user(self, user_id: int) -> None:
        """Drop every entry of a user (a password change, a disable, a logout everywhere)."""
        with self._lock:
            self._entries = {k: e for k, e in self._entries.items() if e[1] != user_id}

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


#: The process's remembered Basic checks.
BASIC_CACHE = BasicCredentialCache()


def _notify_lockout(store: Store, username: str, address: str) -> None:
    """Tell admins: a warning in the service log and an event in the ledger (``login_locked``)."""
    log.warning("login for %r locked after %d failures (last from %s)", username, LOCKOUT_NOTICE, address)
    with store.transaction() as conn:
        events_repo.insert_event(conn, kind="login_locked", occurred_on=now_utc().date(), actor=username,
                                 payload={"username": username, "address": address, "failures": LOCKOUT_NOTICE})


def locked_accounts(store: Store) -> list[dict]:
    """Accounts that must wait before their next login attempt, and recent lockout notices."""
    with store.engine.connect() as conn:
        notices = events_repo.recent_of_kind(conn, "login_locked", limit=50)
    waiting = GUARD.locked()
    return [{"username": n["payload"].get("username"), "address": n["payload"].get("address"),
             "recorded_at": n["recorded_at"], "wait_s": waiting.get(str(n["payload"].get("username")).lower())}
            for n in notices]


def create_token(store: Store, username: str, name: str, *, days: float | None = None) -> str:
    """A new API token for scripts (``Authorization: Bearer <token>``); shown once, stored as SHA-256."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = now_utc()
    with store.transaction() as conn:
        row = _user(conn, username)
        repo.insert_token(conn, digest=digest(token), user_id=row["id"], name=name or "token", created_at=now,
                          expires_at=now + timedelta(days=days) if days else None)
    return token


def token_principal(store: Store, token: str) -> Principal:
    with store.engine.connect() as conn:
        found, row = repo.secret_holder(conn, "token", digest(token)) or (None, None)
    if (found is None or found["revoked"] or row is None or row["disabled"]
            or (found["expires_at"] is not None and as_datetime(found["expires_at"]) < now_utc())):
        raise AuthenticationError(msg("accounts.bad_token"))
    return _principal(row)


def start_session(store: Store, principal: Principal, hours: float) -> tuple[str, str]:
    """(session token for the cookie, CSRF token for forms)."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    now = now_utc()
    with store.transaction() as conn:
        repo.delete_expired_sessions(conn, now)
        repo.insert_session(conn, digest=digest(token), user_id=principal.id, csrf_token=csrf, created_at=now,
                            expires_at=now + timedelta(hours=hours))
    return token, csrf


def session_principal(store: Store, token: str) -> tuple[Principal, str]:
    """(user, CSRF token) of a live session."""
    with store.engine.connect() as conn:
        found, row = repo.secret_holder(conn, "session", digest(token)) or (None, None)
    if found is None or row is None or row["disabled"] or as_datetime(found["expires_at"]) < now_utc():
        raise AuthenticationError(msg("accounts.session_ended"))
    return _principal(row), found["csrf_token"]


def end_session(store: Store, token: str) -> None:
    with store.transaction() as conn:
        repo.delete_session(conn, digest(token))


def scope_villages(store: Store, principal: Principal) -> frozenset[str] | None:
    """The village codes a user may see and change; None when they see everything."""
    units = scope_units(store, principal)
    return None if units is None else units.villages


def scope_units(store: Store, principal: Principal) -> "UnitScope | None":
    """Every unit code (any level) under a user's units, and which are villages; None: all."""
    if principal.sees_all:
        return None
    with store.engine.connect() as conn:
        version = repo.units_version(conn)
        return _units_under(store.display_url, version, principal.units, conn)


def check_account_may(store: Store, username: str | None, action: str) -> None:
    """On the command line, ``--user NAME`` of an account acts with that account's role: a
    township's enforcer cannot review, a reviewer cannot submit (names that are no account,
    such as the OS user of an office's own terminal, act as before)."""
    if not username:
        return
    with store.engine.connect() as conn:
        row = repo.user_row(conn, username=username)
    if row is not None:
        _principal(row).require(action)


def review_levels(store: Store, principal: Principal) -> tuple[str, ...]:
    """The review levels a reviewer answers for: the levels of their units (a county's code: the
    county level); every level for an account of all units."""
    from ..core.review import LEVELS

    if principal.sees_all:
        return tuple(LEVELS)
    with store.engine.connect() as conn:
        level_of = {code: level for code, _parent, level in repo.unit_tree(conn)}
    return tuple(lv for lv in LEVELS if lv in {level_of.get(u) for u in principal.units})


def account_review_levels(store: Store, username: str | None) -> tuple[str, ...] | None:
    """On the command line: the levels of the reviewer ``--user`` names (None: no such account)."""
    if not username:
        return None
    with store.engine.connect() as conn:
        row = repo.user_row(conn, username=username)
    return None if row is None else review_levels(store, _principal(row))


def account_scope(store: Store, username: str | None) -> "UnitScope | None":
    """The scope of the account named by the CLI's --user; None when it is no account or sees all."""
    if not username:
        return None
    with store.engine.connect() as conn:
        row = repo.user_row(conn, username=username)
    return None if row is None else scope_units(store, _principal(row))


@dataclass(frozen=True)
class UnitScope:
    """What a unit-scoped account governs: ``codes`` of every unit under its units (their own
    codes included), and the ``villages`` among them."""

    codes: frozenset[str]
    villages: frozenset[str]


def _units_under(url: str, version: tuple, units: tuple[str, ...], conn) -> UnitScope:
    key = (url, version, units)
    hit = _SCOPE_CACHE.get(key)
    if hit is not None:
        return hit
    children: dict[str, set[str]] = {}
    levels: dict[str, str] = {}
    for code, parent, level in repo.unit_tree(conn):
        levels[code] = level
        if parent:
            children.setdefault(parent, set()).add(code)
    found, todo = set(), list(units)
    while todo:
        code = todo.pop()
        if code in found:
            continue
        found.add(code)
        todo.extend(children.get(code, ()))
    result = UnitScope(frozenset(found), frozenset(c for c in found if levels.get(c) == "village"))
    if len(_SCOPE_CACHE) > 256:
        _SCOPE_CACHE.clear()
    _SCOPE_CACHE[key] = result
    return result


_SCOPE_CACHE: dict = {}


def patch_in_scope(store: Store, principal: Principal, ref: str) -> str:
    """The ``BATCH/CODE`` of the patch ``ref`` names among those the user may see.

    A patch outside the user's units answers as if it did not exist (no probing by
    guessing codes), and a code shared with another township's patch stays unambiguous.
    """
    villages = scope_villages(store, principal)
    batch, code = split_ref(ref)
    with store.engine.connect() as conn:
        found = repo.patches_named(conn, code, batch)
    visible = sorted({f"{b}/{c}" for b, c, village in found if villages is None or village in villages})
    if not visible:
        raise NotFoundError(msg("patch.not_found", ref=ref))
    if len(visible) > 1:
        raise InvalidValueError(msg("patch.ambiguous", code=code, batches=", ".join(visible)), field="ref")
    return visible[0]


def case_patches_in_scope(store: Store, principal: Principal, refs: list[str]) -> list[str]:
    """The patches a new case links, each in the user's scope; a unit-scoped user must link
    at least one, or the case would sit outside every unit."""
    if not principal.sees_all and not refs:
        raise InvalidValueError(msg("accounts.case_needs_patch"), field="patches")
    return [patch_in_scope(store, principal, ref) for ref in refs]


def check_event_scope(store: Store, principal: Principal, event_id: int) -> None:
    villages = scope_villages(store, principal)
    if villages is None:
        return
    with store.engine.connect() as conn:
        code = repo.event_village(conn, event_id)
    if code not in villages:
        raise NotFoundError(msg("accounts.no_event", event=event_id))
