"""Each patch's whole current state kept on its row: rectified area (整改面积), rectified 耕地,
the verification (核查结论) and the linked cases, beside the status already kept.

Every recorded event writes them in its own transaction, folded by the same rule as the
history (``core.lifecycle.fold``); listings, OGC pages, sorting and filters then read
columns instead of folding events per request. This migration folds the existing events
once, in lineage ranges, so a province's database is migrated in bounded memory.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

import json

import pandas as pd
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from geo_tracker.core.lifecycle import LIFECYCLE_EVENTS, fold
from geo_tracker.store.migrations.spatial import create_spatial_view, drop_spatial_view

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

#: Lineages folded per step of the backfill.
CHUNK = 20_000
_events = sa.table("events", sa.column("id", sa.Integer), sa.column("patch_id", sa.Integer),
                   sa.column("kind", sa.String), sa.column("occurred_on", sa.Date),
                   sa.column("recorded_at", sa.DateTime(timezone=True)), sa.column("payload", sa.JSON),
                   sa.column("voided_by", sa.Integer))
_patches = sa.table("patches", sa.column("lineage_id", sa.Integer), sa.column("area_mu", sa.Float),
                    sa.column("is_current", sa.Boolean))


def _view(dialect: str, with_state: bool) -> str:
    if with_state:
        rectified = "p.rectified_mu, p.rectified_cultivated_mu, p.verified,"
        joined = ""
    else:
        area = ("CAST(json_extract(e.payload, '$.area_mu') AS REAL)" if dialect == "sqlite"
                else "CAST(e.payload ->> 'area_mu' AS DOUBLE PRECISION)")
        smaller = "MIN" if dialect == "sqlite" else "LEAST"
        rectified = f"{smaller}(coalesce(r.rectified_mu, 0), p.area_mu) AS rectified_mu,"
        joined = (f"LEFT JOIN (SELECT e.patch_id, SUM({area}) AS rectified_mu FROM events e "
                  "WHERE e.kind = 'rectified' AND e.voided_by IS NULL GROUP BY e.patch_id) r "
                  "ON r.patch_id = p.lineage_id")
    return f"""
    SELECT p.id, p.patch_code, b.name AS batch, b.source, p.status, p.status_on,
      p.area_mu, p.issued_area_mu, p.cultivated_mu, p.forest_mu, {rectified}
      m.village_code, m.village_name, coalesce(p.deadline, b.deadline) AS deadline,
      p.version, p.geom
    FROM patches p
    JOIN batches b ON b.id = p.batch_id
    LEFT JOIN patch_matches m ON m.patch_id = p.id
    {joined}
    WHERE p.is_current AND NOT p.withdrawn"""


def _payload(value) -> dict:
    return json.loads(value) if isinstance(value, str) else (value or {})


def _fold_range(conn, low: int, high: int) -> list[dict]:
    """The folded state of the current rows of lineages ``low``..``high`` that have lifecycle events."""
    rows = conn.execute(sa.select(_events.c.id, _events.c.patch_id, _events.c.kind, _events.c.occurred_on,
                                  _events.c.recorded_at, _events.c.payload, _events.c.voided_by)
                        .where(_events.c.patch_id.between(low, high),
                               _events.c.kind.in_(LIFECYCLE_EVENTS))).all()
    if not rows:
        return []
    events = pd.DataFrame(rows, columns=["id", "patch", "kind", "occurred_on", "recorded_at", "payload", "voided_by"])
    events["payload"] = [_payload(p) for p in events["payload"]]
    events["voided_by"] = events["voided_by"].astype("float")
    areas = conn.execute(sa.select(_patches.c.lineage_id, _patches.c.area_mu)
                         .where(_patches.c.lineage_id.in_(sorted(set(events["patch"]))), _patches.c.is_current)).all()
    frame = pd.DataFrame(areas, columns=["patch", "area_mu"]).assign(issued_on=None)
    state = fold(events, frame)
    return [{"l": int(s.patch), "r": float(s.rectified_mu), "c": float(s.rectified_cultivated_mu),
             "v": s.verified, "n": json.dumps(list(s.case_numbers), ensure_ascii=False)}
            for s in state.itertuples()]


def _backfill() -> None:
    conn = op.get_bind()
    lineages = [r[0] for r in conn.execute(sa.select(_events.c.patch_id).distinct()
                                           .where(_events.c.kind.in_(LIFECYCLE_EVENTS),
                                                  _events.c.patch_id.is_not(None))
                                           .order_by(_events.c.patch_id))]
    cast = "CAST(:n AS JSONB)" if conn.dialect.name == "postgresql" else ":n"
    update = sa.text("UPDATE patches SET rectified_mu = :r, rectified_cultivated_mu = :c, verified = :v, "
                     f"case_numbers = {cast} WHERE lineage_id = :l AND is_current")
    for start in range(0, len(lineages), CHUNK):
        chunk = lineages[start:start + CHUNK]
        states = _fold_range(conn, chunk[0], chunk[-1])
        if states:
            conn.execute(update, states)


def upgrade() -> None:
    json_type = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    op.add_column("patches", sa.Column("rectified_mu", sa.Float, nullable=False, server_default="0"))
    op.add_column("patches", sa.Column("rectified_cultivated_mu", sa.Float, nullable=False, server_default="0"))
    op.add_column("patches", sa.Column("verified", sa.String(16)))
    op.add_column("patches", sa.Column("case_numbers", json_type, nullable=False, server_default="[]"))
    _backfill()
    dialect = op.get_bind().dialect.name
    drop_spatial_view("current_patches")
    create_spatial_view("current_patches", _view(dialect, with_state=True))
    op.create_index("ix_patches_current_rectified", "patches", ["rectified_mu"],
                    postgresql_where=sa.text("is_current AND NOT withdrawn"),
                    sqlite_where=sa.text("is_current AND NOT withdrawn"))


def downgrade() -> None:
    op.drop_index("ix_patches_current_rectified", "patches")
    drop_spatial_view("current_patches")
    create_spatial_view("current_patches", _view(op.get_bind().dialect.name, with_state=False))
    for column in ("case_numbers", "verified", "rectified_cultivated_mu", "rectified_mu"):
        op.drop_column("patches", column)
