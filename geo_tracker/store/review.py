"""Review policies (审核规则) per source: which levels review a submission before 销号."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import Connection

from ..core.review import parse_levels
from .accounts import village_scope_sql
from .batches import decode_json, now_utc
from .schema import review_policies


def policy(conn: Connection, source: str) -> dict | None:
    row = conn.execute(sa.select(review_policies).where(review_policies.c.source == source)).mappings().first()
    return None if row is None else dict(row)


def policies(conn: Connection) -> list[dict]:
    return [dict(r) for r in conn.execute(sa.select(review_policies).order_by(review_policies.c.source)).mappings()]


def set_policy(conn: Connection, source: str, levels: str, review_days: int, user: str) -> None:
    """Insert or replace the policy of ``source``; ``levels`` empty means no review."""
    conn.execute(sa.delete(review_policies).where(review_policies.c.source == source))
    conn.execute(sa.insert(review_policies).values(source=source, levels=levels, review_days=review_days,
                                                   updated_at=now_utc(), updated_by=user))


def levels(conn: Connection, source: str) -> tuple[str, ...]:
    """The levels that review ``source``'s submissions; () when the township closes by itself."""
    found = policy(conn, source)
    return parse_levels(found["levels"]) if found else ()


def return_reasons(conn: Connection, source: str, as_of, *, villages=None, year: int | None = None
                   ) -> list[list[str]]:
    """The reason codes of every return (not voided) up to ``as_of`` of a source's patches, those
    in ``villages`` (a township's report) and issued in ``year`` when given."""
    scope, params = village_scope_sql(villages)
    issued = " AND substr(CAST(b.issued_on AS TEXT), 1, 4) = :year" if year else ""
    rows = conn.execute(sa.text(
        "SELECT e.payload FROM events e JOIN patches p ON p.lineage_id = e.patch_id AND p.is_current "
        "JOIN batches b ON b.id = p.batch_id LEFT JOIN patch_matches m ON m.patch_id = p.id "
        "WHERE e.kind = 'review_returned' AND e.voided_by IS NULL AND b.source = :source AND e.occurred_on <= :d"
        f"{scope}{issued} ORDER BY e.occurred_on, e.id"),
        {"source": source, "d": as_of, "year": str(year) if year else None, **params}).scalars()
    return [list((decode_json(payload) or {}).get("reason_codes") or []) for payload in rows]
