"""The command line: every error path a user can cause gives one line and exit 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from geo_tracker import __version__
from geo_tracker.cli import cli
from geo_tracker.store import migrate


def run(*args, env=None):
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def run_process(*args, **env):
    """The real console entry point in a fresh interpreter (for import-time settings)."""
    return subprocess.run(
        [sys.executable, "-c", "from geo_tracker.cli import main; main()", *args],
        capture_output=True, text=True, env={**os.environ, **env}, timeout=120,
    )


def test_version():
    result = run("--version")
    assert result.exit_code == 0
    assert result.output.strip() == f"geo-tracker, version {__version__}"


def test_help_lists_the_commands():
    result = run("--help")
    assert result.exit_code == 0
    for command in ("init", "info", "demo"):
        assert f"  {command}" in result.output


def test_init_then_info_on_both_backends(empty_db_url):
    first = run("--db", empty_db_url, "init")
    assert first.exit_code == 0, first.output
    assert f"schema empty -> {migrate.head_revision()}" in first.output
    second = run("--db", empty_db_url, "init")
    assert second.exit_code == 0
    assert "is up to date" in second.output
    info = run("--db", empty_db_url, "info", "--json")
    assert info.exit_code == 0, info.output
    data = json.loads(info.output)
    assert data["schema_revision"] == migrate.head_revision()
    assert data["counts"] == {"admin_units": 0, "batches": 0, "batch_imports": 0, "patches": 0, "events": 0, "cases": 0}
    if empty_db_url.startswith("sqlite"):
        assert data["backend"] == "spatialite" and data["versions"]["SpatiaLite"].startswith("5")
    else:
        assert data["backend"] == "postgis" and data["versions"]["PostGIS"].startswith("3")


def test_env_var_selects_the_database(tmp_path):
    path = tmp_path / "from_env.sqlite"
    result = run("init", env={"GEO_TRACKER_DB": f"sqlite:///{path}"})
    assert result.exit_code == 0, result.output
    assert path.exists()


def test_default_database_is_geo_tracker_sqlite_in_the_working_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GEO_TRACKER_DB", raising=False)
    assert run("init").exit_code == 0
    assert (tmp_path / "geo_tracker.sqlite").exists()


@pytest.mark.postgis
def test_init_creates_a_missing_postgresql_database(pg_database):
    server = pg_database.rsplit("/", 1)[0]
    name = f"geo_tracker_new_{uuid.uuid4().hex[:8]}"
    try:
        result = run("--db", f"{server}/{name}", "init")
        assert result.exit_code == 0, result.output
        info = json.loads(run("--db", f"{server}/{name}", "info", "--json").output)
        assert info["database"].endswith(f"/{name}")
    finally:
        engine = sa.create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


@pytest.mark.parametrize("url, message", [
    ("mysql://root@127.0.0.1/x", "Error: unsupported database 'mysql'"),
    ("sqlite://", "names no file"),
    ("postgresql://127.0.0.1:5432", "names no database"),
    ("post gres://x", "cannot parse database URL"),
])
def test_bad_url_is_one_line_and_exit_2(url, message):
    result = run("--db", url, "info")
    assert result.exit_code == 2
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_unreachable_server_is_one_line_and_exit_2():
    result = run("--db", "postgresql://gt:secret@127.0.0.1:1/county", "info")
    assert result.exit_code == 2
    assert result.output.startswith("Error: cannot connect to PostgreSQL (host 127.0.0.1:1, database 'county')")
    assert "pg_ctlcluster" in result.output
    assert "secret" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_missing_database_file_says_run_init(tmp_path):
    path = tmp_path / "nowhere.sqlite"
    result = run("--db", str(path), "info")
    assert result.exit_code == 2
    assert f"Error: database file {path} does not exist: run `geo-tracker --db {path} init`" in result.output
    assert not path.exists()


def test_init_into_a_missing_folder_is_refused(tmp_path):
    result = run("--db", f"sqlite:///{tmp_path}/no/such/dir/x.sqlite", "init")
    assert result.exit_code == 2
    assert "folder" in result.output and "does not exist" in result.output


@pytest.mark.postgis
def test_password_is_masked_in_info(pg_schema_url):
    url = pg_schema_url[0].replace("postgres@", "postgres:hunter2@")
    assert run("--db", url, "init").exit_code == 0
    out = run("--db", url, "info", "--json").output
    assert "hunter2" not in out and "***" in json.loads(out)["database"]



def test_spatialite_missing_names_the_debian_package(tmp_path):
    proc = run_process("--db", f"sqlite:///{tmp_path}/x.sqlite", "init",
                       SPATIALITE_LIBRARY_PATH="/nonexistent/mod_spatialite")
    assert proc.returncode == 2
    assert proc.stderr.startswith("Error: cannot load SpatiaLite (/nonexistent/mod_spatialite)")
    assert "apt-get install libsqlite3-mod-spatialite" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.postgis
def test_postgis_not_available_to_the_user_is_explained(pg_database):
    """A user that may not CREATE EXTENSION gets told what to install / ask for."""
    server = pg_database.rsplit("/", 1)[0]
    role, name = f"gt_nopriv_{uuid.uuid4().hex[:6]}", f"geo_tracker_noext_{uuid.uuid4().hex[:6]}"
    admin = sa.create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE ROLE {role} LOGIN"))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        conn.execute(sa.text(f'GRANT ALL ON DATABASE "{name}" TO {role}'))
    try:
        url = server.replace("postgres@", f"{role}@") + f"/{name}"
        result = run("--db", url, "init")
        assert result.exit_code == 2
        assert "Error: cannot enable PostGIS in host 127.0.0.1:5432" in result.output
        assert "apt-get install postgresql-15-postgis-3" in result.output
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(sa.text(f"DROP ROLE IF EXISTS {role}"))
        admin.dispose()


def test_internal_error_exits_1_without_traceback(db_url, monkeypatch):
    import geo_tracker.cli.database as cli_database

    def broken(store):
        raise RuntimeError("boom")

    monkeypatch.setattr(cli_database, "database_info", broken)
    result = CliRunner().invoke(cli, ["--db", db_url, "info"])
    assert result.exit_code == 1
    assert "Internal error: RuntimeError: boom" in result.output
    assert "Traceback" not in result.output


def test_demo_builds_a_database_and_prints_info(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("demo")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "geo_tracker_demo.sqlite").exists()
    assert "schema_revision" in result.output and migrate.head_revision() in result.output
    assert "Imported 2023年卫片执法第2批.zip:WPZF_2023_2.shp into batch 2023年卫片执法第2批" in result.output
    assert "70.37 亩" in result.output and "4.87 亩" in result.output
    assert "EPSG:4544" in result.output


def test_every_command_is_registered_lazily_and_loads_only_its_own_modules():
    import importlib

    from geo_tracker.cli import COMMANDS, cli

    for modules, _summary in COMMANDS.values():
        for module in modules:
            importlib.import_module(f"geo_tracker.cli.{module}")
    assert set(cli.commands) == set(COMMANDS)                          # no command without its entry
    for name, (_modules, summary) in COMMANDS.items():                 # --help shows each one's own line
        assert summary == cli.commands[name].get_short_help_str(limit=10**6), name
    heavy = ("sqlalchemy", "rich", "pandas", "geopandas", "shapely", "fastapi")
    assert modules_loaded_by(["--help"], heavy) == "[] True"           # the root help imports no command
    web = ("fastapi", "uvicorn", "docx", "matplotlib", "folium", "argon2")
    assert modules_loaded_by(["patches", "verify", "--help"], web).startswith("[]")


def modules_loaded_by(args: list[str], watched: tuple[str, ...]) -> str:
    """Which of ``watched`` a fresh interpreter has loaded after running ``geo-tracker ARGS``,
    and whether the output lists the commands."""
    import subprocess
    import sys

    probe = ("import sys; from click.testing import CliRunner; from geo_tracker.cli import cli; "
             f"out = CliRunner().invoke(cli, {args!r}, catch_exceptions=False).output; "
             f"print(sorted(m for m in {watched!r} if m in sys.modules), 'Batches of patches' in out)")
    return subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.strip()
