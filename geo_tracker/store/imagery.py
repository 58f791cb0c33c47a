"""Imagery layers (影像) as rows: one per kept file, with its footprint (EPSG:4490)."""

from __future__ import annotations

import shapely
import sqlalchemy as sa
from sqlalchemy import Connection

from .admin_units import as_date
from .base import Store
from .schema import imagery

COLUMNS = [c.name for c in imagery.columns]


def add(conn: Connection, store: Store, values: dict, footprint) -> int:
    """Record a kept imagery file and its footprint (MultiPolygon, EPSG:4490)."""
    imagery_id = conn.execute(sa.insert(imagery).values(**values).returning(imagery.c.id)).scalar_one()
    conn.execute(sa.text(f"UPDATE imagery SET geom = {store.geometry_from_wkb('w')} WHERE id = :id"),
                 {"w": shapely.to_wkb(footprint), "id": imagery_id})
    return imagery_id


def rows(conn: Connection, store: Store, *, ids=None) -> list[dict]:
    """Every imagery row (or those of ``ids``) with its footprint, newest image first."""
    if ids is not None and not ids:
        return []
    where = f"WHERE i.id IN ({', '.join(str(int(i)) for i in ids)})" if ids is not None else ""
    found = conn.execute(sa.text(
        f"SELECT {', '.join('i.' + c for c in COLUMNS)}, {store.geometry_as_wkb('i.geom')} AS footprint, "
        "p.lineage_id, b.name AS batch, p.patch_code FROM imagery i LEFT JOIN patches p ON p.id = i.patch_id "
        f"LEFT JOIN batches b ON b.id = p.batch_id {where} ORDER BY i.acquired_on DESC, i.id DESC")).mappings().all()
    return [{**dict(r), "acquired_on": as_date(r["acquired_on"]), "footprint": shapely.from_wkb(bytes(r["footprint"]))}
            for r in found]


def same_content(conn: Connection, source_sha256: str) -> list[dict]:
    """Rows kept from a file of this content (the same image imported before)."""
    return [{**r, "acquired_on": as_date(r["acquired_on"])} for r in conn.execute(sa.select(imagery.c.id, imagery.c.name, imagery.c.acquired_on,
                                                    imagery.c.label, imagery.c.patch_id, imagery.c.imported_at,
                                                    imagery.c.imported_by)
                                          .where(imagery.c.source_sha256 == source_sha256)).mappings()]


def uses_of_file(conn: Connection, sha256: str) -> int:
    return conn.execute(sa.select(sa.func.count()).select_from(imagery).where(imagery.c.sha256 == sha256)).scalar_one()


def remove(conn: Connection, imagery_id: int) -> None:
    conn.execute(sa.delete(imagery).where(imagery.c.id == imagery_id))


def version(conn: Connection) -> tuple:
    """Changes with every import and removal: what a cached list of layers is checked against."""
    return tuple(conn.execute(sa.text("SELECT count(*), max(id), sum(id) FROM imagery")).one())


def unit_geometries(conn: Connection, store: Store, codes) -> list:
    """The current outlines of the admin units ``codes`` (EPSG:4490)."""
    codes = sorted(codes)
    if not codes:
        return []
    names = {f"u{i}": c for i, c in enumerate(codes)}
    found = conn.execute(sa.text(
        f"SELECT {store.geometry_as_wkb('geom')} FROM admin_units WHERE valid_to IS NULL "
        f"AND code IN ({', '.join(':' + n for n in names)})"), names).scalars().all()
    return list(shapely.from_wkb([bytes(g) for g in found]))


def stored_files(conn: Connection) -> list[tuple[str, str]]:
    """(sha256, stored_path) of every kept imagery file, once each, in sha256 order (none in a
    database older than imagery, which a backup may be taken of)."""
    if not sa.inspect(conn).has_table("imagery"):
        return []
    return [(sha, path) for sha, path in conn.execute(
        sa.select(imagery.c.sha256, sa.func.min(imagery.c.stored_path)).group_by(imagery.c.sha256)
        .order_by(imagery.c.sha256))]


def relocate(conn: Connection, sha256: str, path: str) -> None:
    """Where an imagery file is kept now (after a restore or a move onto another folder)."""
    conn.execute(sa.update(imagery).where(imagery.c.sha256 == sha256).values(stored_path=path))
