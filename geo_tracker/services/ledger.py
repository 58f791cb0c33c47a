"""What a ledger (台账) holds, in numbers a copy must reproduce: its id, schema revision, the
rows of every table and the stats totals as of a day. Backups write it into their manifest;
verify, restore and move compare it (:func:`geo_tracker.core.ledger.differences`)."""

from __future__ import annotations

from datetime import date

from ..core.values import plain
from ..store import Store, migrate
from ..store import ledger as repo
from ..store.schema import LEDGER_TABLES
from .stats import compute_stats

#: The stats totals a summary keeps: the figures a report prints.
TOTALS = ["patches", "area_mu", "issued_area_mu", "cultivated_mu", "verified", "legal", "no_change", "illegal",
          "illegal_area_mu", "illegal_cultivated_mu", "rectified", "rectified_mu", "rectified_cultivated_mu",
          "closed", "overdue", "cases", "case_filed", "cases_closed", "fines_yuan"]

#: Tables ``init`` fills by itself: a database whose other tables are empty holds no ledger yet.
SEEDED = ("ledger", "vocabulary")


def holds_data(store: Store) -> bool:
    """Whether any table beyond what ``init`` seeds has a row (a database that is not empty)."""
    with store.engine.connect() as conn:
        return repo.any_rows(conn, repo.existing(conn, [t for t in LEDGER_TABLES if t not in SEEDED]))


def ledger_id(store: Store) -> str | None:
    with store.engine.connect() as conn:
        return repo.ledger_id(conn)


def summary(store: Store, as_of: date | None = None) -> dict:
    """``{"ledger_id", "schema_revision", "as_of", "counts": {table: rows}, "totals": {figure: value}}``."""
    day = as_of or date.today()
    with store.engine.connect() as conn:
        tables = repo.existing(conn, LEDGER_TABLES)
        found = {"ledger_id": repo.ledger_id(conn), "schema_revision": migrate.current_revision(conn),
                 "as_of": day.isoformat(), "counts": {t: int(n) for t, n in store.table_counts(conn, tables).items()}}
    total = compute_stats(store, as_of=day)["total"]
    found["totals"] = {k: plain(total[k]) for k in TOTALS if k in total}
    return found
