"""Backups of a ledger (台账备份): one zip archive with a consistent copy of the database, every
evidence file it refers to, and a manifest to check them by; verifying one; restoring one.

The archive is a plain zip, so an office can open it and see what it holds::

    manifest.json                  format, schema revision, counts per table, stats totals, SHA-256 of every file
    database/ledger.sqlite         SpatiaLite: SQLite's online backup API, while writers go on
    database/ledger.pgdump         PostGIS: pg_dump --format=custom of an exported snapshot
    evidence/ab/ab12….jpg          the evidence files, by content
    imagery/cd/cd34….tif           the imagery (影像: COGs, MBTiles), by content

The manifest is written last: an archive cut short has no central directory and no manifest,
and is refused as a whole.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from ..io.evidence import file_sha256
from .. import __version__
from ..catalogue import Listing, msg
from ..core.ledger import Difference, differences
from ..errors import (BackupDamagedError, ConflictError, DatabaseUnavailableError, GeoTrackerError,
                      LedgerConflictError)
from ..store import Store, open_store, store_class
from ..store import backups as backups_repo
from ..store import evidence as evidence_repo
from ..store import imagery as imagery_repo
from . import ledger
from .database import init_database

FORMAT = "geo_tracker-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
#: Dated backups in a folder: ``geo_tracker-backup-20261201-023000.zip``; an admin's downloads kept
#: there are ``geo_tracker-download-…``, and each kind keeps its own newest N.
FOLDER_PATTERN = "geo_tracker-backup-*.zip"
DOWNLOAD_PATTERN = "geo_tracker-download-*.zip"
CHUNK = 1 << 20

#: ``progress(done_bytes, total_bytes)`` while files are written or read.
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size_bytes: int
    sha256: str
    seconds: float
    manifest: dict
    missing: list[str] = field(default_factory=list)   # evidence rows whose file was not on disk


@dataclass(frozen=True)
class VerifyResult:
    manifest: dict
    files_checked: int
    content_checked: bool        # False: a PostGIS dump checked by checksum only (no server to load it)


@dataclass(frozen=True)
class RestoreResult:
    url: str
    from_revision: str
    to_revision: str
    counts: dict
    files: int
    replaced_backup: Path | None


# --- backup ---------------------------------------------------------------------------------

def backup(store: Store, out: str | Path, *, trigger: str = "manual", actor: str | None = None,
           progress: Progress | None = None) -> BackupResult:
    """Write the archive ``out`` (atomically: ``out.part`` until complete) and record it."""
    start = time.perf_counter()
    out = Path(out)
    if out.is_dir():
        raise ConflictError(msg("backups.output_is_folder", path=out))
    out.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=out.name + ".", suffix=".part", dir=out.parent)   # one per writer
    os.close(handle)
    partial = Path(name)
    with tempfile.TemporaryDirectory(prefix=".geo_tracker_backup_", dir=out.parent) as tmp:
        copy = Path(tmp) / Path(store.snapshot_member).name
        with store.snapshot(copy) as frozen, ThreadPoolExecutor(1) as counting:
            with frozen.engine.connect() as conn:
                stored = [(evidence_member(sha, Path(p).name), sha, p) for sha, p in evidence_repo.stored_files(conn)]
                stored += [(imagery_member(sha, Path(p).name), sha, p) for sha, p in imagery_repo.stored_files(conn)]
            summary = counting.submit(ledger.summary, frozen)   # while the files are compressed
            try:
                manifest, missing = _write_archive(partial, store, copy, summary.result, stored, progress)
                partial.replace(out)
            finally:
                partial.unlink(missing_ok=True)
    digest = file_sha256(out)
    size = out.stat().st_size
    with store.transaction() as conn:
        backups_repo.record(conn, taken_at=datetime.now(timezone.utc), file_name=out.name, size_bytes=size,
                            sha256=digest, trigger=trigger, actor=actor)
    return BackupResult(out, size, digest, time.perf_counter() - start, manifest, missing)


def _write_archive(path: Path, store: Store, copy: Path, summary: Callable[[], dict],
                   stored: list[tuple[str, str, str]], progress: Progress | None) -> tuple[dict, list[str]]:
    """The members, then the manifest, whose ``summary`` is asked for last. ``stored``: (member,
    sha256, path) of each evidence and imagery file."""
    members = [(store.snapshot_member, copy)]
    missing = []
    for member, sha, stored_path in stored:
        source = Path(stored_path) if stored_path else None
        if source is None or not source.is_file():
            missing.append(stored_path or sha)
            continue
        members.append((member, source))
    total, done = sum(p.stat().st_size for _, p in members), 0
    files = {}
    # The fastest deflate for the SpatiaLite file (it shrinks ~5x all the same); photos and a
    # pg_dump are compressed already.
    with zipfile.ZipFile(path, "w", allowZip64=True, compresslevel=1) as archive:
        for member, source in members:
            archive.compression = zipfile.ZIP_DEFLATED if member.endswith(".sqlite") else zipfile.ZIP_STORED
            digest, size = hashlib.sha256(), 0
            with open(source, "rb") as src, archive.open(member, "w", force_zip64=True) as dst:
                while chunk := src.read(CHUNK):
                    digest.update(chunk)
                    dst.write(chunk)
                    size += len(chunk)
                    done += len(chunk)
                    if progress:
                        progress(done, total)
            files[member] = {"sha256": digest.hexdigest(), "size": size}
        manifest = {"format": FORMAT, "format_version": FORMAT_VERSION, "geo_tracker": __version__,
                    "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    "backend": store.backend, "database": store.display_url,
                    "database_member": store.snapshot_member, "summary": summary(), "files": files,
                    "missing_files": missing}
        archive.writestr(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1), zipfile.ZIP_DEFLATED)
    return manifest, missing


def evidence_member(sha256: str, name: str) -> str:
    return f"evidence/{sha256[:2]}/{name}"


def imagery_member(sha256: str, name: str) -> str:
    return f"imagery/{sha256[:2]}/{name}"


def backup_to_folder(store: Store, folder: str | Path, *, keep: int = 7, trigger: str = "manual",
                     actor: str | None = None, progress: Progress | None = None,
                     pattern: str = FOLDER_PATTERN) -> BackupResult:
    """A dated archive in ``folder``; of the dated archives there (of ``pattern``), only the newest
    ``keep`` stay. Two backups in one second get two names."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    claimed = _free_name(folder, pattern)
    try:
        result = backup(store, claimed, trigger=trigger, actor=actor, progress=progress)
    except BaseException:
        if claimed.exists() and claimed.stat().st_size == 0:
            claimed.unlink()                   # the name claimed, nothing written into it
        raise
    for old in sorted(folder.glob(pattern))[:-max(keep, 1)]:
        old.unlink(missing_ok=True)
    return result


