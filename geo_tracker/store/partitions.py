"""Declarative partitioning on PostgreSQL: patches by the year their batch was issued, events by the
year they happened.

A country keeps ~10⁷ patches and 3·10⁷ events over the years; a year's partition is vacuumed,
indexed, archived or detached on its own. Events are partitioned by their own date, which is on the
row and never changes (the issue year of their patch is not, and every writer would have to look
it up); ``WHERE occurred_on <= :as_of``, the filter of every as-of figure, skips the later years.

PostgreSQL puts the partition key in every unique key (a batch's patch codes stay unique: a batch
has one issue date), so ``patches(id)`` and ``events(id)`` can no longer be referenced: the foreign
keys into them are dropped (the store writes those links, as a Citus distribution would require
too); the keys out of them to plain tables stay.

Each year has its partition (``patches_y2023``), made by :func:`ensure` before the year's first
rows are written, and there is no default partition: attaching a year then locks neither readers
nor writers (``ATTACH PARTITION`` takes SHARE UPDATE EXCLUSIVE on the parent, and a default
partition would have to be locked and scanned), and no year exists ahead of its rows (every
partition is planned and probed by each query that cannot name its year, a patch's events by its
id). Migration 0014 runs :func:`split` and :func:`merge`: change what they do only by adding new
functions. SpatiaLite's tables stay whole.
"""

from __future__ import annotations

import re

from sqlalchemy import Connection, text

from ..catalogue import msg
from ..errors import InvalidValueError

#: Partitioned table -> the date column whose year picks the partition.
KEYS = {"patches": "batch_issued_on", "events": "occurred_on"}

#: The foreign keys into the partitioned tables (table, column, referenced table), made again by :func:`merge`.
REFERENCES = [("events", "patch_id", "patches"), ("patch_matches", "patch_id", "patches"),
              ("patch_villages", "patch_id", "patches"), ("case_patches", "patch_id", "patches"),
              ("patch_relapses", "patch_id", "patches"), ("patch_relapses", "earlier_patch_id", "patches"),
              ("patrol_findings", "patch_id", "patches"), ("complaints", "patch_id", "patches"),
              ("imagery", "patch_id", "patches"), ("events", "voided_by", "events"),
              ("action_keys", "event_id", "events")]


def is_partitioned(conn: Connection, table: str) -> bool:
    return bool(conn.execute(text(
        "SELECT EXISTS (SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass(:t))"), {"t": table}).scalar())


