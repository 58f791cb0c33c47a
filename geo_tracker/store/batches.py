"""Reading and writing batches, their imports and their patches (set-based)."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone

import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa
from sqlalchemy import Connection

from ..core.values import plain
from . import partitions
from .admin_units import as_date
from .base import Store
from .schema import batch_imports, batches, events, patches


def decode_json(value):
    """A JSON column's value: SQLite returns the text, PostgreSQL (jsonb) the parsed value."""
    return json.loads(value) if isinstance(value, str) else value


def patch_attrs(conn: Connection, ids: list[int]) -> dict[int, dict]:
    """The bureau's own attributes of the given patch rows, by id."""
    attrs: dict[int, dict] = {}
    for start in range(0, len(ids), 5000):
        listed = ", ".join(str(int(i)) for i in ids[start:start + 5000])
        for pid, value in conn.execute(sa.text(f"SELECT id, attrs FROM patches WHERE id IN ({listed})")):
            attrs[pid] = decode_json(value) or {}
    return attrs


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


def find_import_by_sha256(conn: Connection, sha256: str, prefer: tuple[str, str] | None = None):
    """The earlier import of this content; one into batch ``prefer`` (source, name) first."""
    first = sa.literal(0) if prefer is None else sa.case(
        ((batches.c.source == prefer[0]) & (batches.c.name == prefer[1]), 0), else_=1)
    query = (
        sa.select(batch_imports.c.id, batch_imports.c.imported_at, batch_imports.c.file_name,
                  batch_imports.c.accepted, batch_imports.c.imported_by,
                  batches.c.id.label("batch_id"), batches.c.name, batches.c.source)
        .join(batches, batches.c.id == batch_imports.c.batch_id)
        .where(batch_imports.c.file_sha256 == sha256)
        .order_by(first, batch_imports.c.id)
    )
    return conn.execute(query).first()


def find_batch(conn: Connection, source: str | None, name: str):
    query = sa.select(batches).where(batches.c.name == name)
    if source:
        query = query.where(batches.c.source == source)
    return conn.execute(query.order_by(batches.c.id)).all()


def create_batch(conn: Connection, source: str, name: str, issued_on: date, deadline: date | None) -> int:
    return conn.execute(
        sa.insert(batches).values(source=source, name=name, issued_on=issued_on, deadline=deadline,
                                  created_at=now_utc()).returning(batches.c.id)
    ).scalar_one()


def update_batch_deadline(conn: Connection, batch_id: int, deadline: date | None) -> None:
    if deadline is not None:
        conn.execute(
            sa.update(batches).where(batches.c.id == batch_id)
            .values(deadline=deadline, row_version=batches.c.row_version + 1)
        )


def current_patches(conn: Connection, batch_id: int) -> pd.DataFrame:
    """The current, not withdrawn version of every patch in a batch."""
    columns = ["id", "patch_code", "version", "fingerprint", "status", "status_on", "lineage_id", "deadline",
               "issued_area_mu", "area_mu", "rectified_mu", "rectified_cultivated_mu", "verified", "case_numbers"]
    query = sa.select(*(patches.c[c] for c in columns)).where(
        patches.c.batch_id == batch_id, patches.c.is_current, sa.not_(patches.c.withdrawn))
    frame = pd.DataFrame(conn.execute(query).all(), columns=columns)
    frame["case_numbers"] = [decode_json(c) or [] for c in frame["case_numbers"]]
    return frame


def insert_import(conn: Connection, **values) -> int:
    values.setdefault("imported_at", now_utc())
    return conn.execute(sa.insert(batch_imports).values(**values).returning(batch_imports.c.id)).scalar_one()


def finish_import(conn: Connection, import_id: int, *, accepted: int, area_mu: float, report: dict) -> None:
    conn.execute(sa.update(batch_imports).where(batch_imports.c.id == import_id)
                 .values(accepted=accepted, area_mu=area_mu, report=report))


def max_patch_id(conn: Connection) -> int:
    return conn.execute(sa.select(sa.func.coalesce(sa.func.max(patches.c.id), 0))).scalar_one()


def patch_ids_since(conn: Connection, import_id: int, after_id: int) -> pd.DataFrame:
    """Ids and codes of the patches this import wrote after ``after_id``."""
    query = sa.select(patches.c.id, patches.c.patch_code).where(
        patches.c.import_id == import_id, patches.c.id > after_id).order_by(patches.c.id)
    return pd.DataFrame(conn.execute(query).all(), columns=["id", "patch_code"])


