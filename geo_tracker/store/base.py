"""The store interface: one class per backend, differing only where the SQL dialects do."""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Iterator, Sequence

from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.engine import URL

from . import migrate
from .url import mask
from ..catalogue import msg
from ..errors import ConfigurationError, SchemaNotInitialisedError, SchemaOutdatedError, SchemaTooNewError, StorageFullError

#: All geometries are stored in CGCS2000 geographic coordinates.
STORAGE_SRID = 4490


#: Execution option that marks a connection as one that will write.
WRITE_OPTION = "geo_tracker_writes"


class Store(ABC):
    """A geo_tracker database: an SQLAlchemy engine plus the backend's SQL dialect.

    Use :func:`geo_tracker.store.open_store` to get one. Everything that knows a
    spatial SQL function name, or how the two databases differ, lives in the two subclasses.
    """

    #: The database builds vector tiles itself (ST_AsMVT); else they are encoded in Python.
    native_vector_tiles: bool = False
    #: LIKE ignores the case of ASCII letters (SQLite's does), so a case-sensitive match needs GLOB.
    like_ignores_case: bool = False
    #: Appended to a text expression so it sorts by code point, as the other backend does by default.
    code_point_collation: str = ""
    #: The planner estimates a query's rows (EXPLAIN), so a huge count need not be counted.
    estimates_rows: bool = False

    backend: str = ""

    def __init__(self, engine: Engine, url: URL):
        self.engine = engine
        #: Where transactions go: the engine itself, except in a replica's view (the primary's).
        self.write_engine = engine
        self.url = url

    # --- lifecycle -----------------------------------------------------------------

    @property
    def display_url(self) -> str:
        return mask(self.url)

    @property
    def evidence_dir(self) -> Path:
        """Where evidence files live: $GEO_TRACKER_EVIDENCE_DIR, else beside the database."""
        configured = os.environ.get("GEO_TRACKER_EVIDENCE_DIR")
        return Path(configured) if configured else self._default_evidence_dir()

    def _default_evidence_dir(self) -> Path:
        return Path.cwd() / "geo_tracker_evidence"

    @property
    def imagery_dir(self) -> Path:
        """Where imagery files (COGs, MBTiles) live: $GEO_TRACKER_IMAGERY_DIR, else beside the database."""
        configured = os.environ.get("GEO_TRACKER_IMAGERY_DIR")
        return Path(configured) if configured else self._default_imagery_dir()

    def _default_imagery_dir(self) -> Path:
        return Path.cwd() / "geo_tracker_imagery"

    def _folders_written(self) -> list[Path]:
        """Folders this store writes files into (the evidence; SpatiaLite adds the database's)."""
        return [self.evidence_dir]

    def check_writable(self, probe_bytes: int = 65536) -> None:
        """Raise :class:`StorageFullError` unless every folder written takes a small synced write."""
        from .failures import translate

        for folder in self._folders_written():
            probe = folder / f".geo_tracker_probe_{os.getpid()}"
            try:
                folder.mkdir(parents=True, exist_ok=True)
                with open(probe, "wb") as fh:
                    fh.write(b"\0" * probe_bytes)
                    fh.flush()
                    os.fsync(fh.fileno())
            except OSError as e:
                raise translate(e) or StorageFullError(msg("storage.folder_unwritable", folder=folder, reason=str(e))) from None
            finally:
                probe.unlink(missing_ok=True)

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One atomic unit of work: everything inside commits together or not at all.

        Marked as a write, so SpatiaLite takes its write lock at BEGIN; plain
        ``engine.connect()`` reads do not, and run beside a writer. Always on the primary.
        """
        with self.write_engine.connect() as conn:
            conn.execution_options(**{WRITE_OPTION: True})
            with conn.begin():
                yield conn

    def close(self) -> None:
        self.engine.dispose()

    # --- replicas (reads elsewhere) ------------------------------------------------------

    #: Streaming replicas attached for reads (PostGIS).
    has_replicas: bool = False

    def attach_replicas(self, urls: Sequence[str], wait_s: float = 0.5) -> None:
        """Serve reads from these streaming replicas of this database (see :meth:`reading`)."""
        raise ConfigurationError(msg("storage.replicas_postgis_only", where=self.display_url),
                                 field="read_database_url")

    def reading(self, *after: str | None) -> "Store":
        """The store a read is answered from: a replica's view where the transactions ``after`` (the
        asker's last changes, as :meth:`noting_changes` gave them; None: none) have committed, else
        this store itself. The view's transactions still come here."""
        return self

    def noting_changes(self) -> AbstractContextManager[list[str]]:
        """Inside, every transaction that changed something adds its id to the yielded list (where
        there are replicas: what a read after it waits for)."""
        return nullcontext([])

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- schema --------------------------------------------------------------------

    @abstractmethod
    def prepare(self, conn: Connection) -> None:
        """Make the spatial extension's metadata ready before the first migration."""

    def schema_revision(self) -> str | None:
        with self.engine.connect() as conn:
            return migrate.current_revision(conn)

    def check_schema(self) -> None:
        """Refuse to work on a database whose schema is not exactly this version's."""
        current = self.schema_revision()
        head = migrate.head_revision()
        where = self.display_url
        if current is None:
            raise SchemaNotInitialisedError(msg("storage.schema_missing", where=where))
        if current == head:
            return
        if current in migrate.known_revisions():
            raise SchemaOutdatedError(msg("storage.schema_outdated", where=where, current=current, head=head))
        raise SchemaTooNewError(msg("storage.schema_too_new", where=where, current=current, head=head))

    # --- dialect -------------------------------------------------------------------

    @abstractmethod
    def geometry_from_wkb(self, param: str, kind: str = "MultiPolygon") -> str:
        """SQL that turns the WKB bound as ``:param`` into a stored geometry of ``kind``
        (``MultiPolygon`` or ``MultiLinestring``)."""

    @abstractmethod
    def bbox_condition(self, table: str, alias: str | None = None) -> str:
        """SQL condition: the row's geom may intersect the box ``:xmin :ymin :xmax :ymax`` (index-assisted);
        ``alias`` when the query names ``table`` otherwise."""

    @abstractmethod
    def intersects_box(self, column: str) -> str:
        """SQL condition: ``column`` really intersects the box ``:xmin :ymin :xmax :ymax`` (EPSG:4490)."""

    @abstractmethod
    def json_number(self, column: str, key: str) -> str:
        """SQL for a number stored under ``key`` in a JSON column."""

    def in_subquery(self, column: str, subquery: str) -> str:
        """SQL condition: ``column`` is among the values ``subquery`` selects."""
        return f"{column} IN ({subquery})"

    @abstractmethod
    def json_text(self, column: str, key: str) -> str:
        """SQL for a text stored under ``key`` in a JSON column."""

    @abstractmethod
    def geometry_as_wkb(self, column: str) -> str:
        """SQL that reads a stored geometry column back as WKB."""

    @abstractmethod
    def spatial_versions(self, conn: Connection) -> dict[str, str]:
        """Versions of the database and its spatial extension, for `info`."""

    @abstractmethod
    def reserve_ids(self, conn: Connection, table: str, count: int) -> list[int]:
        """``count`` fresh ids for ``table`` (its integer primary key), taken before inserting."""

    @abstractmethod
    def bulk_insert(self, conn: Connection, table: str, columns: dict[str, Sequence]) -> None:
        """Insert many rows given column-wise; ``geom`` holds shapely (Multi)Polygons in EPSG:4490.

        Set-based on both backends (executemany on SQLite, COPY on PostgreSQL): never
        a statement per row from Python.
        """

    def extent_sql(self, table: str, where: str) -> str:
        """SQL for one row (west, south, east, north) of ``table``'s geometries where ``where`` holds."""
        return f"SELECT {self.extent_columns('geom')} FROM {table} WHERE {where}"

    @abstractmethod
    def extent_columns(self, column: str) -> str:
        """Four aggregate columns (west, south, east, north) of the geometries in ``column``."""

    @abstractmethod
    def row_lock(self, conn: Connection, alias: str) -> str:
        """The clause that locks the rows read as ``alias`` inside a write transaction ("" where
        writers are serial anyway)."""

    @abstractmethod
    def timestamp_param(self, moment):
        """A timezone-aware UTC datetime as the driver must bind it to compare with stored times."""

    @abstractmethod
    def day_number(self, column: str) -> str:
        """A date column as a whole number of days, so that two of them subtract to the days between."""

    # --- snapshots (backup and restore) -------------------------------------------------

    #: The database copy's name inside a backup archive.
    snapshot_member: str = ""

    @abstractmethod
    def snapshot(self, path: Path) -> AbstractContextManager["Store"]:
        """Write a consistent copy of the database to ``path`` while writers go on, and yield a
        store that reads exactly that state (for the manifest's counts and totals)."""

    @classmethod
    @abstractmethod
    def load_snapshot(cls, url: URL, path: Path) -> None:
        """Make the empty database at ``url`` hold the copy at ``path`` (as written by :meth:`snapshot`)."""

    @classmethod
    @abstractmethod
    def wipe(cls, url: URL) -> None:
        """Remove the ledger at ``url`` (a restore with ``--replace``, after its backup): geo_tracker's
        own tables and view in its schema, nothing else the database may hold."""

    @classmethod
    @abstractmethod
    def remove(cls, url: URL) -> None:
        """Remove a scratch database geo_tracker made itself (the one ``backup verify`` loads a dump into)."""

    def other_tables(self, conn: Connection) -> list[str]:
        """Tables of the store's schema that are neither geo_tracker's nor the spatial extension's:
        a database holding them is someone else's, and a restore never clears it."""
        from .schema import LEDGER_TABLES, NOT_COPIED

        ours = {*LEDGER_TABLES, *NOT_COPIED, "alembic_version"}
        return sorted(t for t in inspect(conn).get_table_names() if t not in ours and not self._spatial_table(t))

    def _spatial_table(self, name: str) -> bool:
        return False

    def table_counts(self, conn: Connection, tables: list[str]) -> dict[str, int]:
        return {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in tables}

    # --- copying a ledger (geo-tracker move) ------------------------------------------

    @contextmanager
    def read_transaction(self) -> Iterator[Connection]:
        """A connection in one read transaction that sees a single state of the database from its
        first read to its end, while writers go on (SQLite under WAL: a deferred transaction)."""
        with self.engine.connect() as conn:
            with conn.begin():
                yield conn

    def bound_to(self, conn: Connection) -> "Store":
        """This store seen through ``conn``: every ``engine.connect()`` of the view is ``conn`` itself,
        its uncommitted rows included, so a service's reads (a summary, the stats) can check a copy
        before it commits. For reading; the view's own ``transaction()`` is not available."""
        from copy import copy

        view = copy(self)
        view.engine = view.write_engine = _OneConnection(conn)
        return view

    @abstractmethod
    def geometry_columns(self, conn: Connection) -> dict[str, dict[str, str]]:
        """``{table: {column: kind}}`` of the registered geometry columns, kind as
        :meth:`geometry_from_wkb` takes it (``MultiPolygon``, ``MultiLinestring``)."""

    def after_explicit_ids(self, conn: Connection, table: str) -> None:
        """After rows were inserted with their own ids: make the ids the database generates next
        continue after the largest (SQLite's INTEGER PRIMARY KEY does by itself)."""

    @contextmanager
    def bulk_loading(self, conn: Connection, tables: list[str]) -> Iterator[None]:
        """While inside (in ``conn``'s transaction), ``tables`` take many rows faster; on the way out
        every index and foreign key holds again. Here: nothing changes."""
        yield


#: Geometry type names as :meth:`Store.geometry_from_wkb` takes them.
GEOMETRY_KINDS = {"POINT": "Point", "LINESTRING": "Linestring", "POLYGON": "Polygon", "MULTIPOINT": "MultiPoint",
                  "MULTILINESTRING": "MultiLinestring", "MULTIPOLYGON": "MultiPolygon"}


class _OneConnection:
    """Stands in for an engine whose every connection is one open connection, left open on exit."""

    def __init__(self, conn: Connection):
        self.conn, self.url, self.dialect = conn, conn.engine.url, conn.dialect

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        yield self.conn

    def dispose(self) -> None:
        pass
