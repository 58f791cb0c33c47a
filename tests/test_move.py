"""``geo-tracker move --to URL`` (#21): a township's ledger up from SpatiaLite into PostGIS and back
down, with every id, event, void, account and evidence file; sessions stay behind; one
transaction on the target; a target holding another ledger, a repeated move and an old source.

The ledger is the demo township's 2023 plus what the demo leaves out: evidence photos, a void,
a patrol with its track and a finding, a complaint, the land-use layer, a disabled account, API
tokens (one revoked) and login sessions. It is built once per backend; every move goes into a
PostgreSQL database of its own (dropped afterwards) or a new SpatiaLite file.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import re
import uuid
import warnings
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
import shapely
import sqlalchemy as sa
from click.testing import CliRunner

import bureau_files as bf
from conftest import PG_SERVER
from geo_tracker.cli import cli
from geo_tracker.errors import InternalError, LedgerConflictError
from geo_tracker.services import accounts, complaints, patrols, tracking
from geo_tracker.services.database import init_database
from geo_tracker.services.demo import run_demo
from geo_tracker.services.landuse import import_landuse
from geo_tracker.services.move import move_ledger
from geo_tracker.services.patches import list_patches
from geo_tracker.store import copy as copier
from geo_tracker.store import migrate, open_store, partitions
from geo_tracker.store.schema import LEDGER_TABLES, NOT_COPIED
from test_cli_language import english_words
from test_tracking import _photo

PASSWORD = "Move-it-2023"
#: Days the stats are compared on: mid-rectification, after the forestry cases, the year's end.
DAYS = ["2023-07-31", "2023-09-15", "2023-12-31"]


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


class PostgresDatabases:
    """Names of throw-away PostgreSQL databases (init creates them); every one dropped at the end."""

    def __init__(self):
        self.names: list[str] = []

    def new(self) -> str:
        self.names.append(f"geo_tracker_move_{uuid.uuid4().hex[:10]}")
        return f"{PG_SERVER}/{self.names[-1]}"

    def drop_all(self) -> None:
        admin = sa.create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for name in self.names:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module")
def databases(request):
    request.getfixturevalue("pg_database")   # skips (or fails in CI) when PostGIS is not there
    found = PostgresDatabases()
    yield found
    found.drop_all()


@pytest.fixture
def pg(databases):
    return databases.new


def build_township(url: str, folder: Path) -> None:
    """The demo's year, then evidence, a void, a patrol, a complaint, land use, tokens and sessions."""
    run_demo(url)
    with open_store(url) as store:
        patch = list_patches(store, batch="2023年卫片执法第2批").iloc[11]
        ref = f"{patch['batch']}/{patch['patch_code']}"
        inside = patch.geometry.representative_point()
        photos = [_photo(folder / "现场1.jpg", inside.x, inside.y), _photo(folder / "远处.JPG", inside.x + 0.01, inside.y)]
        tracking.rectify_patch(store, ref, date(2023, 10, 9), "demolition", area_mu=0.05, evidence=photos,
                               note="拆除一半", user="执法队")
        mistaken = tracking.rectify_patch(store, ref, date(2023, 10, 10), "demolition", area_mu=0.01, user="执法队")
        tracking.void_event(store, mistaken["event_id"], "录错了面积", user="执法队")
        track = folder / "轨迹.gpx"
        points = "".join(f'<trkpt lat="{inside.y + d}" lon="{inside.x + d}"></trkpt>' for d in (-0.004, 0.0, 0.003))
        track.write_text('<?xml version="1.0" encoding="UTF-8"?><gpx version="1.1" creator="两步路" '
                         f'xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>{points}</trkseg></trk></gpx>',
                         encoding="utf-8")
        patrol = patrols.add_patrol(store, date(2023, 11, 3), track=track, members="张三、李四", departments=["国土所"])
        patrols.record_finding(store, patrol["patrol_id"], category="乱搭乱建", point=(inside.x + 0.002, inside.y),
                               evidence=[_photo(folder / "巡查.jpg", inside.x + 0.002, inside.y)])
        complaint = complaints.add_complaint(store, date(2023, 11, 5), "12345", "违法占地", "有人在耕地上建房",
                                             location=(inside.x, inside.y))
        complaints.respond(store, complaint["id"], date(2023, 11, 6))
        import_landuse(store, bf.dltb_shapefile(folder))
        for name in ("admin", "enforcer"):
            accounts.change_password(store, name, PASSWORD)
        accounts.create_token(store, "liaison", "QGIS", days=30)
        accounts.create_token(store, "viewer", "脚本")
        accounts.revoke_all(store, "viewer")
        accounts.disable_user(store, "viewer")
        for name in ("admin", "enforcer"):
            accounts.start_session(store, accounts.authenticate(store, name, PASSWORD), hours=8)