def current_patches_near(conn: Connection, store: Store, geoms, exclude_batch: int | None,
                         cell_deg: float = 0.5) -> pd.DataFrame:
    """Current patches of other batches near ``geoms`` (duplicate and relapse candidates).

    The geometries are grouped by a grid cell of ``cell_deg`` and each group's box is
    asked of the spatial index, so a province-wide chunk does not read the whole country.
    """
    columns = ["id", "lineage_id", "patch_code", "status", "batch", "source", "geom"]
    geoms = np.asarray(geoms, dtype=object)
    if not len(geoms):
        return pd.DataFrame(columns=columns)
    bounds = shapely.bounds(geoms)
    cells = np.floor(bounds[:, :2] / cell_deg).astype(np.int64)
    found: dict[int, tuple] = {}
    query = sa.text(
        f"SELECT p.id, p.lineage_id, p.patch_code, p.status, b.name AS batch, b.source, "
        f"{store.geometry_as_wkb('p.geom')} AS wkb FROM patches p JOIN batches b ON b.id = p.batch_id "
        "WHERE p.is_current AND NOT p.withdrawn AND p.batch_id <> :batch "
        f"AND {store.bbox_condition('patches', 'p')}")
    for cell in np.unique(cells, axis=0):
        box = bounds[(cells == cell).all(axis=1)]
        xmin, ymin = box[:, 0].min(), box[:, 1].min()
        xmax, ymax = box[:, 2].max(), box[:, 3].max()
        for r in conn.execute(query, {"xmin": float(xmin), "ymin": float(ymin), "xmax": float(xmax),
                                      "ymax": float(ymax), "batch": exclude_batch or -1}):
            found[r.id] = (r.id, r.lineage_id, r.patch_code, r.status, r.batch, r.source, bytes(r.wkb))
    rows = sorted(found.values())
    frame = pd.DataFrame([r[:6] for r in rows], columns=columns[:6])
    frame["geom"] = shapely.from_wkb([r[6] for r in rows]) if rows else []
    return frame


def main_villages(conn: Connection, ids: list[int]) -> dict[int, str | None]:
    """The main village code of each given patch row (its match), by id."""
    found: dict[int, str | None] = {}
    for start in range(0, len(ids), 5000):
        listed = ", ".join(str(int(i)) for i in ids[start:start + 5000])
        found.update(conn.execute(sa.text(
            f"SELECT patch_id, village_code FROM patch_matches WHERE patch_id IN ({listed})")).all())
    return found


def stored_shapes(conn: Connection, store: Store, ids: list[int]) -> dict[int, object]:
    """Geometry of the given patch rows, by id."""
    shapes: dict[int, object] = {}
    for start in range(0, len(ids), 5000):
        listed = ", ".join(str(int(i)) for i in ids[start:start + 5000])
        rows = conn.execute(sa.text(
            f"SELECT id, {store.geometry_as_wkb('geom')} FROM patches WHERE id IN ({listed})")).all()
        shapes.update(zip([r[0] for r in rows], shapely.from_wkb([bytes(r[1]) for r in rows])))
    return shapes


def rectified_mu_of(conn: Connection, store: Store, lineage_ids: list[int]) -> dict[int, float]:
    """Recorded rectified area (亩, events not voided) per patch lineage."""
    if not lineage_ids:
        return {}
    listed = ", ".join(str(int(i)) for i in lineage_ids)
    return {pid: float(total or 0.0) for pid, total in conn.execute(sa.text(
        f"SELECT patch_id, SUM({store.json_number('payload', 'area_mu')}) FROM events "
        f"WHERE kind = 'rectified' AND voided_by IS NULL AND patch_id IN ({listed}) GROUP BY patch_id"))}


def delete_import_rows(conn: Connection, import_id: int, codes: list[str]) -> dict[str, float]:
    """Remove rows this (unfinished) import wrote for ``codes``; return their summed figures."""
    if not codes:
        return {"accepted": 0, "area_mu": 0.0, "issued_area_mu": 0.0, "cultivated_mu": 0.0}
    rows = sa.select(patches.c.id).where(patches.c.import_id == import_id, patches.c.patch_code.in_(codes))
    sums = conn.execute(sa.select(
        sa.func.count(), sa.func.coalesce(sa.func.sum(patches.c.area_mu), 0.0),
        sa.func.coalesce(sa.func.sum(patches.c.issued_area_mu), 0.0),
        sa.func.coalesce(sa.func.sum(patches.c.cultivated_mu), 0.0),
    ).where(patches.c.id.in_(rows))).one()
    for table in ("patch_matches", "patch_villages", "patch_relapses"):
        conn.execute(sa.text(f"DELETE FROM {table} WHERE patch_id IN "
                             "(SELECT id FROM patches WHERE import_id = :i AND patch_code IN :codes)")
                     .bindparams(sa.bindparam("codes", expanding=True)), {"i": import_id, "codes": codes})
    conn.execute(sa.delete(patches).where(patches.c.id.in_(rows)))
    return {"accepted": int(sums[0]), "area_mu": float(sums[1]), "issued_area_mu": float(sums[2]),
            "cultivated_mu": float(sums[3])}


