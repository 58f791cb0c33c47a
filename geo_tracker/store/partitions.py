"""Declarative partitioning on PostgreSQL: patches by the year their batch was issued, events by the year they happened.

A country keeps ~10⁷ patches and 3·10⁷ events over the years; a year's partition is vacuumed,
indexed, archived or detached on its own, and a query for one year's batches reads one partition.
Events are partitioned by their own date, which is on the row and never changes (the issue year of
their patch is not, and every writer would have to look it up); ``WHERE occurred_on <= :as_of``, the
filter of every as-of figure, skips the later years.

PostgreSQL puts the partition key in every unique key (a batch's patch codes stay unique: a batch has
one issue date), so ``patches(id)`` and ``events(id)`` can no longer be referenced: the foreign keys into them are dropped (the store writes those links, as a
Citus distribution would require too) and the keys out of them to plain tables stay. Each year has
its partition (``patches_y2023``), made by :func:`ensure` before the year's first rows are written;
a row of a year without one (copied in bulk) lands in the default partition (``patches_other``)
and :func:`settle` gives that year its partition, rows and all. SpatiaLite's
tables stay whole.
"""

from __future__ import annotations

import re

from sqlalchemy import Connection, text

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


def split(conn: Connection, table: str, years) -> None:
    """Make ``table`` (one of :data:`KEYS`) partitioned by year, with a partition for each of ``years``
    and the default one, keeping its rows, indexes and keys to plain tables (a migration's step)."""
    key = KEYS[table]
    _drop_references(conn, table)
    _rebuild(conn, table, f"PARTITION BY RANGE ({key})", f"(id, {key})")
    for year in sorted(set(years)):
        _attach(conn, table, year)


def merge(conn: Connection) -> None:
    """Make the partitioned tables plain again, with the foreign keys into them (a migration's step back)."""
    for table in KEYS:
        _rebuild(conn, table, "", "(id)")
    for source, column, target in REFERENCES:
        conn.execute(text(f"ALTER TABLE {source} ADD FOREIGN KEY ({column}) REFERENCES {target} (id)"))


def ensure(conn: Connection, table: str, years) -> None:
    """Before writing rows of ``years`` to ``table``: a partition for each, so the rows go straight
    to it (rows moved out of the default partition later leave it dead tuples to vacuum)."""
    if conn.dialect.name != "postgresql" or not is_partitioned(conn, table):
        return
    wanted = {int(y) for y in years} - years_of(conn, table)
    if wanted:
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('geo_tracker.partitions'))"))
        for year in sorted(wanted - years_of(conn, table)):
            _attach(conn, table, year)


def settle(conn: Connection) -> None:
    """Give each year found in a default partition its own partition, moving its rows there (after
    rows were copied in bulk, whatever their years). No year is made ahead of its rows: every
    partition, even an empty one, is planned and probed by each query that cannot name its year
    (a patch's events by its id)."""
    if conn.dialect.name != "postgresql" or not is_partitioned(conn, "events"):
        return
    found = conn.execute(text(" UNION ".join(
        f"SELECT DISTINCT '{table}' AS t, CAST(extract(year FROM {key}) AS integer) AS y FROM {table}_other "
        f"WHERE {key} IS NOT NULL" for table, key in KEYS.items()))).all()
    for table in KEYS:
        ensure(conn, table, [year for t, year in found if t == table])


def _attach(conn: Connection, table: str, year: int) -> None:
    """A partition of ``table`` for ``year``, with the default partition's rows of that year moved into it."""
    key, part = KEYS[table], f"{table}_y{year}"
    start, end = f"'{year}-01-01'", f"'{year + 1}-01-01'"
    conn.execute(text(f"CREATE TABLE {part} (LIKE {table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"))
    conn.execute(text(f"WITH moved AS (DELETE FROM {table}_other WHERE {key} >= {start} AND {key} < {end} "
                      f"RETURNING *) INSERT INTO {part} SELECT * FROM moved"))
    conn.execute(text(f"ALTER TABLE {table} ATTACH PARTITION {part} FOR VALUES FROM ({start}) TO ({end})"))


def _drop_references(conn: Connection, table: str) -> None:
    """Drop the foreign keys that reference ``table`` (its own one to itself included)."""
    for owner, name in conn.execute(text(
            "SELECT conrelid::regclass::text, conname FROM pg_constraint "
            "WHERE contype = 'f' AND confrelid = to_regclass(:t) AND conparentid = 0"), {"t": table}).all():
        conn.execute(text(f'ALTER TABLE {owner} DROP CONSTRAINT "{name}"'))


def _rebuild(conn: Connection, table: str, partition_by: str, primary_key: str) -> None:
    """Copy ``table`` into a new one made ``partition_by`` (or plain), then drop the old: its rows, sequence,
    secondary indexes, keys to other tables and the views over it come along."""
    indexes = [_keyed(d, u, KEYS[table], bool(partition_by)) for d, u in conn.execute(text(
        "SELECT pg_get_indexdef(indexrelid), indisunique FROM pg_index "
        "WHERE indrelid = to_regclass(:t) AND NOT indisprimary"), {"t": table}).all()]
    keys = conn.execute(text(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE contype = 'f' AND conrelid = to_regclass(:t) AND conparentid = 0"), {"t": table}).all()
    views = conn.execute(text(
        "SELECT DISTINCT v.oid::regclass::text, pg_get_viewdef(v.oid) FROM pg_depend d "
        "JOIN pg_rewrite r ON r.oid = d.objid JOIN pg_class v ON v.oid = r.ev_class "
        "WHERE d.refobjid = to_regclass(:t) AND v.oid <> d.refobjid"), {"t": table}).all()
    sequence = conn.execute(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table}).scalar_one()
    for view, _definition in views:
        conn.execute(text(f"DROP VIEW {view}"))
    old = f"{table}_before_rebuild"
    conn.execute(text(f"ALTER TABLE {table} RENAME TO {old}"))
    conn.execute(text(f"CREATE TABLE {table} (LIKE {old} INCLUDING DEFAULTS INCLUDING CONSTRAINTS) {partition_by}"))
    conn.execute(text(f"ALTER SEQUENCE {sequence} OWNED BY {table}.id"))
    if partition_by:
        conn.execute(text(f"CREATE TABLE {table}_other PARTITION OF {table} DEFAULT"))
    conn.execute(text(f"INSERT INTO {table} SELECT * FROM {old}"))
    conn.execute(text(f"DROP TABLE {old} CASCADE"))
    conn.execute(text(f"ALTER TABLE {table} ADD PRIMARY KEY {primary_key}"))
    for definition in indexes:
        conn.execute(text(definition))
    for name, definition in keys:
        conn.execute(text(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'))
    for view, definition in views:
        conn.execute(text(f"CREATE VIEW {view} AS {definition}"))


def _keyed(definition: str, unique: bool, key: str, partitioned: bool) -> str:
    """An index's definition for the table made partitioned (a unique one takes the key) or plain again."""
    if not unique:
        return definition
    if partitioned:
        return re.sub(r"\)(\s+WHERE .*)?$", lambda m: f", {key})" + (m.group(1) or ""), definition, count=1)
    return definition.replace(f", {key})", ")")
