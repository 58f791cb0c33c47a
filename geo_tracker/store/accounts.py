"""Stored users, their admin units, API tokens and sessions (secrets are stored only as SHA-256)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import Connection

from .schema import api_tokens, sessions, user_units, users


def user_row(conn: Connection, *, username: str | None = None, user_id: int | None = None) -> dict | None:
    column, value = (users.c.username, username) if username is not None else (users.c.id, user_id)
    row = conn.execute(sa.select(users).where(column == value)).mappings().first()
    if row is None:
        return None
    units = conn.execute(sa.select(user_units.c.unit_code).where(user_units.c.user_id == row["id"])
                         .order_by(user_units.c.unit_code)).scalars().all()
    return {**row, "units": tuple(units)}


def all_users(conn: Connection) -> list[dict]:
    ids = conn.execute(sa.select(users.c.id).order_by(users.c.username)).scalars().all()
    return [user_row(conn, user_id=i) for i in ids]


def insert_user(conn: Connection, *, username: str, display_name: str | None, role: str, password_hash: str,
                units: Collection[str], created_at: datetime) -> int:
    user_id = conn.execute(sa.insert(users).values(
        username=username, display_name=display_name, role=role, password_hash=password_hash, disabled=False,
        created_at=created_at).returning(users.c.id)).scalar_one()
    for code in units:
        conn.execute(sa.insert(user_units).values(user_id=user_id, unit_code=code))
    return user_id


def update_user(conn: Connection, user_id: int, **values) -> None:
    conn.execute(sa.update(users).where(users.c.id == user_id).values(**values))


def end_sessions(conn: Connection, user_id: int) -> None:
    conn.execute(sa.delete(sessions).where(sessions.c.user_id == user_id))


def revoke_tokens(conn: Connection, user_id: int) -> int:
    """Revoke every API token of a user; returns how many were live."""
    return conn.execute(sa.update(api_tokens).where(api_tokens.c.user_id == user_id, sa.not_(api_tokens.c.revoked))
                        .values(revoked=True)).rowcount


def insert_token(conn: Connection, *, digest: str, user_id: int, name: str, created_at: datetime,
                 expires_at: datetime | None) -> None:
    conn.execute(sa.insert(api_tokens).values(token_sha256=digest, user_id=user_id, name=name,
                                              created_at=created_at, expires_at=expires_at, revoked=False))


def secret_holder(conn: Connection, kind: str, digest: str) -> tuple[dict, dict] | None:
    """(the API token's or session's row, its user's row with units), in one query: every
    request signed with a token or a session cookie asks this."""
    secret = {"token": api_tokens, "session": sessions}[kind]
    rows = conn.execute(
        sa.select(secret, *(c.label(f"user__{c.name}") for c in users.c), user_units.c.unit_code)
        .select_from(secret.join(users, users.c.id == secret.c.user_id)
                     .outerjoin(user_units, user_units.c.user_id == users.c.id))
        .where(secret.c.token_sha256 == digest).order_by(user_units.c.unit_code)).mappings().all()
    if not rows:
        return None
    first = rows[0]
    found = {c.name: first[c.name] for c in secret.c}
    user = {c.name: first[f"user__{c.name}"] for c in users.c}
    user["units"] = tuple(r["unit_code"] for r in rows if r["unit_code"] is not None)
    return found, user


def insert_session(conn: Connection, *, digest: str, user_id: int, csrf_token: str, created_at: datetime,
                   expires_at: datetime) -> None:
    conn.execute(sa.insert(sessions).values(token_sha256=digest, user_id=user_id, csrf_token=csrf_token,
                                            created_at=created_at, expires_at=expires_at))


def delete_session(conn: Connection, digest: str) -> None:
    conn.execute(sa.delete(sessions).where(sessions.c.token_sha256 == digest))


def delete_expired_sessions(conn: Connection, now: datetime) -> None:
    conn.execute(sa.delete(sessions).where(sessions.c.expires_at < now))


def unit_tree(conn: Connection) -> list[tuple[str, str | None, str]]:
    """(code, parent_code, level) of every admin unit version."""
    return [tuple(r) for r in conn.execute(sa.text("SELECT DISTINCT code, parent_code, level FROM admin_units"))]


def units_version(conn: Connection) -> tuple:
    return tuple(conn.execute(sa.text("SELECT count(*), max(id) FROM admin_units")).one())


def village_scope_sql(villages: Collection[str] | None, column: str = "m.village_code") -> tuple[str, dict]:
    """``AND column IN (...)`` for a user's villages; nothing when the user sees everything."""
    if villages is None:
        return "", {}
    if not villages:
        return " AND 1 = 0", {}
    names = {f"scope{i}": code for i, code in enumerate(sorted(villages))}
    return f" AND {column} IN ({', '.join(':' + n for n in names)})", names


def patches_named(conn: Connection, code: str, batch: str | None) -> list[tuple[str, str, str | None]]:
    """(batch, code, main village) of the current patches with that code (in that batch)."""
    where = " AND b.name = :batch" if batch else ""
    return [tuple(r) for r in conn.execute(sa.text(
        "SELECT b.name, p.patch_code, m.village_code FROM patches p JOIN batches b ON b.id = p.batch_id "
        f"LEFT JOIN patch_matches m ON m.patch_id = p.id WHERE p.is_current AND p.patch_code = :code{where}"),
        {"code": code, "batch": batch})]


def event_village(conn: Connection, event_id: int) -> str | None:
    """The main village of the current version of the event's patch."""
    return conn.execute(sa.text(
        "SELECT m.village_code FROM events e JOIN patches p ON p.lineage_id = e.patch_id AND p.is_current "
        "JOIN patch_matches m ON m.patch_id = p.id WHERE e.id = :id"), {"id": event_id}).scalar()