def lineage_of(conn: Connection, ids: list[int]) -> dict[int, int]:
    if not ids:
        return {}
    listed = ", ".join(str(int(i)) for i in ids)
    return dict(conn.execute(sa.text(f"SELECT id, lineage_id FROM patches WHERE id IN ({listed})")).all())


def insert_relapses(conn: Connection, pairs: list[tuple[int, int, float]]) -> None:
    if pairs:
        conn.execute(sa.text("INSERT INTO patch_relapses (patch_id, earlier_patch_id, overlap_share, detected_at) "
                             "VALUES (:p, :e, :s, :t)"),
                     [{"p": p, "e": e, "s": s, "t": now_utc()} for p, e, s in pairs])


def insert_patches(store: Store, conn: Connection, frame: pd.DataFrame) -> None:
    """Bulk-insert patch rows; ``frame`` has the patches columns and ``geom`` (shapely).

    Ids are reserved first, so a first version's lineage (its own id) is written with
    the row instead of by an UPDATE of every new row afterwards.
    """
    ids = np.asarray(store.reserve_ids(conn, "patches", len(frame)), dtype=np.int64)
    frame = frame.assign(id=ids, batch_issued_on=_batch_issued_on(conn, frame))
    partitions.ensure(conn, "patches", {d.year for d in frame["batch_issued_on"]})
    if "lineage_id" in frame:
        known = frame["lineage_id"]
        frame["lineage_id"] = np.where(known.isna().to_numpy(), ids, known.fillna(0).to_numpy(dtype=np.int64))
    else:
        frame["lineage_id"] = ids
    store.bulk_insert(conn, "patches", {c: plain(frame[c]) for c in frame.columns})


def _batch_issued_on(conn: Connection, frame: pd.DataFrame) -> list:
    """Each row's batch's issue date (its partition's key)."""
    dates = {int(b): as_date(conn.execute(sa.text("SELECT issued_on FROM batches WHERE id = :b"), {"b": int(b)}
                                          ).scalar_one()) for b in set(frame["batch_id"])}
    return [dates[int(b)] for b in frame["batch_id"]]


def supersede(conn: Connection, patch_ids: list[int], when: datetime) -> None:
    if patch_ids:
        conn.execute(
            sa.update(patches).where(patches.c.id == sa.bindparam("pid"))
            .values(is_current=False, superseded_at=when, row_version=patches.c.row_version + 1),
            [{"pid": int(i)} for i in patch_ids],
        )


def withdraw(conn: Connection, patch_ids: list[int]) -> None:
    if patch_ids:
        conn.execute(
            sa.update(patches).where(patches.c.id == sa.bindparam("pid"))
            .values(withdrawn=True, row_version=patches.c.row_version + 1),
            [{"pid": int(i)} for i in patch_ids],
        )


def record_import_events(conn: Connection, *, batch_id: int, import_id: int, occurred_on: date,
                         withdrawn_ids: list[int], payload: dict) -> None:
    """One event for the import and one per existing patch it re-issued or withdrew (set-based).

    A new patch needs no event of its own: its issue is its import
    (``patches.import_id`` -> ``batch_imports.issued_on``), already recorded once.
    """
    recorded = now_utc()
    partitions.ensure(conn, "events", [occurred_on.year])
    conn.execute(sa.insert(events).values(
        kind="batch_imported", occurred_on=occurred_on, recorded_at=recorded, batch_id=batch_id,
        payload=payload,
    ))
    reissued = sa.select(
        sa.literal("reissued"), sa.literal(occurred_on, sa.Date),
        sa.literal(recorded, sa.DateTime(timezone=True)), patches.c.batch_id, patches.c.lineage_id,
        sa.literal({"import_id": import_id}, events.c.payload.type),
    ).where(patches.c.import_id == import_id, patches.c.version > 1)
    conn.execute(sa.insert(events).from_select(
        ["kind", "occurred_on", "recorded_at", "batch_id", "patch_id", "payload"], reissued
    ))
    if withdrawn_ids:
        conn.execute(sa.insert(events), [
            {"kind": "withdrawn", "occurred_on": occurred_on, "recorded_at": recorded,
             "batch_id": batch_id, "patch_id": int(i), "payload": {"import_id": import_id}}
            for i in withdrawn_ids
        ])


