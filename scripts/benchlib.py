"""What the benchmarks share: a throw-away PostgreSQL database for one run."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

PG_SERVER = os.environ.get("GEO_TRACKER_TEST_PG", "postgresql://postgres@127.0.0.1:5432")


@contextmanager
def scratch_postgres(server: str = PG_SERVER, prefix: str = "geo_tracker_bench") -> Iterator[str]:
    """The URL of a database that does not exist yet (init creates it); dropped afterwards, whatever happens."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    try:
        yield f"{server}/{name}"
    finally:
        engine = sa.create_engine(f"{server.replace('postgresql://', 'postgresql+psycopg://')}/postgres",
                                  isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()
