"""A PostgreSQL primary and its streaming replica, made on this machine with Debian's own tools
(``pg_createcluster``, ``pg_basebackup``, ``pg_ctlcluster``), apart from the suite's main cluster
so that stopping the primary stops no other test. Both log every statement."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

PRIMARY, REPLICA = "gt_primary", "gt_replica"


def version() -> str | None:
    found = sorted((v for v in os.listdir("/etc/postgresql") if v.isdigit()), key=int) if Path(
        "/etc/postgresql").is_dir() else []
    return found[-1] if found and shutil.which("pg_createcluster") and shutil.which("pg_basebackup") else None


def _run(*args: str) -> str:
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{' '.join(args)} failed ({done.returncode}): {done.stderr or done.stdout}")
    return done.stdout


class Cluster:
    def __init__(self, ver: str, name: str, port: int):
        self.ver, self.name, self.port = ver, name, port
        self.data = Path(f"/var/lib/postgresql/{ver}/{name}")
        self.log = Path(f"/var/log/postgresql/postgresql-{ver}-{name}.log")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create(self, *settings: str) -> None:
        self.drop()
        options = [arg for setting in ("log_statement=all", *settings) for arg in ("-o", setting)]
        _run("pg_createcluster", self.ver, self.name, "-p", str(self.port), *options, "--", "--auth=trust")

    def start(self) -> None:
        _run("pg_ctlcluster", "--skip-systemctl-redirect", self.ver, self.name, "start")
        self.wait_ready()

    def stop(self) -> None:
        _run("pg_ctlcluster", "--skip-systemctl-redirect", self.ver, self.name, "stop", "-m", "fast")

    def wait_ready(self, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1", "-p", str(self.port)]).returncode:
            if time.monotonic() > deadline:
                raise RuntimeError(f"cluster {self.name} did not start: {self.log.read_text()[-2000:]}")
            time.sleep(0.1)

    def drop(self) -> None:
        if Path(f"/etc/postgresql/{self.ver}/{self.name}").exists():
            subprocess.run(["pg_dropcluster", "--stop", self.ver, self.name], capture_output=True)

    def log_size(self) -> int:
        return self.log.stat().st_size

    def statements_since(self, offset: int) -> list[str]:
        """Statements this cluster ran (its log) since the log had ``offset`` bytes."""
        with open(self.log, "rb") as fh:
            fh.seek(offset)
            entries = re.split(r"\n(?=\d{4}-\d\d-\d\d )", fh.read().decode("utf-8", "replace"))
        found = (re.search(r"LOG:  (?:statement|execute [^:]*): (.*)", entry, re.S) for entry in entries)
        return [statement.group(1) for statement in found if statement]

    def sql(self, query: str, database: str = "postgres"):
        engine = sa.create_engine(self.url(database), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                result = conn.execute(sa.text(query))
                return result.scalar() if result.returns_rows else None
        finally:
            engine.dispose()


@contextmanager
def primary_and_replica(database: str, fill, *, primary_port: int = 5442, replica_port: int = 5443):
    """A primary with ``database`` (``fill(url)`` makes its contents), then a replica streaming from
    it (made by ``pg_basebackup -R``); yields (primary, replica); drops both at the end."""
    ver = version()
    primary, replica = Cluster(ver, PRIMARY, primary_port), Cluster(ver, REPLICA, replica_port)
    try:
        primary.create("wal_level=replica", "max_wal_senders=5")
        primary.start()
        primary.sql(f'CREATE DATABASE "{database}"')
        fill(primary.url(database))
        replica.create("hot_standby=on")
        shutil.rmtree(replica.data)
        _run("install", "-d", "-o", "postgres", "-g", "postgres", "-m", "700", str(replica.data))
        _run("runuser", "-u", "postgres", "--", "pg_basebackup", "-h", "127.0.0.1", "-p", str(primary_port),
             "-U", "postgres", "-D", str(replica.data), "-R", "-X", "stream", "-c", "fast")
        replica.start()
        yield primary, replica
    finally:
        replica.drop()
        primary.drop()