def years_of(conn: Connection, table: str) -> set[int]:
    """The years that have their own partition of ``table``."""
    names = conn.execute(text(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = to_regclass(:t)"), {"t": table}).scalars()
    prefix = f"{table}_y"
    return {int(n[len(prefix):]) for n in names if n.startswith(prefix) and n[len(prefix):].isdigit()}


def ensure(conn: Connection, table: str, years) -> None:
    """Before writing rows of ``years`` to ``table`` (PostGIS): a partition for each year without one."""
    if conn.dialect.name != "postgresql" or not is_partitioned(conn, table):
        return
    wanted = {int(y) for y in years} - years_of(conn, table)
    if wanted:
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('geo_tracker.partitions'))"))
        for year in sorted(wanted - years_of(conn, table)):
            start, end = f"'{year}-01-01'", f"'{year + 1}-01-01'"
            conn.execute(text(f"CREATE TABLE {table}_y{year} (LIKE {table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"))
            conn.execute(text(f"ALTER TABLE {table} ATTACH PARTITION {table}_y{year} "
                              f"FOR VALUES FROM ({start}) TO ({end})"))


def split(conn: Connection, table: str) -> None:
    """Make ``table`` (one of :data:`KEYS`) partitioned by year, a partition for each year of its rows,
    keeping its rows, indexes, unique keys, keys to plain tables and views (a migration's step)."""
    key = KEYS[table]
    missing = conn.execute(text(f"SELECT count(*) FROM {table} WHERE {key} IS NULL")).scalar_one()
    if missing:
        raise InvalidValueError(msg("storage.partition_key_missing", table=table, column=key, count=missing))
    _drop_references(conn, table)
    years = conn.execute(text(f"SELECT DISTINCT CAST(extract(year FROM {key}) AS integer) FROM {table}")).scalars()
    _rebuild(conn, table, key, sorted(years))


def merge(conn: Connection) -> None:
    """Make the partitioned tables plain again, with the foreign keys into them (a migration's step back)."""
    for table in KEYS:
        _rebuild(conn, table, None, [])
    for source, column, target in REFERENCES:
        conn.execute(text(f"ALTER TABLE {source} ADD FOREIGN KEY ({column}) REFERENCES {target} (id)"))


def _drop_references(conn: Connection, table: str) -> None:
    """Drop the foreign keys that reference ``table`` (its own one to itself included)."""
    for owner, name in conn.execute(text(
            "SELECT conrelid::regclass::text, conname FROM pg_constraint "
            "WHERE contype = 'f' AND confrelid = to_regclass(:t) AND conparentid = 0"), {"t": table}).all():
        conn.execute(text(f'ALTER TABLE {owner} DROP CONSTRAINT "{name}"'))


def _rebuild(conn: Connection, table: str, key: str | None, years: list[int]) -> None:
    """Copy ``table`` into a new one partitioned by the year of ``key`` (None: plain), then drop the old:
    its rows, sequence, indexes, unique and foreign keys and the views over it come along."""
    old, parts = f"{table}_before_rebuild", KEYS[table]
    indexes, constraints, views = _dependents(conn, table)
    sequence = conn.execute(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table}).scalar_one()
    for view, _definition in views:
        conn.execute(text(f"DROP VIEW {view}"))
    conn.execute(text(f"ALTER TABLE {table} RENAME TO {old}"))
    by = f"PARTITION BY RANGE ({key})" if key else ""
    conn.execute(text(f"CREATE TABLE {table} (LIKE {old} INCLUDING DEFAULTS INCLUDING CONSTRAINTS) {by}"))
    conn.execute(text(f"ALTER SEQUENCE {sequence} OWNED BY {table}.id"))
    for year in years:
        conn.execute(text(f"CREATE TABLE {table}_y{year} PARTITION OF {table} "
                          f"FOR VALUES FROM ('{year}-01-01') TO ('{year + 1}-01-01')"))
    conn.execute(text(f"INSERT INTO {table} SELECT * FROM {old}"))
    conn.execute(text(f"DROP TABLE {old}"))
    conn.execute(text(f"ALTER TABLE {table} ADD PRIMARY KEY (id{', ' + key if key else ''})"))
    for definition in indexes:
        conn.execute(text(definition.replace(" ON ONLY ", " ON ", 1)))
    for name, definition, unique in constraints:
        conn.execute(text(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" '
                          f'{_keyed(definition, parts, key is not None) if unique else definition}'))
    for view, definition in views:
        conn.execute(text(f"CREATE VIEW {view} AS {definition}"))
    conn.execute(text(f"ANALYZE {table}"))


def _dependents(conn: Connection, table: str) -> tuple[list[str], list[tuple[str, str, bool]], list[tuple[str, str]]]:
    """(the secondary indexes that back no constraint, the unique and foreign keys, the views) of ``table``."""
    indexes = conn.execute(text(
        "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i WHERE i.indrelid = to_regclass(:t) "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid)"),
        {"t": table}).scalars().all()
    constraints = [(n, d, t == "u") for n, d, t in conn.execute(text(
        "SELECT conname, pg_get_constraintdef(oid), contype FROM pg_constraint "
        "WHERE contype IN ('u', 'f') AND conrelid = to_regclass(:t) AND conparentid = 0"), {"t": table}).all()]
    views = conn.execute(text(
        "SELECT DISTINCT v.oid::regclass::text, pg_get_viewdef(v.oid) FROM pg_depend d "
        "JOIN pg_rewrite r ON r.oid = d.objid JOIN pg_class v ON v.oid = r.ev_class "
        "WHERE d.classid = 'pg_rewrite'::regclass AND d.refobjid = to_regclass(:t) AND v.oid <> d.refobjid"),
        {"t": table}).all()
    return indexes, constraints, views


def _keyed(definition: str, key: str, partitioned: bool) -> str:
    """A unique key's definition for the table made partitioned (it takes the partition key) or plain again."""
    if partitioned:
        return re.sub(r"\)$", f", {key})", definition, count=1)
    return definition.replace(f", {key})", ")")