def reference_geometry(conn: Connection, store: Store):
    """Union of the current admin units (EPSG:4490), or None when none are loaded."""
    rows = conn.execute(sa.text(
        f"SELECT {store.geometry_as_wkb('geom')} FROM admin_units WHERE valid_to IS NULL"
    )).scalars().all()
    if not rows:
        return None
    return shapely.union_all(shapely.from_wkb([bytes(r) for r in rows]))


def _in_scope(query, villages):
    """Limit a query over ``patches`` to patches whose main village is listed (None: no limit)."""
    if villages is None:
        return query
    return query.where(patches.c.id.in_(
        sa.select(_matches.c.patch_id).where(_matches.c.village_code.in_(list(villages) or ["-"]))))


_matches = sa.table("patch_matches", sa.column("patch_id"), sa.column("village_code"))


def list_batches(conn: Connection, villages=None) -> list[dict]:
    """Every batch with its current patch count and area, newest first; with ``villages``, only
    the batches with a patch there, counted within them."""
    stats = _in_scope(
        sa.select(
            patches.c.batch_id,
            sa.func.count().label("patches"),
            sa.func.sum(sa.case((patches.c.withdrawn, 1), else_=0)).label("withdrawn"),
            sa.func.sum(sa.case((patches.c.withdrawn, 0.0), else_=patches.c.area_mu)).label("area_mu"),
            sa.func.sum(sa.case((patches.c.withdrawn, 0.0), else_=patches.c.issued_area_mu)).label("issued_area_mu"),
            sa.func.sum(sa.case((patches.c.withdrawn, 0.0), else_=patches.c.cultivated_mu)).label("cultivated_mu"),
        )
        .where(patches.c.is_current), villages).group_by(patches.c.batch_id).subquery()
    imports = (
        sa.select(batch_imports.c.batch_id, sa.func.count().label("imports"),
                  sa.func.max(batch_imports.c.imported_at).label("last_import"))
        .group_by(batch_imports.c.batch_id).subquery()
    )
    # A scoped user sees only batches with a patch of theirs: names, files and counts of the
    # others' deliveries are not theirs to see.
    joined = sa.select(batches, stats.c.patches, stats.c.withdrawn, stats.c.area_mu, stats.c.issued_area_mu,
                       stats.c.cultivated_mu, imports.c.imports, imports.c.last_import)
    joined = joined.outerjoin(stats, stats.c.batch_id == batches.c.id) if villages is None else \
        joined.join(stats, stats.c.batch_id == batches.c.id)
    query = (
        joined
        .outerjoin(imports, imports.c.batch_id == batches.c.id)
        .order_by(batches.c.issued_on.desc(), batches.c.id.desc())
    )
    out = []
    for row in conn.execute(query).mappings():
        item = dict(row)
        total = item.pop("patches") or 0
        withdrawn_n = item["withdrawn"] or 0
        item["patches"] = total - withdrawn_n
        item["withdrawn"] = withdrawn_n
        for key in ("area_mu", "issued_area_mu", "cultivated_mu"):
            item[key] = float(item[key] or 0.0)
        item["imports"] = item["imports"] or 0
        out.append(item)
    return out


def batch_imports_of(conn: Connection, batch_id: int, villages=None) -> list[dict]:
    """The imports of a batch; with ``villages``, only those that wrote a patch there."""
    query = sa.select(batch_imports).where(batch_imports.c.batch_id == batch_id).order_by(batch_imports.c.id)
    if villages is not None:
        query = query.where(batch_imports.c.id.in_(_in_scope(sa.select(patches.c.import_id), villages)))
    return [dict(r) for r in conn.execute(query).mappings()]


def patches_of(conn: Connection, batch_id: int, villages=None) -> list[dict]:
    query = _in_scope(
        sa.select(patches.c.patch_code, patches.c.version, patches.c.status, patches.c.withdrawn,
                  patches.c.area_mu, patches.c.issued_area_mu, patches.c.cultivated_mu, patches.c.flags,
                  patches.c.feature_no)
        .where(patches.c.batch_id == batch_id, patches.c.is_current), villages).order_by(patches.c.patch_code)
    return [dict(r) for r in conn.execute(query).mappings()]

