"""Reads on a streaming replica: a second PostgreSQL cluster made from the first by
``pg_basebackup``, the service told of it by ``read_database_url``. Each cluster logs its
statements, so the tests count where every read went."""

from __future__ import annotations

import math
import time
from datetime import date

import httpx
import pytest
import sqlalchemy as sa

import bureau_files as bf
import replica_cluster
from conftest import _unavailable
from live_server import client, form_login, running_server
from geo_tracker.config import load_settings
from geo_tracker.errors import ConfigurationError
from geo_tracker.services import accounts
from geo_tracker.services.batches import ImportOptions, import_batch
from geo_tracker.services.boundaries import BoundaryOptions, import_boundaries
from geo_tracker.services.database import init_database
from geo_tracker.store import open_store

pytestmark = pytest.mark.postgis

PASSWORD = "correct horse battery"
PATCH, OTHER = "B/5001090002", "B/5001090003"


def _tile(z: int = 14) -> str:
    """The tile holding the test patches."""
    n = 2 ** z
    x = int((bf.LON0 + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(bf.LAT0))) / math.pi) / 2 * n)
    return f"/tiles/{z}/{x}/{y}.pbf"


READS = ["/api/v1/patches", f"/api/v1/patches/{PATCH}", "/api/v1/stats", "/ogc/collections/patches/items?limit=5",
         _tile(), "/patches"]


def _fill(tmp_path):
    def fill(url: str) -> None:
        init_database(url)
        with open_store(url) as store:
            import_boundaries(store, bf.villages_shapefile(tmp_path), BoundaryOptions(level="village"))
            import_batch(store, bf.weipian_geojson(tmp_path), ImportOptions(source="natural-resources", batch="B",
                                                                             issued_on=date(2023, 6, 30)))
            accounts.add_user(store, "team", PASSWORD, "enforcer", ["*"])
            accounts.add_user(store, "boss", PASSWORD, "viewer", ["*"])
    return fill


@pytest.fixture(scope="module")
def replicated(tmp_path_factory):
    """(primary, replica, service URL, tokens): the service reads from the replica."""
    if replica_cluster.version() is None:
        _unavailable("Debian's pg_createcluster and pg_basebackup (postgresql-common) are not installed")
    tmp = tmp_path_factory.mktemp("replicas")
    with replica_cluster.primary_and_replica("county", _fill(tmp)) as (primary, replica):
        with open_store(primary.url("county")) as store:
            tokens = {user: accounts.create_token(store, user, "tests") for user in ("team", "boss")}
        with running_server(primary.url("county"), tmp / "server.log",
                            read_database_url=replica.url("county"), replica_wait_s=0.3) as base:
            _wait_replayed(primary, replica)
            yield primary, replica, base, tokens


def _wait_replayed(primary, replica, seconds: float = 10) -> None:
    """Until the replica has replayed everything committed so far: a transaction of its own, committed
    now on the primary, shows as committed there."""
    xid = primary.sql("SELECT pg_current_xact_id()::text", "county")
    deadline = time.monotonic() + seconds
    while not _committed_on(replica, xid):
        assert time.monotonic() < deadline, "the replica did not catch up"
        time.sleep(0.05)


def _committed_on(replica, xid: str) -> bool:
    try:
        return replica.sql(f"SELECT pg_xact_status('{xid}'::xid8) = 'committed'", "county") is True
    except sa.exc.DataError:                    # "transaction ID … is in the future": not replayed yet
        return False


def _ours(statements: list[str]) -> list[str]:
    """geo_tracker's queries, without the pool's liveness pings and the replica-position checks."""
    return [s for s in statements if s.strip() not in ("SELECT 1", ";") and "pg_xact_status" not in s
            and "pg_current_xact_id" not in s]


def test_reads_are_answered_by_the_replica(replicated):
    primary, replica, base, tokens = replicated
    with client(base, tokens["boss"]) as boss:
        boss.get("/api/v1/patches").raise_for_status()           # pools warmed
        on_primary, on_replica = primary.log_size(), replica.log_size()
        for path in READS * 3:
            answer = boss.get(path, headers={"Accept": "text/html"} if path == "/patches" else {})
            assert answer.status_code == 200, (path, answer.text[:300])
    time.sleep(0.3)                                               # the log is written by the server process
    assert _ours(primary.statements_since(on_primary)) == []
    read = _ours(replica.statements_since(on_replica))
    assert len(read) >= len(READS) * 3
    assert any("patches" in s for s in read) and any("ST_AsMVT" in s for s in read)