@pytest.fixture(scope="module", params=["spatialite", pytest.param("postgis", marks=pytest.mark.postgis)])
def township(request, tmp_path_factory, databases):
    """(URL of the township's ledger on each backend, its evidence folder)."""
    folder = tmp_path_factory.mktemp(f"township_{request.param}")
    url = f"sqlite:///{folder / 'office.sqlite'}" if request.param == "spatialite" else databases.new()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GEO_TRACKER_EVIDENCE_DIR", str(folder / "evidence"))
        build_township(url, folder)
    return url, folder / "evidence"


def other_backend(url: str, pg, tmp_path: Path, name: str) -> str:
    return f"sqlite:///{tmp_path / name}.sqlite" if url.startswith("postgresql") else pg()


def same_backend(url: str, pg, tmp_path: Path, name: str) -> str:
    return pg() if url.startswith("postgresql") else f"sqlite:///{tmp_path / name}.sqlite"


# --- what two databases hold, normalised ---------------------------------------------------

def _plain(value, type_):
    if value is None:
        return None
    if isinstance(type_, sa.Boolean):
        return bool(value)
    if isinstance(type_, sa.DateTime):
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
        return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
    if isinstance(type_, sa.Date):
        return value if isinstance(value, date) else date.fromisoformat(value)
    if isinstance(type_, sa.JSON):
        return json.loads(value) if isinstance(value, str) else value
    if isinstance(value, (bytes, memoryview)):
        return shapely.to_wkb(shapely.from_wkb(bytes(value)), byte_order=1, hex=True)
    return value


def table_rows(url: str, tables=LEDGER_TABLES) -> dict[str, list[dict]]:
    """Every row of ``tables`` in key order: booleans, times (UTC), dates, JSON and geometry (WKB)
    in one form whichever backend holds them; an evidence or imagery file's path as its content address."""
    with open_store(url) as store, store.engine.connect() as conn:
        geometry = store.geometry_columns(conn)
        inspector = sa.inspect(conn)
        out = {}
        for table in tables:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", sa.exc.SAWarning)
                columns = inspector.get_columns(table)
            key = inspector.get_pk_constraint(table)["constrained_columns"]
            read = [store.geometry_as_wkb(c["name"]) if c["name"] in geometry.get(table, {}) else c["name"]
                    for c in columns]
            rows = conn.execute(sa.text(f"SELECT {', '.join(read)} FROM {table} ORDER BY {', '.join(key)}")).all()
            out[table] = [{c["name"]: _plain(v, c["type"]) for c, v in zip(columns, row)} for row in rows]
        for row in out.get("evidence", []) + out.get("imagery", []):
            row["stored_path"] = Path(row["stored_path"]).relative_to(Path(row["stored_path"]).parents[1]).as_posix()
    return out


def checksum(url: str) -> str:
    """Of every row of every table, sessions and the schema revision included."""
    rows = table_rows(url, LEDGER_TABLES + NOT_COPIED)
    with open_store(url) as store:
        rows["revision"] = store.schema_revision()
    return hashlib.sha256(json.dumps(rows, sort_keys=True, default=str).encode()).hexdigest()


