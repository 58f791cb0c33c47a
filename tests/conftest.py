"""Shared fixtures: every storage test runs on SpatiaLite and on PostGIS.

PostGIS tests use one throw-away database per test session on the server named
by $GEO_TRACKER_TEST_PG (default postgresql://postgres@127.0.0.1:5432) and a fresh
schema per test. Where the server cannot be reached the PostGIS half is skipped
on a laptop, but fails under CI=true: a skip there would hide PostGIS.
"""

from __future__ import annotations

import os
import uuid

import pytest
import sqlalchemy as sa

from geo_tracker.services.database import init_database
from geo_tracker.store import open_store

PG_SERVER = os.environ.get("GEO_TRACKER_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _unavailable(reason: str):
    if IN_CI:
        pytest.fail(f"PostGIS is required in CI but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def pg_database():
    """A fresh PostgreSQL database with PostGIS for this test session; dropped at the end."""
    name = f"geo_tracker_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as e:
        admin.dispose()
        _unavailable(f"PostgreSQL at {PG_SERVER} is unreachable: {e.orig}")
    engine = sa.create_engine(f"{PG_SERVER}/{name}")
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS postgis"))
    except sa.exc.DBAPIError as e:
        _unavailable(f"PostGIS is not installed on {PG_SERVER}: {e.orig}")
    engine.dispose()
    yield f"{PG_SERVER}/{name}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def pg_schema_url(pg_database):
    """URL of an empty schema in the session database (search_path = schema, public)."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(pg_database)
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    yield f"{pg_database}?options=-csearch_path%3D{schema},public", schema
    with engine.begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
    engine.dispose()


@pytest.fixture(autouse=True)
def english_locale(monkeypatch):
    """The CLI speaks the locale's language; tests read English unless they ask (--lang zh)."""
    for variable in ("LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")


@pytest.fixture(scope="session", autouse=True)
def session_imagery_dir(tmp_path_factory):
    """Imagery that module-scoped fixtures import (the demo's pair) goes to a folder of the run, not
    into the working tree; each test then gets its own (below)."""
    before = os.environ.get("GEO_TRACKER_IMAGERY_DIR")
    os.environ["GEO_TRACKER_IMAGERY_DIR"] = str(tmp_path_factory.mktemp("imagery"))
    yield
    if before is None:
        os.environ.pop("GEO_TRACKER_IMAGERY_DIR", None)
    else:
        os.environ["GEO_TRACKER_IMAGERY_DIR"] = before


@pytest.fixture(autouse=True)
def private_evidence_dir(tmp_path, monkeypatch):
    """Evidence and imagery files of a test go to its own folders, never into the working tree."""
    monkeypatch.setenv("GEO_TRACKER_EVIDENCE_DIR", str(tmp_path / "evidence"))
    monkeypatch.setenv("GEO_TRACKER_IMAGERY_DIR", str(tmp_path / "imagery"))


@pytest.fixture(params=["spatialite", pytest.param("postgis", marks=pytest.mark.postgis)])
def backend(request):
    return request.param


@pytest.fixture
def empty_db_url(backend, tmp_path, request):
    """URL of an empty database (no geo_tracker tables) on the current backend."""
    if backend == "spatialite":
        return f"sqlite:///{tmp_path / 'office.sqlite'}"
    url, _schema = request.getfixturevalue("pg_schema_url")
    return url


@pytest.fixture
def db_url(empty_db_url):
    """URL of a database initialised to the current schema."""
    init_database(empty_db_url)
    return empty_db_url


@pytest.fixture
def store(db_url):
    with open_store(db_url) as s:
        yield s


CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium driven by Playwright (no browser download); required in CI."""
    if not os.path.exists(CHROMIUM):
        if IN_CI:
            pytest.fail("Chromium is required in CI (apt-get install chromium)", pytrace=False)
        pytest.skip("Debian chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM,
                              args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield b
        b.close()
