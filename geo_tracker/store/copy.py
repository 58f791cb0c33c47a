"""Copying a ledger's tables from one store into another, row for row with their ids (``geo-tracker move``).

The columns are reflected from both databases and those both have are copied (at one schema
revision they are the same). Values cross between the dialects in one plain form: ``bool``,
``date``, a timezone-aware UTC ``datetime``, JSON as text and geometries as WKB, so SpatiaLite's
integers and text and PostGIS's native types round-trip exactly. The source is read in chunks
of :data:`CHUNK_ROWS` in primary-key order (100 000 patches never sit in memory at once); the
target writes each chunk through its own ``bulk_insert`` (binary COPY on PostGIS, executemany
with one R*Tree fill on SpatiaLite), inside the caller's transaction.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timezone

import shapely
import sqlalchemy as sa
from sqlalchemy import Connection

from . import partitions
from .base import Store

#: Rows read and written at a time.
CHUNK_ROWS = 5_000

#: ``rewrite(columns)`` changes a chunk's values (column -> list, plain form) before they are written.
Rewrite = Callable[[dict[str, list]], None]
#: ``progress(table, rows_done, rows_total)`` after every chunk.
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class TablePlan:
    """How one table is copied: its columns (the target's order) and what kind of value each holds."""

    name: str
    columns: list[str]
    #: column -> ``bool``, ``date``, ``datetime``, ``json``, ``geometry`` or ``value`` (as it is).
    kinds: dict[str, str]
    #: Geometry columns -> kind (``MultiPolygon``, ``MultiLinestring``).
    geometry: dict[str, str]
    #: The primary key: the order rows are read in, and how a row is found again.
    key: list[str]
    #: Geometry the store's ``bulk_insert`` writes itself (``geom`` MULTIPOLYGON NOT NULL).
    bulk_geometry: list[str]
    #: Other geometry (``patrols.track``, nullable): set by key once its chunk's rows are in.
    later_geometry: list[str]
    #: References to a row of the same table (``events.voided_by`` points at a later event): set
    #: once all the table's rows are in.
    self_refs: list[str]

    @property
    def afterwards(self) -> list[str]:
        """Columns ``bulk_insert`` leaves out."""
        return self.later_geometry + self.self_refs


def _kind(type_) -> str:
    if isinstance(type_, sa.Boolean):
        return "bool"
    if isinstance(type_, sa.DateTime):
        return "datetime"
    if isinstance(type_, sa.Date):
        return "date"
    if isinstance(type_, sa.JSON):
        return "json"
    return "value"


def _reflect(conn: Connection, table: str):
    inspector = sa.inspect(conn)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sa.exc.SAWarning)  # "Did not recognize type 'geometry'": we know it
        columns = inspector.get_columns(table)
    return inspector, columns


def plan_table(sconn: Connection, tconn: Connection, table: str, target_geometry: dict[str, str]) -> TablePlan:
    """The plan for ``table``: the columns both databases have, typed as the target stores them."""
    source_names = {c["name"] for c in _reflect(sconn, table)[1]}
    inspector, columns = _reflect(tconn, table)
    columns = [c for c in columns if c["name"] in source_names]
    names = [c["name"] for c in columns]
    kinds = {c["name"]: "geometry" if c["name"] in target_geometry else _kind(c["type"]) for c in columns}
    key = inspector.get_pk_constraint(table)["constrained_columns"] or names
    bulk = [c["name"] for c in columns if c["name"] == "geom" and target_geometry.get("geom") == "MultiPolygon"
            and not c["nullable"]]
    self_refs = [column for fk in inspector.get_foreign_keys(table) if fk["referred_table"] == table
                 for column in fk["constrained_columns"]]
    later = [n for n in names if n in target_geometry and n not in bulk]
    return TablePlan(table, names, kinds, {n: k for n, k in target_geometry.items() if n in names}, key, bulk, later,
                     [n for n in self_refs if n in names])


def select_sql(source: Store, plan: TablePlan) -> str:
    """The SELECT that reads a table for copying: geometry as WKB, JSON as its text, in key order."""
    def read(column: str) -> str:
        if column in plan.geometry:
            return f"{source.geometry_as_wkb(column)} AS {column}"
        if plan.kinds[column] == "json":
            return f"CAST({column} AS TEXT) AS {column}"  # the stored text as it is (jsonb prints itself)
        return column
    return f"SELECT {', '.join(read(c) for c in plan.columns)} FROM {plan.name} ORDER BY {', '.join(plan.key)}"


# --- values in their plain form, then as the target binds them -------------------------------

def _as_bool(values) -> list:
    return [None if v is None else bool(v) for v in values]


def _as_date(values) -> list:
    return [v if v is None or type(v) is date else v.date() if isinstance(v, datetime)
            else date.fromisoformat(str(v)[:10]) for v in values]


def _as_datetime(values) -> list:
    """Aware UTC: SpatiaLite's text (with or without an offset, which is UTC) and PostGIS's datetimes.
    One import stamps all its rows alike, so each distinct value is converted once."""
    seen: dict = {}
    out = []
    for v in values:
        if v is not None:
            found = seen.get(v)
            if found is None:
                moment = datetime.fromisoformat(v) if isinstance(v, str) else v
                found = seen[v] = (moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None
                                   else moment.astimezone(timezone.utc))
            v = found
        out.append(v)
    return out


def _as_wkb(values) -> list:
    return [None if v is None else bytes(v) for v in values]


_PLAIN = {"bool": _as_bool, "date": _as_date, "datetime": _as_datetime, "geometry": _as_wkb}


