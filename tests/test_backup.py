"""Backups that a township can trust: taken while the service writes, checked, restored exactly.

Every test runs on both backends. A PostGIS ledger here is a whole database of its own (a
backup is of a database, as a county's is), made and dropped by the ``ledger`` fixture.
"""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
import zipfile
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from conftest import PG_SERVER
from live_server import form_login, running_server
from PIL import Image

from geo_tracker.cli import cli
from geo_tracker.config import load_settings
from geo_tracker.errors import BackupDamagedError, LedgerConflictError
from geo_tracker.server.scheduler import BackupScheduler
from geo_tracker.services import accounts, backup, ledger, tracking
from geo_tracker.services.demo import run_demo
from geo_tracker.services.patches import list_patches
from geo_tracker.services.stats import compute_stats
from geo_tracker.store import migrate, open_store

PASSWORD = "backup-tests-Pa55"
DAYS = [date(2023, 9, 30), date(2023, 12, 31), date.today()]


def _database(backend: str, folder: Path, name: str, made: list) -> str:
    if backend == "spatialite":
        return f"sqlite:///{folder / f'{name}.sqlite'}"
    url = f"{PG_SERVER}/geo_tracker_bk_{name}_{uuid.uuid4().hex[:8]}"
    made.append(url)
    return url


@pytest.fixture
def databases(backend, tmp_path):
    """``new(name)``: the URL of a database that does not exist yet (PostGIS ones dropped afterwards)."""
    made: list[str] = []
    yield lambda name: _database(backend, tmp_path, name, made)
    admin = sa.create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for url in made:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    admin.dispose()


def _photo(path: Path, shade: int) -> Path:
    Image.new("RGB", (48, 32), (shade, 120, 255 - shade)).save(path, "JPEG")
    return path


@pytest.fixture
def ledger_url(databases, tmp_path):
    """The demo township's year, with evidence photos on two rectifications, a voided event, a user
    with a token and a session."""
    url = databases("source")
    run_demo(url)
    with open_store(url) as store:
        open_ones = _open_patches(store)
        for i, p in enumerate(open_ones[:2]):
            ref = f"{p.batch}/{p.patch_code}"
            tracking.rectify_patch(store, ref, date(2023, 12, 20), "demolition", area_mu=0.05,
                                   evidence=[_photo(tmp_path / f"现场{i}.jpg", 40 * i)], user="enforcer1")
        done = tracking.rectify_patch(store, f"{open_ones[0].batch}/{open_ones[0].patch_code}", date(2023, 12, 21),
                                      "demolition", area_mu=0.01)
        tracking.void_event(store, done["event_id"], "录错了")
        accounts.add_user(store, "admin1", PASSWORD, "admin", ["*"])
        accounts.add_user(store, "viewer1", PASSWORD, "viewer", ["*"])
        accounts.create_token(store, "admin1", "qgis")
        accounts.start_session(store, accounts.authenticate(store, "admin1", PASSWORD), 1.0)
    return url


def _open_patches(store) -> list:
    """The demo's patches with more than a 亩 still to rectify (its two 已立案 ones)."""
    found = [p for p in list_patches(store).itertuples() if p.status != "closed" and p.rectified_mu < p.area_mu - 1]
    assert len(found) >= 2
    return found


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def _history(store) -> dict:
    return {f"{p.batch}/{p.patch_code}": tracking.patch_history(store, f"{p.batch}/{p.patch_code}")
            for p in list_patches(store).itertuples()}


def _exact(value):
    """JSON figures with floats to 1e-9 亩: PostgreSQL sums floats in the order it meets the rows,
    which a restore may change in the last binary digit; what a report prints is compared whole."""
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, dict):
        return {k: _exact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_exact(v) for v in value]
    return value


def _figures(url: str) -> dict:
    out = {}
    for day in DAYS:
        code, text = run("--db", url, "stats", "--as-of", day.isoformat(), "--by", "village", "--format", "json")
        assert code == 0, text
        out[day] = _exact(json.loads(text))
    return out


def _report(url: str, folder: Path) -> str:
    folder.mkdir()
    path = folder / "报告.md"
    code, text = run("--db", url, "report", "--year", "2023", "--date", "2024-01-10", "-o", str(path))
    assert code == 0, text
    return path.read_text(encoding="utf-8")


