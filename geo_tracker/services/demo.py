"""The demo: a fresh database showing the whole job on shipped sample data."""

from __future__ import annotations

from pathlib import Path

from ..errors import GeoTrackerError
from ..store import open_store, parse_url
from .database import database_info, init_database

DEMO_DB_FILE = "geo_tracker_demo.sqlite"


def run_demo(url: str | None = None) -> dict:
    """Build the demo database from scratch and return its `info`.

    A SpatiaLite demo file is recreated on every run. A PostgreSQL database must be
    empty of geo_tracker data, so the demo never mixes with real records.
    """
    url = url or f"sqlite:///{DEMO_DB_FILE}"
    backend, sa_url = parse_url(url)
    if backend == "spatialite":
        path = Path(sa_url.database)
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    init_database(url)
    with open_store(url) as store:
        info = database_info(store)
        if backend == "postgis" and any(info["counts"].values()):
            raise GeoTrackerError(
                f"the demo needs an empty database, but {store.display_url} already holds "
                f"data ({info['counts']}): give the demo its own database with --db"
            )
        return info