def plain_chunk(plan: TablePlan, rows) -> dict[str, list]:
    """Rows as read from the source, column-wise in the plain form."""
    columns = list(zip(*rows)) if rows else [() for _ in plan.columns]
    return {name: _PLAIN.get(plan.kinds[name], list)(values) for name, values in zip(plan.columns, columns)}


def _bound(target: Store, plan: TablePlan, name: str, values: list) -> list:
    kind = plan.kinds[name]
    if kind == "datetime":
        seen: dict = {}
        return [None if v is None else seen[v] if v in seen else seen.setdefault(v, target.timestamp_param(v))
                for v in values]
    if name in plan.bulk_geometry:
        return list(shapely.from_wkb(values))
    return values


# --- copying -------------------------------------------------------------------------------

def clear(conn: Connection, tables: list[str]) -> None:
    """Empty ``tables``, children first: what ``init`` seeded (its own ledger id, the vocabulary)
    gives way to the ledger that moves in."""
    for table in reversed(tables):
        conn.execute(sa.text(f"DELETE FROM {table}"))


def copy_table(source: Store, sconn: Connection, target: Store, tconn: Connection, plan: TablePlan, *,
               chunk_rows: int = CHUNK_ROWS, rewrite: Rewrite | None = None, progress: Progress | None = None) -> int:
    """Copy every row of one table; returns how many. The target's generated ids continue after
    the largest copied one."""
    total = source.table_counts(sconn, [plan.name])[plan.name]
    references = {c: [] for c in plan.self_refs}
    done = 0
    result = sconn.execution_options(yield_per=chunk_rows).execute(sa.text(select_sql(source, plan)))
    for rows in result.partitions(chunk_rows):
        values = plain_chunk(plan, rows)
        if rewrite is not None:
            rewrite(values)
        target.bulk_insert(tconn, plan.name, {name: _bound(target, plan, name, v) for name, v in values.items()
                                              if name not in plan.afterwards})
        for column in plan.later_geometry:
            _set_afterwards(target, tconn, plan, column, _keyed(plan, values, column))
        for column in plan.self_refs:
            references[column] += _keyed(plan, values, column)
        done += len(rows)
        if progress is not None:
            progress(plan.name, done, total)
    for column, pairs in references.items():
        _set_afterwards(target, tconn, plan, column, pairs)
    target.after_explicit_ids(tconn, plan.name)
    return done


def _keyed(plan: TablePlan, values: dict[str, list], column: str) -> list[tuple[tuple, object]]:
    """(primary key, value) of the chunk's rows where ``column`` is not NULL."""
    keys = zip(*(values[k] for k in plan.key))
    return [(key, v) for key, v in zip(keys, values[column]) if v is not None]


def _set_afterwards(target: Store, conn: Connection, plan: TablePlan, column: str, pairs: list) -> None:
    """One executemany per column and chunk: a geometry through the target's WKB reader, a reference as it is."""
    value = target.geometry_from_wkb("v", plan.geometry[column]) if column in plan.geometry else ":v"
    where = " AND ".join(f"{k} = :k{i}" for i, k in enumerate(plan.key))
    statement = sa.text(f"UPDATE {plan.name} SET {column} = {value} WHERE {where}")
    for start in range(0, len(pairs), CHUNK_ROWS):
        conn.execute(statement, [{"v": v, **{f"k{i}": k for i, k in enumerate(key)}}
                                 for key, v in pairs[start:start + CHUNK_ROWS]])


def copy_tables(source: Store, sconn: Connection, target: Store, tconn: Connection, tables: list[str], *,
                chunk_rows: int = CHUNK_ROWS, rewrite: dict[str, Rewrite] | None = None,
                progress: Progress | None = None) -> dict[str, int]:
    """Empty ``tables`` on the target, then copy each from the source in the order given (parents
    before children). Returns the rows copied per table."""
    geometry = target.geometry_columns(tconn)
    clear(tconn, tables)
    for table, key in partitions.KEYS.items():   # each year's partition is there before its rows
        if table in tables and target.backend == "postgis":
            partitions.ensure(tconn, table, {int(y) for y in sconn.execute(sa.text(
                f"SELECT DISTINCT substr(CAST({key} AS TEXT), 1, 4) FROM {table} WHERE {key} IS NOT NULL")).scalars()})
    counts = {}
    with target.bulk_loading(tconn, tables):
        for table in tables:
            plan = plan_table(sconn, tconn, table, geometry.get(table, {}))
            counts[table] = copy_table(source, sconn, target, tconn, plan, chunk_rows=chunk_rows,
                                       rewrite=(rewrite or {}).get(table), progress=progress)
    return counts


def foreign_keys(conn: Connection, tables: list[str]) -> dict[str, set[str]]:
    """The tables each of ``tables`` refers to by a foreign key (itself left out)."""
    inspector = sa.inspect(conn)
    return {t: {fk["referred_table"] for fk in inspector.get_foreign_keys(t)} - {t} for t in tables}


def evidence_citations(conn: Connection, sha256s: list[str]) -> dict[str, list[str]]:
    """The patches (``batch/code``) whose events cite each evidence file, for a warning that names them."""
    found: dict[str, list[str]] = {}
    statement = sa.text(
        "SELECT DISTINCT b.name, p.patch_code FROM events e JOIN patches p ON p.lineage_id = e.patch_id AND p.is_current "
        "JOIN batches b ON b.id = p.batch_id WHERE CAST(e.payload AS TEXT) LIKE :pattern ORDER BY b.name, p.patch_code")
    for sha in sha256s:
        found[sha] = [f"{name}/{code}" for name, code in conn.execute(statement, {"pattern": f"%{sha}%"})]
    return found