def evidence_files(url: str, table: str = "evidence") -> dict[str, bytes]:
    """The evidence (or imagery) files a database names, read from where it says they are."""
    with open_store(url) as store, store.engine.connect() as conn:
        stored = conn.execute(sa.text(f"SELECT sha256, stored_path FROM {table}")).all()
    return {sha: Path(path).read_bytes() for sha, path in stored}


def what_the_cli_says(url: str, tmp_path: Path) -> dict:
    """stats --format json on three days, every patch's history, the year's Markdown report."""
    said = {day: json.loads(run("--db", url, "stats", "--format", "json", "--as-of", day).stdout) for day in DAYS}
    with open_store(url) as store:
        refs = [f"{r.batch}/{r.patch_code}" for r in list_patches(store).itertuples()]
    said["history"] = {ref: json.loads(run("--db", url, "patches", "history", ref, "--json").stdout) for ref in refs}
    report = tmp_path / f"report_{uuid.uuid4().hex[:6]}.md"
    written = run("--db", url, "report", "--year", 2023, "--no-charts", "--date", "2024-01-10", "-o", report)
    assert written.exit_code == 0, written.output
    said["report"] = report.read_text(encoding="utf-8")
    return said


def differing(found, expected, path: str = "") -> list[str]:
    """Where ``found`` differs from ``expected``, but for the last bits of a sum a database adds
    up in its own order (another backend, or PostgreSQL reading its heap in another physical
    order); the printed figures, the texts, dates and counts all exactly."""
    if isinstance(expected, float) and isinstance(found, float):
        return [] if math.isclose(found, expected, rel_tol=1e-12, abs_tol=1e-9) else [f"{path}: {found} {expected}"]
    if isinstance(expected, dict) and isinstance(found, dict):
        if found.keys() != expected.keys():
            return [f"{path}: keys {sorted(found.keys() ^ expected.keys())}"]
        return [d for k in expected for d in differing(found[k], expected[k], f"{path}/{k}")]
    if isinstance(expected, list) and isinstance(found, list) and len(found) == len(expected):
        return [d for i, (f, e) in enumerate(zip(found, expected)) for d in differing(f, e, f"{path}[{i}]")]
    if isinstance(expected, str) and isinstance(found, str) and "\n" in expected:   # the report: its diff
        return ["\n".join(difflib.unified_diff(expected.splitlines(), found.splitlines(), path, path, lineterm=""))
                ] if found != expected else []
    return [] if found == expected else [f"{path}: {str(found)[:300]!r} {str(expected)[:300]!r}"]


# --- the move there and back ----------------------------------------------------------------

def test_a_ledger_moves_to_the_other_backend_and_back_row_for_row(township, pg, tmp_path, monkeypatch):
    source, _ = township
    there = other_backend(source, pg, tmp_path, "there")
    back = same_backend(source, pg, tmp_path, "back")
    monkeypatch.setattr("geo_tracker.cli.move.LARGE_TABLE_ROWS", 100)
    moved = run("--db", source, "move", "--to", there, "--evidence-dir", tmp_path / "there_evidence")
    assert moved.exit_code == 0, moved.output + moved.stderr
    assert "Moved ledger" in moved.stdout and "2 login sessions left behind" in moved.stdout
    assert "3 evidence files copied" in moved.stdout
    assert "Rows per table, source and target" in moved.stdout and "✗" not in moved.stdout
    assert re.search(r"^  events: 1\d\d rows in \d+\.\d s$", moved.stderr, re.M) and "patches:" not in moved.stderr
    returned = run("--db", there, "move", "--to", back, "--evidence-dir", tmp_path / "back_evidence")
    assert returned.exit_code == 0, returned.output + returned.stderr

    expected = table_rows(source)
    assert sum(len(rows) for rows in expected.values()) > 300
    assert {t for t, rows in expected.items() if not rows} <= {"patch_relapses", "backups", "review_policies",
                                                              "action_keys"}
    assert any(e["voided_by"] for e in expected["events"])
    for url in (there, back):
        assert table_rows(url) == expected
        assert table_rows(url, NOT_COPIED) == {"sessions": []}
    assert len(table_rows(source, NOT_COPIED)["sessions"]) == 2
    said = what_the_cli_says(source, tmp_path)
    assert len(said["history"]) == 28 and "自然资源图斑整改情况" in said["report"]
    assert said["2023-12-31"]["total"]["patches"] == 28 and said["2023-12-31"]["total"]["rectified_mu"] > 80
    assert differing(what_the_cli_says(there, tmp_path), said) == []
    assert differing(what_the_cli_says(back, tmp_path), said) == []
    files = evidence_files(source)
    assert len(files) == 3 and evidence_files(there) == files == evidence_files(back)
    images = evidence_files(source, "imagery")
    assert len(images) == 2 and evidence_files(there, "imagery") == images == evidence_files(back, "imagery")
    with open_store(back) as store, store.engine.connect() as conn:
        paths = conn.execute(sa.text("SELECT stored_path FROM evidence")).scalars().all()
    assert all(Path(p).is_relative_to(tmp_path / "back_evidence") for p in paths)