def test_a_user_reads_their_own_change_while_the_replica_lags(replicated):
    primary, replica, base, tokens = replicated
    replica.sql("SELECT pg_wal_replay_pause()")
    try:
        with client(base, tokens["team"]) as team, client(base, tokens["boss"]) as boss:
            done = team.post(f"/api/v1/patches/{PATCH}/verify", json={"result": "illegal", "on": "2023-07-06"})
            assert done.status_code == 200, done.text
            assert team.get(f"/api/v1/patches/{PATCH}").json()["status"] == "illegal"   # the primary answered
            assert boss.get(f"/api/v1/patches/{PATCH}").json()["status"] != "illegal"   # the paused replica did
        with client(base) as browser:        # a page session: by its cookie, after its login
            assert form_login(browser, "boss", PASSWORD).status_code in (302, 303)
            assert "gt_wrote" in browser.cookies
            assert browser.get("/api/v1/me").json()["username"] == "boss"      # its new session was read
            page = browser.get(f"/patches/{PATCH}", headers={"Accept": "text/html"})
            assert page.status_code == 200 and "违法" in page.text
    finally:
        replica.sql("SELECT pg_wal_replay_resume()")
    _wait_replayed(primary, replica)
    with client(base, tokens["boss"]) as boss:
        assert boss.get(f"/api/v1/patches/{PATCH}").json()["status"] == "illegal"


def test_reads_go_on_while_the_primary_is_down_and_changes_wait(replicated):
    primary, replica, base, tokens = replicated
    _wait_replayed(primary, replica)
    primary.stop()
    try:
        with client(base, tokens["team"]) as team:
            for path in READS:
                answer = team.get(path, headers={"Accept": "text/html"} if path == "/patches" else {})
                assert answer.status_code == 200, (path, answer.text[:300])
            ready = httpx.get(f"{base}/readyz", timeout=30)
            assert ready.status_code == 200 and ready.json()["warnings"][0]["code"] == "primary_unavailable"
            refused = team.post(f"/api/v1/patches/{OTHER}/verify", json={"result": "illegal", "on": "2023-07-06"})
            assert refused.status_code == 503 and refused.json()["code"] == "database_unavailable"
            assert team.get(f"/api/v1/patches/{OTHER}").json()["status"] != "illegal"
    finally:
        primary.start()
    with client(base, tokens["team"]) as team:
        done = team.post(f"/api/v1/patches/{OTHER}/verify", json={"result": "illegal", "on": "2023-07-06"})
        assert done.status_code == 200, done.text
        assert team.get(f"/api/v1/patches/{OTHER}").json()["status"] == "illegal"


def test_replica_urls_are_read_from_the_settings(tmp_path):
    environ = {"GEO_TRACKER_READ_DATABASE_URL": "postgresql://127.0.0.1:5443/county, postgresql://10.0.0.2/county"}
    assert load_settings(environ=environ).read_database_url == ("postgresql://127.0.0.1:5443/county",
                                                                "postgresql://10.0.0.2/county")
    config = tmp_path / "geo_tracker.toml"
    config.write_text('[service]\nread_database_url = ["postgresql://a/county", "postgresql://b/county"]\n',
                      encoding="utf-8")
    assert load_settings(config, environ={}).read_database_url == ("postgresql://a/county", "postgresql://b/county")


def test_a_spatialite_office_has_no_replicas(tmp_path):
    url = f"sqlite:///{tmp_path / 'office.sqlite'}"
    init_database(url)
    with open_store(url) as store, pytest.raises(ConfigurationError) as refused:
        store.attach_replicas(["postgresql://127.0.0.1:5443/county"])
    assert "read_database_url" in refused.value.text("zh", "cli")
    with open_store(url) as store:
        assert store.reading("0/0") is store
