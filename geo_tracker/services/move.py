"""Moving a ledger (台账) into another database: a township's SpatiaLite file up to the county's
PostGIS, or a PostGIS ledger down to a SpatiaLite file to work offline.

Every table moves with its ids: patches and their versions, events and the voids among them,
cases, patrols, complaints, accounts and tokens, and the ledger id itself. Login sessions stay
behind (they belong to one server). Evidence files keep their content address; a file not yet
in the target's evidence folder is copied there.

The target is written in one transaction, and the counts and stats totals of source and target
are compared inside it, before it commits: a copy that differs is rolled back, so the target
holds either the whole ledger, checked, or what it held before.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from ..io.evidence import file_sha256
from ..catalogue import Listing, Message, msg
from ..core.ledger import Difference, differences
from ..errors import InternalError, LedgerConflictError, SchemaNotInitialisedError, SchemaOutdatedError
from ..store import Store, migrate, open_store
from ..store import copy as copier
from ..store.schema import LEDGER_TABLES, NOT_COPIED
from . import ledger
from .database import init_database

#: ``progress(table, rows_done, rows_total)`` after every chunk of a table.
Progress = Callable[[str, int, int], None]
CHUNK = 1 << 20


@dataclass(frozen=True)
class MoveResult:
    """What a move did: rows per table, both summaries and what differs between them (nothing,
    after a move), and the evidence files."""

    source: str
    target: str
    ledger_id: str
    already_there: bool
    counts: dict[str, int]
    source_summary: dict
    target_summary: dict
    differences: list[Difference]
    sessions_left: int = 0
    evidence_copied: int = 0
    warnings: list[Message] = field(default_factory=list)
    seconds: float = 0.0


def move_ledger(source: Store, target_url: str, *, evidence_dir: Path | None = None,
                chunk_rows: int = copier.CHUNK_ROWS, progress: Progress | None = None) -> MoveResult:
    """Copy the whole ledger of ``source`` into the database at ``target_url`` (created if missing).

    The source must be at this version's schema. The target must be empty, or hold this same
    ledger, in which case nothing changes and ``already_there`` is True; one holding another
    ledger is refused with :class:`LedgerConflictError`. Evidence files go to ``evidence_dir``
    (default: the target's own evidence folder).

    Example::

        with open_store("sqlite:///office.sqlite", check_schema=False) as source:
            result = move_ledger(source, "postgresql://127.0.0.1/beibei")
    """
    started = time.perf_counter()
    _check_source(source)
    _prepare_target(target_url, source)
    with open_store(target_url) as target:
        moving = ledger.ledger_id(source)
        if ledger.holds_data(target):
            return _already_there(source, target, moving, started)
        evidence = _Evidence(Path(evidence_dir) if evidence_dir else target.evidence_dir)
        imagery = _Evidence(target.imagery_dir)
        try:
            return _copy(source, target, moving, evidence, imagery, chunk_rows, progress, started)
        except BaseException:
            evidence.remove_created()
            imagery.remove_created()
            raise


def _check_source(source: Store) -> None:
    current, head = source.schema_revision(), migrate.head_revision()
    if current is not None and current != head and current in migrate.known_revisions():
        raise SchemaOutdatedError(msg("moves.source_outdated", where=source.display_url, current=current, head=head))
    source.check_schema()


def _prepare_target(url: str, source: Store) -> None:
    """Create or upgrade the target to head, but never upgrade one that holds data: that would
    change a database the move is going to refuse."""
    try:
        with open_store(url, check_schema=False) as probe:
            current = probe.schema_revision()
            if current is not None and current != migrate.head_revision():
                if current not in migrate.known_revisions():
                    probe.check_schema()
                if ledger.holds_data(probe):
                    raise LedgerConflictError(msg("moves.target_outdated", target=probe.display_url, current=current,
                                                  head=migrate.head_revision(), source=source.display_url))
    except SchemaNotInitialisedError:
        pass  # no file or database there yet: init creates it
    init_database(url)


def _already_there(source: Store, target: Store, moving: str, started: float) -> MoveResult:
    """The target holds data: the same ledger unchanged (nothing to do), or a refusal."""
    found = ledger.ledger_id(target)
    if found != moving:
        raise LedgerConflictError(msg("moves.other_ledger", target=target.display_url, found=found,
                                      source=source.display_url, ledger=moving))
    day = date.today()
    with source.read_transaction() as sconn:
        expected = ledger.summary(source.bound_to(sconn), day)
    there = ledger.summary(target, day)
    differing = differences(expected, there)
    if differing:
        raise LedgerConflictError(msg("moves.target_diverged", target=target.display_url, ledger=moving,
                                      source=source.display_url, differences=_listed(differing)))
    return MoveResult(source.display_url, target.display_url, moving, True, dict(there["counts"]), expected, there,
                      [], seconds=time.perf_counter() - started)


def _copy(source: Store, target: Store, moving: str, evidence: "_Evidence", imagery: "_Evidence",
          chunk_rows: int, progress: Progress | None, started: float) -> MoveResult:
    day = date.today()
    with ExitStack() as stack:
        sconn = stack.enter_context(source.read_transaction())
        tconn = stack.enter_context(target.transaction())
        if ledger.holds_data(target.bound_to(tconn)):  # written meanwhile, between the check and the lock
            raise LedgerConflictError(msg("moves.other_ledger", target=target.display_url,
                                          found=ledger.ledger_id(target.bound_to(tconn)),
                                          source=source.display_url, ledger=moving))
        counts = copier.copy_tables(source, sconn, target, tconn, LEDGER_TABLES, chunk_rows=chunk_rows,
                                    rewrite={"evidence": evidence.place, "imagery": imagery.place}, progress=progress)
        expected = ledger.summary(source.bound_to(sconn), day)
        found = ledger.summary(target.bound_to(tconn), day)
        differing = differences(expected, found)
        if differing:  # the transaction rolls back as the error leaves it
            raise InternalError(msg("moves.copy_differs", source=source.display_url, target=target.display_url,
                                    differences=_listed(differing)))
        sessions = sum(source.table_counts(sconn, NOT_COPIED).values())
        warnings = evidence.warnings(copier.evidence_citations(tconn, [sha for sha, *_ in evidence.lost]))
    return MoveResult(source.display_url, target.display_url, moving, False, counts, expected, found, [],
                      sessions, evidence.copied, warnings, time.perf_counter() - started)


def _listed(found: list[Difference]) -> str:
    return "; ".join(f"{d.what}: {d.expected} -> {d.found}" for d in found[:10])


class _Evidence:
    """The evidence rows' files (and the imagery rows', which name theirs the same way): each kept where it is when it is already in the target's folder,
    else copied there by its content address (``ab/ab12….jpg``, checked by its SHA-256 on the
    way) and its row pointed at the copy. A file missing or damaged on the source does not stop
    the move, since its row and the events citing it are history too: it is reported, and its row
    points where the file belongs, so it can be put there later."""

    def __init__(self, folder: Path):
        self.folder = folder.resolve()
        self.copied = 0
        self.created: list[Path] = []
        self.lost: list[tuple[str, str, str]] = []     # (sha256, file name, path on the source)

    def place(self, columns: dict[str, list]) -> None:
        paths = columns["stored_path"]
        for i, (sha, name, stored) in enumerate(zip(columns["sha256"], columns["file_name"], paths)):
            old = Path(stored)
            if old.resolve().is_relative_to(self.folder):
                if not old.is_file():
                    self.lost.append((sha, name, stored))
                continue
            new = self.folder / sha[:2] / (sha + old.suffix.lower())
            paths[i] = str(new)
            if new.is_file() and file_sha256(new) == sha:
                continue
            if not (old.is_file() and self._copy(old, new, sha)):
                self.lost.append((sha, name, stored))

    def _copy(self, old: Path, new: Path, sha: str) -> bool:
        new.parent.mkdir(parents=True, exist_ok=True)
        partial = new.with_name(new.name + ".part")
        digest = hashlib.sha256()
        with open(old, "rb") as src, open(partial, "wb") as dst:
            while chunk := src.read(CHUNK):
                digest.update(chunk)
                dst.write(chunk)
        if digest.hexdigest() != sha:
            partial.unlink()
            return False
        partial.replace(new)
        self.created.append(new)
        self.copied += 1
        return True

    def warnings(self, citing: dict[str, list[str]]) -> list[Message]:
        return [msg("moves.evidence_missing", path=stored, name=name, patches=Listing(citing.get(sha) or ["-"]))
                for sha, name, stored in self.lost]

    def remove_created(self) -> None:
        """A move that fails leaves no copied file behind (the rows pointing at them rolled back)."""
        for path in self.created:
            path.unlink(missing_ok=True)