def test_ids_the_target_makes_next_follow_the_moved_ones(township, pg, tmp_path):
    source, _ = township
    target = other_backend(source, pg, tmp_path, "next")
    assert run("--db", source, "move", "--to", target).exit_code == 0
    with open_store(target) as store:
        before = table_rows(target, ["events", "patrols"])
        ref = next(f"{r.batch}/{r.patch_code}" for r in list_patches(store).itertuples() if r.status == "issued")
        done = tracking.verify_patch(store, ref, "legal", date(2024, 3, 1))
        patrol = patrols.add_patrol(store, date(2024, 3, 2), members="王五")
    assert done["event_id"] == max(e["id"] for e in before["events"]) + 1
    assert patrol["patrol_id"] == max(p["id"] for p in before["patrols"]) + 1


def test_evidence_already_in_the_target_folder_keeps_its_path(township, pg, tmp_path):
    source, source_evidence = township
    target = other_backend(source, pg, tmp_path, "same_folder")
    with open_store(source) as store:
        result = move_ledger(store, target, evidence_dir=source_evidence)
    assert result.evidence_copied == 0 and result.warnings == []
    with open_store(source) as a, a.engine.connect() as conn:
        paths = dict(conn.execute(sa.text("SELECT sha256, stored_path FROM evidence")).all())
    with open_store(target) as b, b.engine.connect() as conn:
        assert dict(conn.execute(sa.text("SELECT sha256, stored_path FROM evidence")).all()) == paths


def test_a_missing_evidence_file_is_a_warning_naming_the_file_and_the_patch(township, pg, tmp_path):
    source, _ = township
    with open_store(source) as store, store.engine.connect() as conn:
        path = conn.execute(sa.text("SELECT stored_path FROM evidence WHERE file_name = '远处.JPG'")).scalar_one()
    hidden = Path(path).with_name("hidden")
    Path(path).rename(hidden)
    try:
        target = other_backend(source, pg, tmp_path, "missing")
        moved = run("--db", source, "move", "--to", target, "--evidence-dir", tmp_path / "evidence_there")
    finally:
        hidden.rename(path)
    assert moved.exit_code == 0, moved.output + moved.stderr
    assert "2 evidence files copied" in moved.stdout
    assert f"evidence file 远处.JPG ({path}, cited by 2023年卫片执法第2批/" in moved.stderr
    assert "is missing or does not match its SHA-256" in moved.stderr
    assert len(table_rows(target)["evidence"]) == 3


# --- moving again, another ledger, an old source, a failure ----------------------------------