def _evidence_bytes(store) -> dict:
    with store.engine.connect() as conn:
        shas = [r[0] for r in conn.execute(sa.text("SELECT sha256 FROM evidence ORDER BY sha256"))]
    return {sha: tracking.evidence_path(store, sha).read_bytes() for sha in shas}


# --- a backup while the service writes ----------------------------------------------------------

def test_a_backup_taken_while_four_writers_rectify_is_consistent_and_restores(ledger_url, databases, tmp_path):
    with open_store(ledger_url) as store:
        accounts.add_user(store, "writer", PASSWORD, "enforcer", ["*"])
        token = accounts.create_token(store, "writer", "load")
        targets = [f"{p.batch}/{p.patch_code}" for p in _open_patches(store)[:2]] * 2   # two writers a patch
        events_before = ledger.summary(store)["counts"]["events"]
    stop, written, failures = threading.Event(), [0] * 4, []
    with running_server(ledger_url, tmp_path / "server.log") as base:
        def writer(i: int) -> None:
            with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
                while not stop.is_set() and written[i] < 40:
                    answer = client.post(f"/api/v1/patches/{targets[i]}/rectify",
                                         data={"on": "2024-01-05", "measure": "demolition", "area_mu": "0.01"})
                    if answer.status_code != 200:
                        failures.append(answer.text)
                        return
                    written[i] += 1

        threads = [threading.Thread(target=writer, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        while sum(written) < 8:
            threading.Event().wait(0.05)
        with open_store(ledger_url) as store:
            taken = backup.backup(store, tmp_path / "during.zip")
        stop.set()
        for t in threads:
            t.join()
    assert failures == [] and sum(written) >= 8
    counted = taken.manifest["summary"]["counts"]["events"]
    assert events_before + 8 <= counted <= events_before + sum(written)
    assert backup.verify(taken.path, scratch_url=ledger_url).content_checked
    restored = databases("restored")
    backup.restore(taken.path, restored)
    with open_store(restored) as store:
        day = date.today()
        folded = list_patches(store, as_of=day)
        total = compute_stats(store, as_of=day)["total"]
        assert total["rectified_mu"] == pytest.approx(float(folded["rectified_mu"].sum()), abs=1e-6)
        assert ledger.summary(store)["counts"]["events"] == counted


# --- verify ---------------------------------------------------------------------------------------

def _rewrite(source: Path, target: Path, *, drop: str | None = None, flip: str | None = None) -> Path:
    """A copy of the archive without one member, or with one byte of a member's data flipped."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            if info.filename == drop:
                continue
            data = bytearray(old.read(info.filename))
            if info.filename == flip:
                data[len(data) // 2] ^= 0x01
            new.writestr(info, bytes(data))
    return target


def test_verify_catches_a_flipped_byte_a_missing_photo_and_a_truncated_archive(ledger_url, tmp_path):
    good = tmp_path / "台账备份.zip"
    code, text = run("--db", ledger_url, "backup", "-o", str(good))
    assert code == 0 and "2 evidence files, 2 imagery files" in text, text
    code, text = run("--db", ledger_url, "backup", "verify", str(good))
    assert code == 0 and "is sound" in text, text
    with zipfile.ZipFile(good) as archive:
        names = archive.namelist()
        database = next(n for n in names if n.startswith("database/"))
        photo = next(n for n in names if n.startswith("evidence/"))
    flipped = _rewrite(good, tmp_path / "flipped.zip", flip=database)
    code, text = run("--lang", "zh", "--db", ledger_url, "backup", "verify", str(flipped))
    assert code == 2 and f"文件{database}已被改动" in text, text
    missing = _rewrite(good, tmp_path / "missing.zip", drop=photo)
    code, text = run("--db", ledger_url, "backup", "verify", str(missing))
    assert code == 2 and f"{photo} is missing" in text, text
    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size * 2 // 3])
    code, text = run("--lang", "zh", "--db", ledger_url, "backup", "verify", str(truncated))
    assert code == 2 and "不完整或已损坏" in text and "truncated.zip" in text, text
    with pytest.raises(BackupDamagedError):
        backup.restore(flipped, f"sqlite:///{tmp_path / 'never.sqlite'}")
    assert not (tmp_path / "never.sqlite").exists()


def test_a_database_copy_that_contradicts_its_manifest_is_refused(ledger_url, tmp_path):
    """A manifest edited by hand (its checksums recomputed) no longer matches the database in the archive."""
    good = backup.backup(open_store(ledger_url), tmp_path / "good.zip").path
    with zipfile.ZipFile(good) as old:
        manifest = json.loads(old.read("manifest.json"))
        manifest["summary"]["counts"]["events"] += 1
        manifest["summary"]["totals"]["rectified_mu"] += 0.5
        with zipfile.ZipFile(tmp_path / "edited.zip", "w") as new:
            for info in old.infolist():
                new.writestr(info, json.dumps(manifest) if info.filename == "manifest.json" else old.read(info))
    with pytest.raises(BackupDamagedError) as caught:
        backup.verify(tmp_path / "edited.zip", scratch_url=ledger_url)
    assert "count:events" in str(caught.value) and "total:rectified_mu" in str(caught.value)


# --- restore --------------------------------------------------------------------------------------

def test_a_restore_answers_stats_report_history_and_evidence_exactly_like_the_original(ledger_url, databases,
                                                                                       tmp_path):
    archive = tmp_path / "backup.zip"
    assert run("--db", ledger_url, "backup", "-o", str(archive))[0] == 0
    restored = databases("restored")
    code, text = run("restore", str(archive), "--db", restored)
    assert code == 0 and "as the manifest says" in text, text
    assert _figures(restored) == _figures(ledger_url)
    assert _report(restored, tmp_path / "b") == _report(ledger_url, tmp_path / "a")
    with open_store(ledger_url) as original, open_store(restored) as copy:
        assert _history(copy) == _history(original)
        for sha, content in _evidence_bytes(copy).items():
            assert hashlib.sha256(content).hexdigest() == sha
        assert _evidence_bytes(copy) == _evidence_bytes(original) and len(_evidence_bytes(copy)) == 2
        assert ledger.ledger_id(copy) == ledger.ledger_id(original)
        for day in DAYS:      # the --known-at view: what was recorded by the end of 2023
            known = datetime(2024, 1, 1, tzinfo=timezone.utc)
            assert (compute_stats(copy, as_of=day, known_at=known)["total"]
                    == compute_stats(original, as_of=day, known_at=known)["total"])
        with copy.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM sessions")).scalar_one() >= 0


def test_a_restore_into_a_database_that_holds_data_is_refused_unless_replace_which_backs_it_up(
        ledger_url, databases, tmp_path):
    archive = backup.backup(open_store(ledger_url), tmp_path / "backup.zip").path
    other = databases("other")
    run_demo(other)
    with open_store(other) as store:
        before = ledger.summary(store)
    code, text = run("--lang", "zh", "restore", str(archive), "--db", other)
    assert code == 2 and "已有数据" in text and "--replace" in text, text
    with open_store(other) as store:
        assert ledger.summary(store) == before
    code, text = run("restore", str(archive), "--db", other, "--replace", "--backup-dir", str(tmp_path / "saved"))
    assert code == 0 and "backed up first" in text, text
    saved = list((tmp_path / "saved").glob("geo_tracker-before-restore-*.zip"))
    assert len(saved) == 1
    assert backup.verify(saved[0], scratch_url=ledger_url).manifest["summary"]["ledger_id"] == before["ledger_id"]
    with open_store(other) as store, open_store(ledger_url) as original:
        assert ledger.ledger_id(store) == ledger.ledger_id(original)


def test_a_backup_of_the_previous_schema_revision_is_upgraded_on_restore(ledger_url, databases, tmp_path):
    from alembic import command

    expected = _figures(ledger_url)
    head = migrate.head_revision()
    with open_store(ledger_url) as store, store.transaction() as conn:
        command.downgrade(migrate._config(conn), "0008")          # before the ledger id and backups
    with open_store(ledger_url, check_schema=False) as old:
        assert old.schema_revision() == "0008"
        made = backup.backup(old, tmp_path / "old.zip")
    assert made.manifest["summary"]["schema_revision"] == "0008" and made.manifest["summary"]["ledger_id"] is None
    assert backup.verify(made.path, scratch_url=ledger_url).content_checked
    restored = databases("restored")
    code, text = run("restore", str(made.path), "--db", restored)
    assert code == 0 and f"upgraded from 0008 to {head}" in text, text
    assert _figures(restored) == expected
    with open_store(restored) as store:
        assert ledger.ledger_id(store) is not None and len(_evidence_bytes(store)) == 2


# --- the service: the admin's download, the page, /readyz and the schedule ---------------------------

def test_admins_download_a_backup_others_cannot_and_readyz_warns_until_one_is_recent(ledger_url, tmp_path):
    with running_server(ledger_url, tmp_path / "server.log") as base:
        ready = httpx.get(f"{base}/readyz").json()
        assert ready["status"] == "ready" and ready["warnings"][0]["code"] == "backup_old"
        assert "从未" not in ready["warnings"][0]["message"]
        zh = httpx.get(f"{base}/readyz", headers={"Accept-Language": "zh-CN"}).json()
        assert "还没有备份过" in zh["warnings"][0]["message"]
        viewer = httpx.post(f"{base}/api/v1/backups", auth=("viewer1", PASSWORD))
        assert viewer.status_code == 403
        answer = httpx.post(f"{base}/api/v1/backups", auth=("admin1", PASSWORD), timeout=120)
        assert answer.status_code == 200 and answer.headers["content-type"] == "application/zip"
        downloaded = tmp_path / "downloaded.zip"
        downloaded.write_bytes(answer.content)
        assert backup.verify(downloaded, scratch_url=ledger_url).content_checked
        assert "warnings" not in httpx.get(f"{base}/readyz").json()
        listed = httpx.get(f"{base}/api/v1/backups", auth=("admin1", PASSWORD)).json()
        assert listed["backups"][0]["actor"] == "admin1" and listed["warning"] is None
        with open_store(ledger_url) as store, store.transaction() as conn:
            conn.execute(sa.text("UPDATE backups SET taken_at = :t"),
                         {"t": store.timestamp_param(datetime.now(timezone.utc) - timedelta(days=3))})
        old = httpx.get(f"{base}/readyz", headers={"Accept-Language": "zh-CN"}).json()
        assert "最近一次备份在3天前" in old["warnings"][0]["message"]
        with httpx.Client(base_url=base) as browser:
            form_login(browser, "admin1", PASSWORD)
            page = browser.get("/backups")
            assert page.status_code == 200 and "立即备份并下载" in page.text and "已超过两天" in page.text
            assert 'href="/backups"' in page.text
            csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
            button = browser.post("/backups", data={"csrf_token": csrf}, timeout=120)
            assert button.status_code == 200 and button.content[:2] == b"PK"
            assert browser.post("/backups", data={}).status_code == 403
        with httpx.Client(base_url=base) as browser:
            form_login(browser, "viewer1", PASSWORD)
            assert 'href="/backups"' not in browser.get("/dashboard").text
            assert browser.get("/backups").status_code == 403


def test_dated_backups_keep_the_newest_and_the_schedule_writes_one(ledger_url, tmp_path, monkeypatch):
    folder = tmp_path / "backups"
    with open_store(ledger_url) as store:
        for stamp in ("20240101-020000", "20240102-020000", "20240103-020000"):
            folder.mkdir(exist_ok=True)
            (folder / f"geo_tracker-backup-{stamp}.zip").write_bytes(b"old")
        made = backup.backup_to_folder(store, folder, keep=2)
        assert sorted(p.name for p in folder.glob("*.zip")) == ["geo_tracker-backup-20240103-020000.zip",
                                                                 made.path.name]
        with store.transaction() as conn:        # that one was yesterday's, or tonight's would be skipped
            conn.execute(sa.text("UPDATE backups SET taken_at = :t"),
                         {"t": store.timestamp_param(datetime.now(timezone.utc) - timedelta(days=1))})
        monkeypatch.setattr(backup, "next_run", lambda at, now: now + timedelta(seconds=0.2))
        settings = load_settings(None, {"GEO_TRACKER_BACKUP_FOLDER": str(folder), "GEO_TRACKER_BACKUP_KEEP": "5"})
        scheduler = BackupScheduler(store, settings.backup).start()
        try:
            deadline = datetime.now() + timedelta(seconds=60)
            while not any(r["trigger"] == "scheduled" for r in backup.recent_backups(store)):
                assert datetime.now() < deadline
                threading.Event().wait(0.1)
        finally:
            scheduler.stop()
        scheduled = next(r for r in backup.recent_backups(store) if r["trigger"] == "scheduled")
        assert (folder / scheduled["file_name"]).is_file()
        checked = backup.verify(folder / scheduled["file_name"], scratch_url=ledger_url).files_checked
        assert checked == 5                               # the database, two photos, the demo's two images


def test_the_next_run_is_today_or_tomorrow_at_the_time_of_day():
    assert backup.next_run((2, 30), datetime(2026, 12, 1, 1, 0)) == datetime(2026, 12, 1, 2, 30)
    assert backup.next_run((2, 30), datetime(2026, 12, 1, 2, 30)) == datetime(2026, 12, 2, 2, 30)
    assert backup.next_run((23, 59), datetime(2026, 12, 31, 23, 59, 30)) == datetime(2027, 1, 1, 23, 59)


def test_a_restore_target_must_be_named_and_a_pg_dump_does_not_go_into_a_file(ledger_url, tmp_path, backend):
    archive = backup.backup(open_store(ledger_url), tmp_path / "b.zip").path
    if backend == "postgis":
        code, text = run("restore", str(archive), "--db", f"sqlite:///{tmp_path / 'x.sqlite'}")
        assert code == 2 and "geo-tracker move" in text, text
    code, text = run("--db", ledger_url, "backup")
    assert code == 2 and "-o FILE or --to-dir FOLDER" in text
    with pytest.raises(LedgerConflictError):
        backup.restore(archive, ledger_url)


@pytest.mark.parametrize("backend", ["spatialite"])
def test_a_spatialite_backup_restores_into_postgis_by_a_move(ledger_url, tmp_path):
    """A township's file brought into the county's PostGIS straight from its backup (the other way,
    a pg_dump into a file, is refused: see test_a_restore_target_must_be_named…)."""
    archive = backup.backup(open_store(ledger_url), tmp_path / "township.zip").path
    made: list[str] = []
    target = _database("postgis", tmp_path, "county", made)
    try:
        code, text = run("restore", str(archive), "--db", target)
        assert code == 0 and "as the manifest says" in text, text
        assert _figures(target) == _figures(ledger_url)
        with open_store(target) as county, open_store(ledger_url) as township:
            assert _history(county) == _history(township)
            assert _evidence_bytes(county) == _evidence_bytes(township)
    finally:
        admin = sa.create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{target.rsplit("/", 1)[1]}" WITH (FORCE)'))
        admin.dispose()


def test_several_service_processes_take_one_scheduled_backup(ledger_url, tmp_path):
    """`serve --workers 3`: three schedulers wake at the same minute; one writes the night's backup."""
    settings = load_settings(None, {"GEO_TRACKER_BACKUP_FOLDER": str(tmp_path / "nightly")}).backup
    stores = [open_store(ledger_url) for _ in range(3)]
    try:
        made = [None] * 3
        workers = [threading.Thread(target=lambda i=i: made.__setitem__(i, BackupScheduler(stores[i], settings)
                                                                         .run_once())) for i in range(3)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        assert sum(m is not None for m in made) == 1
        assert len(list((tmp_path / "nightly").glob("geo_tracker-backup-*.zip"))) == 1
        assert BackupScheduler(stores[0], settings).run_once() is None          # an hour has not passed
    finally:
        for s in stores:
            s.close()


def test_a_restore_never_clears_a_database_that_is_not_a_ledger(ledger_url, databases, tmp_path, backend):
    archive = backup.backup(open_store(ledger_url), tmp_path / "b.zip").path
    other = databases("someone_else")
    if backend == "spatialite":
        import sqlite3

        path = other.removeprefix("sqlite:///")
        with sqlite3.connect(path) as conn:
            conn.execute("CREATE TABLE 财务账 (id INTEGER PRIMARY KEY, 金额 REAL)")
    else:
        admin = sa.create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{other.rsplit("/", 1)[1]}"'))
        admin.dispose()
        engine = sa.create_engine(other)
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE 财务账 (id INTEGER PRIMARY KEY, 金额 REAL)"))
        engine.dispose()
    code, text = run("--lang", "zh", "restore", str(archive), "--db", other, "--replace")
    assert code == 2 and "不属于本系统的表" in text and "财务账" in text, text
    engine = sa.create_engine(other)
    with engine.connect() as conn:
        assert "财务账" in sa.inspect(conn).get_table_names()
    engine.dispose()