def _free_name(folder: Path, pattern: str) -> Path:
    """``pattern`` with now's stamp, claimed by creating the file (a second one this second gets ``-2``)."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    for n in range(1, 1000):
        path = folder / pattern.replace("*", stamp if n == 1 else f"{stamp}-{n}")
        try:
            path.open("x").close()
            return path
        except FileExistsError:
            continue
    raise ConflictError(msg("backups.output_is_folder", path=folder))


def backup_for_download(store: Store, folder: str | None, *, keep: int = 7,
                        actor: str | None = None) -> tuple[BackupResult, Callable[[], None]]:
    """A backup an admin downloads (a 备份 button, the API): kept as a dated archive in the
    service's backup ``folder`` when one is set, else written to a temporary folder that the
    returned ``cleanup`` removes once it is sent."""
    if folder:
        return backup_to_folder(store, folder, keep=keep, actor=actor, pattern=DOWNLOAD_PATTERN), lambda: None
    tmp = Path(tempfile.mkdtemp(prefix="geo_tracker_download_"))
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    result = backup(store, tmp / FOLDER_PATTERN.replace("*", stamp), actor=actor)
    return result, lambda: shutil.rmtree(tmp, ignore_errors=True)


def recent_backups(store: Store, limit: int = 20) -> list[dict]:
    with store.engine.connect() as conn:
        return backups_repo.recent(conn, limit)


#: /readyz warns when the newest backup is older than this.
MAX_AGE = timedelta(days=2)


def backup_warning(store: Store, now: datetime | None = None):
    """A catalogue message when the last backup is older than :data:`MAX_AGE` (or there is none), else None."""
    now = now or datetime.now(timezone.utc)
    last = recent_backups(store, 1)
    if not last:
        return msg("backups.never")
    taken = last[0]["taken_at"]
    if now - taken <= MAX_AGE:
        return None
    return msg("backups.last_too_old", days=(now - taken).days, when=taken.astimezone().strftime("%Y-%m-%d %H:%M"))


def next_run(at: tuple[int, int], now: datetime) -> datetime:
    """The next local time of day ``at`` (hour, minute) after ``now`` (a local, naive datetime)."""
    run = now.replace(hour=at[0], minute=at[1], second=0, microsecond=0)
    return run if run > now else run + timedelta(days=1)


# --- verify ---------------------------------------------------------------------------------

def verify(path: str | Path, *, scratch_url: str | None = None, progress: Progress | None = None) -> VerifyResult:
    """Check every checksum, then open the database copy and compare its counts and totals with
    the manifest. A PostGIS dump is loaded into a scratch database on the server of
    ``scratch_url`` (dropped afterwards); without one it is checked by checksum only."""
    path = Path(path)
    with _open_archive(path) as archive:
        manifest = _check_members(path, archive, progress)
        cls, _ = store_class(scratch_url) if scratch_url else (None, None)
        member = manifest["database_member"]
        if not member.endswith(".sqlite") and (cls is None or cls.snapshot_member != member):
            return VerifyResult(manifest, len(manifest["files"]), content_checked=False)
        with tempfile.TemporaryDirectory(prefix=".geo_tracker_verify_", dir=path.parent) as tmp:
            copy = _extract(archive, member, Path(tmp))
            with _loaded(copy, member, scratch_url, Path(tmp)) as store:
                found = ledger.summary(store, date.fromisoformat(manifest["summary"]["as_of"]))
    _raise_on(path, differences(manifest["summary"], found))
    return VerifyResult(manifest, len(manifest["files"]), content_checked=True)


def _open_archive(path: Path) -> zipfile.ZipFile:
    if not path.is_file():
        raise BackupDamagedError(msg("backups.no_file", path=path))
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as e:
        raise BackupDamagedError(msg("backups.not_an_archive", path=path, reason=str(e))) from None


def _check_members(path: Path, archive: zipfile.ZipFile, progress: Progress | None) -> dict:
    """The manifest, once every member it lists is there with its checksum; else every problem at once."""
    try:
        manifest = json.loads(archive.read(MANIFEST))
    except KeyError:
        raise BackupDamagedError(msg("backups.no_manifest", path=path)) from None
    except (zipfile.BadZipFile, ValueError, OSError) as e:
        raise BackupDamagedError(msg("backups.manifest_unreadable", path=path, reason=str(e))) from None
    if manifest.get("format") != FORMAT or manifest.get("format_version", 0) > FORMAT_VERSION:
        raise BackupDamagedError(msg("backups.not_ours", path=path, format=manifest.get("format")))
    names = set(archive.namelist())
    problems = []
    total = sum(meta["size"] for meta in manifest["files"].values())
    done = 0
    for member, meta in manifest["files"].items():
        if member not in names:
            problems.append(msg("backups.member_missing", member=member))
            continue
        digest = hashlib.sha256()
        try:
            with archive.open(member) as fh:
                while chunk := fh.read(CHUNK):
                    digest.update(chunk)
                    done += len(chunk)
                    if progress:
                        progress(done, total)
        except (zipfile.BadZipFile, OSError, EOFError) as e:
            problems.append(msg("backups.member_unreadable", member=member, reason=str(e)))
            continue
        if digest.hexdigest() != meta["sha256"]:
            problems.append(msg("backups.member_altered", member=member, expected=meta["sha256"][:12],
                                found=digest.hexdigest()[:12]))
    for extra in sorted(names - set(manifest["files"]) - {MANIFEST}):
        problems.append(msg("backups.member_unlisted", member=extra))
    if problems:
        raise BackupDamagedError(msg("backups.damaged", path=path, count=len(problems), problems=Listing(problems[:10])))
    return manifest


def _raise_on(path: Path, found: list[Difference]) -> None:
    if found:
        listed = "; ".join(f"{d.what}: {d.expected} -> {d.found}" for d in found[:10])
        raise BackupDamagedError(msg("backups.content_differs", path=path, count=len(found), differences=listed))


def _extract(archive: zipfile.ZipFile, member: str, folder: Path) -> Path:
    target = folder / Path(member).name
    with archive.open(member) as src, open(target, "wb") as dst:
        shutil.copyfileobj(src, dst, CHUNK)
    return target


class _loaded:
    """The database copy of an archive opened as a store: a SpatiaLite file as it is, a PostGIS
    dump restored into a scratch database (dropped on exit)."""

    def __init__(self, copy: Path, member: str, scratch_url: str | None, folder: Path):
        self.copy, self.member, self.scratch_url, self.folder = copy, member, scratch_url, folder
        self.wipe = None

    def __enter__(self) -> Store:
        if self.member.endswith(".sqlite"):
            self.store = open_store(f"sqlite:///{self.copy}", check_schema=False)
            return self.store
        cls, url = store_class(self.scratch_url)
        scratch = url.set(database=f"gt_verify_{hashlib.sha256(str(self.copy).encode()).hexdigest()[:12]}")
        cls.remove(scratch)
        self.wipe = lambda: cls.remove(scratch)
        try:
            cls.load_snapshot(scratch, self.copy)
        except DatabaseUnavailableError as e:       # the server answered: the dump is what it could not load
            self.wipe()
            raise BackupDamagedError(msg("backups.dump_unloadable", member=self.member, reason=e.args[0])) from None
        self.store = open_store(scratch.render_as_string(hide_password=False), check_schema=False)
        return self.store

    def __exit__(self, *exc) -> None:
        self.store.close()
        if self.wipe:
            self.wipe()


# --- restore --------------------------------------------------------------------------------

def restore(path: str | Path, url: str, *, replace: bool = False, backup_dir: str | Path | None = None,
            progress: Progress | None = None) -> RestoreResult:
    """Load the archive into the database at ``url``, which must be empty (or, with ``replace``,
    is first backed up into ``backup_dir`` and removed); upgrade it to this version's schema;
    put the evidence files into its evidence folder; check it against the manifest."""
    path = Path(path)
    cls, sa_url = store_class(url)
    with _open_archive(path) as archive:
        manifest = _check_members(path, archive, progress)
        member = manifest["database_member"]
        if member != cls.snapshot_member and not member.endswith(".sqlite"):
            raise ConflictError(msg("backups.restore_kind", path=path, url=url))
        replaced = _clear_target(url, cls, sa_url, replace, Path(backup_dir or path.parent))
        with tempfile.TemporaryDirectory(prefix=".geo_tracker_restore_", dir=path.parent) as tmp:
            copy = _extract(archive, member, Path(tmp))
            if member == cls.snapshot_member:
                cls.load_snapshot(sa_url, copy)
            else:
                _move_into(copy, url)
        before = manifest["summary"]["schema_revision"]
        after = init_database(url).to_revision
        with open_store(url) as store:
            files = _place_files(store, archive, manifest, "evidence/", store.evidence_dir, evidence_repo.relocate)
            files += _place_files(store, archive, manifest, "imagery/", store.imagery_dir, imagery_repo.relocate)
            found = ledger.summary(store, date.fromisoformat(manifest["summary"]["as_of"]))
    expected = manifest["summary"]
    if before != after:      # the migrations may seed rows of their own (the ledger id, vocabulary)
        expected = {**expected, "counts": {t: n for t, n in expected["counts"].items() if t not in ledger.SEEDED}}
    _raise_on(path, [d for d in differences(expected, found, revision=False)
                     if not (d.what == "ledger_id" and expected.get("ledger_id") is None)])
    return RestoreResult(str(url), before, after, found["counts"], files, replaced)


def _clear_target(url: str, cls, sa_url, replace: bool, backup_dir: Path) -> Path | None:
    """Refuse a target that holds a ledger unless ``replace``; then back it up and remove it."""
    try:
        existing = open_store(url, check_schema=False)
    except GeoTrackerError:
        return None                                   # no database there yet
    with existing:
        initialised = existing.schema_revision() is not None
        if not initialised:
            with existing.engine.connect() as conn:
                foreign = existing.other_tables(conn)
            if foreign:
                raise LedgerConflictError(msg("backups.target_not_ours", url=existing.display_url,
                                              tables="、".join(foreign[:5])))
        occupied = initialised and ledger.holds_data(existing)
        if occupied and not replace:
            raise LedgerConflictError(msg("backups.target_not_empty", url=existing.display_url))
        saved = None
        if occupied:
            stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
            saved = backup(existing, backup_dir / f"geo_tracker-before-restore-{stamp}.zip",
                           trigger="before-restore").path
    cls.wipe(sa_url)
    return saved


def _move_into(copy: Path, url: str) -> None:
    """A SpatiaLite copy into PostGIS: upgraded where it lies, then moved with every id."""
    from .move import move_ledger

    init_database(f"sqlite:///{copy}")
    with open_store(f"sqlite:///{copy}") as source:
        move_ledger(source, url)


def _place_files(store: Store, archive: zipfile.ZipFile, manifest: dict, prefix: str, folder: Path,
                 relocate: Callable) -> int:
    """Write the archive's evidence (or imagery) files into the store's folder for them (each checked
    again by its SHA-256 as it is written) and record where they are now."""
    placed = 0
    with store.transaction() as conn:
        for member, meta in manifest["files"].items():
            if not member.startswith(prefix):
                continue
            sha = meta["sha256"]
            target = folder / sha[:2] / Path(member).name
            if not (target.is_file() and file_sha256(target) == sha):
                target.parent.mkdir(parents=True, exist_ok=True)
                partial = target.with_name(target.name + ".part")
                with archive.open(member) as src, open(partial, "wb") as dst:
                    shutil.copyfileobj(src, dst, CHUNK)
                partial.replace(target)
            relocate(conn, sha, str(target))
            placed += 1
    return placed