def test_moving_again_says_so_and_changes_nothing(township, pg, tmp_path):
    source, _ = township
    target = other_backend(source, pg, tmp_path, "again")
    first = run("--lang", "zh", "--db", source, "move", "--to", target)
    assert first.exit_code == 0 and "已将台账" in first.stdout and "登录会话2个未迁移" in first.stdout
    assert "各表行数" in first.stdout and "违法面积（亩）" in first.stdout
    assert english_words(re.sub(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", " ", first.stdout)) == []
    before = checksum(target)
    again = run("--db", source, "move", "--to", target)
    assert again.exit_code == 0, again.output + again.stderr
    with open_store(source) as store, store.engine.connect() as conn:
        ledger = conn.execute(sa.text("SELECT ledger_id FROM ledger")).scalar_one()
    assert f"already holds ledger {ledger}, the same as in" in again.stdout and "nothing changed" in again.stdout
    chinese = run("--lang", "zh", "--db", source, "move", "--to", target)
    assert chinese.exit_code == 0 and f"已有台账{ledger}" in chinese.stdout and "未作任何改动" in chinese.stdout
    assert checksum(target) == before


def test_moving_onto_itself_changes_nothing(township):
    source, _ = township
    before = checksum(source)
    result = run("--db", source, "move", "--to", source)
    assert result.exit_code == 0 and "nothing changed" in result.stdout
    assert checksum(source) == before


def _one_batch_ledger(url: str, tmp_path: Path) -> None:
    from geo_tracker.services.batches import ImportOptions, import_batch

    init_database(url)
    with open_store(url) as store:
        import_batch(store, bf.weipian_geojson(tmp_path), ImportOptions(source="natural-resources", batch="别处",
                                                                        issued_on=date(2023, 6, 30)))


def test_a_target_holding_another_ledger_is_refused_and_unchanged(township, pg, tmp_path):
    source, _ = township
    target = other_backend(source, pg, tmp_path, "occupied")
    _one_batch_ledger(target, tmp_path)
    before = checksum(target)
    with open_store(target) as store, store.engine.connect() as conn:
        theirs = conn.execute(sa.text("SELECT ledger_id FROM ledger")).scalar_one()
    with open_store(source) as store, store.engine.connect() as conn:
        ours = conn.execute(sa.text("SELECT ledger_id FROM ledger")).scalar_one()
    refused = run("--db", source, "move", "--to", target)
    assert refused.exit_code == 2
    assert f"already holds another ledger ({theirs}), not the one in" in refused.stderr and f"({ours})" in refused.stderr
    assert "nothing was changed: move into an empty database" in refused.stderr
    assert checksum(target) == before
    with open_store(source) as store, pytest.raises(LedgerConflictError):
        move_ledger(store, target)


def test_a_target_at_an_older_schema_holding_data_is_refused_not_upgraded(township, pg, tmp_path):
    source, _ = township
    target = other_backend(source, pg, tmp_path, "old_target")
    _at_revision(target, "0008", batch=True)
    refused = run("--db", source, "move", "--to", target)
    assert refused.exit_code == 2 and "is at schema 0008 and already holds data" in refused.stderr
    with open_store(target, check_schema=False) as store:
        assert store.schema_revision() == "0008"


def _at_revision(url: str, revision: str, *, batch: bool = False) -> None:
    with open_store(url, create=True, check_schema=False) as store:
        with store.transaction() as conn:
            store.prepare(conn)
            migrate.upgrade(conn, revision)
            if batch:
                conn.execute(sa.text("INSERT INTO batches (source, name, issued_on) VALUES ('forestry', 'old', "
                                     "'2022-05-01')"))


@pytest.mark.parametrize("backend", ["spatialite", pytest.param("postgis", marks=pytest.mark.postgis)])
def test_a_source_at_an_older_schema_is_refused(backend, pg, tmp_path):
    source = pg() if backend == "postgis" else f"sqlite:///{tmp_path / 'old.sqlite'}"
    _at_revision(source, "0008", batch=True)
    target = f"sqlite:///{tmp_path / 'new.sqlite'}"
    refused = run("--db", source, "move", "--to", target)
    assert refused.exit_code == 2
    assert f"is at schema 0008; a move needs {migrate.head_revision()}" in refused.stderr
    assert "init` first (nothing is lost), then move again" in refused.stderr
    assert not (tmp_path / "new.sqlite").exists()


def _failing_at(monkeypatch, n: int):
    real = copier.copy_table
    calls = []

    def failing(*args, **kwargs):
        calls.append(args[4].name)
        if len(calls) == n:
            raise RuntimeError(f"disk pulled out while copying {calls[-1]}")
        return real(*args, **kwargs)

    monkeypatch.setattr(copier, "copy_table", failing)
    return calls


@pytest.mark.parametrize("fail_at", [5, len(LEDGER_TABLES)])
def test_a_failure_in_the_middle_leaves_the_target_as_it_was(township, pg, tmp_path, monkeypatch, fail_at):
    source, _ = township
    target = other_backend(source, pg, tmp_path, "broken")
    init_database(target)
    before = checksum(target)
    calls = _failing_at(monkeypatch, fail_at)
    with open_store(source) as store, pytest.raises(RuntimeError, match="disk pulled out"):
        move_ledger(store, target, evidence_dir=tmp_path / "evidence_there")
    assert calls[-1] == LEDGER_TABLES[fail_at - 1]
    assert checksum(target) == before
    assert not [p for p in (tmp_path / "evidence_there").rglob("*") if p.is_file()]
    monkeypatch.undo()
    assert run("--db", source, "move", "--to", target).exit_code == 0   # and then it goes through


def test_a_copy_that_differs_from_its_source_is_rolled_back(township, pg, tmp_path, monkeypatch):
    from geo_tracker.core.ledger import Difference
    from geo_tracker.services import move

    source, _ = township
    target = other_backend(source, pg, tmp_path, "differs")
    init_database(target)
    before = checksum(target)
    monkeypatch.setattr(move, "differences", lambda a, b: [Difference("count:events", 131, 130)])
    with open_store(source) as store, pytest.raises(InternalError, match=r"count:events: 131 -> 130.*rolled back"):
        move_ledger(store, target)
    failed = run("--db", source, "move", "--to", target)
    assert failed.exit_code == 1 and "this is a bug in geo_tracker" in failed.stderr
    assert checksum(target) == before


# --- the order tables are copied in ----------------------------------------------------------

def test_the_copy_order_puts_parents_first_and_covers_every_table(db_url):
    with open_store(db_url) as store, store.engine.connect() as conn:
        refers = copier.foreign_keys(conn, LEDGER_TABLES + NOT_COPIED)
        for child, _column, parent in partitions.REFERENCES:   # not keys on PostGIS: the order keeps them still
            if child != parent:
                refers[child].add(parent)
        parts = {t for table in partitions.KEYS for t in _partitions_of(conn, table)}
        names = set(sa.inspect(conn).get_table_names()) - parts
    assert all(LEDGER_TABLES.index(parent) < LEDGER_TABLES.index(child)
               for child in LEDGER_TABLES for parent in refers[child]), refers
    assert refers["events"] == {"batches", "patches", "cases"} and refers["case_patches"] == {"cases", "patches"}
    ours = {t for t in names if t in set(LEDGER_TABLES + NOT_COPIED) or not _spatial_metadata(t)}
    assert ours - {"alembic_version"} == set(LEDGER_TABLES) | set(NOT_COPIED)


def _partitions_of(conn, table: str) -> list[str]:
    if conn.dialect.name != "postgresql":
        return []
    return conn.execute(sa.text("SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = to_regclass(:t)"),
                        {"t": table}).scalars().all()


def _spatial_metadata(name: str) -> bool:
    """SpatiaLite's and PostGIS's own tables, and the R*Tree of each geometry column."""
    return (name.startswith(("idx_", "geometry_columns", "views_geometry", "virts_geometry", "spatial_ref_sys",
                             "spatialite_", "sql_statements", "vector_layers"))
            or name in {"ElementaryGeometries", "KNN", "SpatialIndex", "data_licenses", "KNN2"})
