"""Resumable photo uploads from the field app (外业照片断点续传).

A phone on a weak signal sends a photo in chunks and, after a break, asks how much arrived and
goes on from there. The photo is named by its SHA-256 from the start, so a chunk sent twice, an
answer lost on the way back, or the same photo started again all end as one evidence file and one
evidence row; a sync then cites the photo by that hash (``tracking.record_evidence``).

The bytes received so far are ``<upload_dir or the temp folder>/field_uploads/<sha256>.part``;
beside it ``<sha256>.json`` keeps the declared size, name and type and whose upload it is. An
upload belongs to the account that started it: another account neither sees nor extends it.
Each change to a partial runs under a lock on it, so a retried chunk racing its first try is
answered 409 instead of being written twice.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from ..catalogue import msg
from ..errors import (ConfigurationError, ConflictError, InvalidValueError, NotFoundError, UploadTooLargeError,
                      UploadTypeError)
from ..io.evidence import evidence_media_type, file_sha256, store_evidence
from ..store import Store
from ..store import evidence as evidence_repo

#: The largest chunk one request may carry: small enough to get through a weak signal.
CHUNK_BYTES = 8 * 1024 * 1024
#: An upload left unfinished this long is dropped (a phone may stay out of signal for days).
PARTIAL_DAYS = 7
FOLDER = "field_uploads"
SHA256 = re.compile(r"[0-9a-f]{64}")
MB = 1024 * 1024


def start_upload(store: Store, upload_dir: str | None, *, sha256: str, size_bytes: int, file_name: str,
                 media_type: str | None, user: str, max_bytes: int) -> dict:
    """Begin, or resume, the upload of one photo; a photo already stored is complete at once."""
    name = _name(file_name)
    sha = _sha(sha256, name)
    if not 0 < size_bytes <= max_bytes:
        raise InvalidValueError(msg("field.bad_size", file=name, size=size_bytes, limit=max_bytes / MB),
                                field="size_bytes")
    stored = _stored(store, sha)
    if stored is not None:
        return stored
    root = _root(upload_dir, prune=True)
    with _locked(root, sha, create=True) as part:
        kept = _kept(root, sha)
        if kept is not None and kept["user"] != user:
            raise ConflictError(msg("field.upload_elsewhere", file=name), field="sha256")
        if kept is None or kept["size_bytes"] != size_bytes:    # new, or another size: start afresh
            part.truncate(0)
            _keep(root, sha, {"size_bytes": size_bytes, "file_name": name, "media_type": media_type,
                              "user": user})
        return _answer(sha, size_bytes, _received(part))


def append_chunk(store: Store, upload_dir: str | None, sha256: str, offset: int, data: bytes, *,
                 max_bytes: int = CHUNK_BYTES, user: str | None = None) -> dict:
    """Add the chunk that starts at ``offset`` (it must be where the upload stands); with the last
    chunk the photo is checked and stored. A chunk for a photo already stored (its answer was lost,
    it is sent again) answers complete; any chunk for one whose bytes are all in but whose storing
    failed (a full disk, the database away) stores it now."""
    if len(data) > max_bytes:
        raise UploadTooLargeError(msg("field.chunk_too_large", limit=max_bytes / MB), field="chunk")
    sha = _sha(sha256)
    root = _root(upload_dir)
    with _locked(root, sha) as part:
        kept = _kept(root, sha) if part is not None else None
        if kept is None or (user is not None and kept["user"] != user):
            return _stored_or_absent(store, sha)
        name, size, received = kept["file_name"], kept["size_bytes"], _received(part)
        if received < size:
            if offset != received:
                raise ConflictError(msg("field.wrong_offset", file=name, offset=offset, received=received),
                                    field="offset", details={"received_bytes": received})
            if received + len(data) > size:
                raise InvalidValueError(msg("field.past_size", file=name, end=received + len(data),
                                            size=size), field="offset")
            part.write(data)
            part.flush()
            if received + len(data) < size:
                return _answer(sha, size, received + len(data))
        return _finish(store, root, sha, kept)


def upload_status(store: Store, upload_dir: str | None, sha256: str, *, user: str | None = None) -> dict:
    """How much of a photo has arrived, so the phone resumes from there."""
    sha = _sha(sha256)
    root = _root(upload_dir)
    kept = _kept(root, sha)
    part = root / f"{sha}.part"
    if kept is None or (user is not None and kept["user"] != user) or not part.is_file():
        return _stored_or_absent(store, sha)
    return _answer(sha, kept["size_bytes"], part.stat().st_size)


def _finish(store: Store, root: Path, sha: str, kept: dict) -> dict:
    """All bytes are in: the right photo, of an evidence type, stored once with its row; else dropped."""
    part = root / f"{sha}.part"
    try:
        if file_sha256(part) != sha:
            raise InvalidValueError(msg("field.hash_mismatch", file=kept["file_name"]), field="sha256")
        with tempfile.TemporaryDirectory(dir=root) as folder:
            named = Path(folder) / kept["file_name"]      # the store keeps the suffix, the row the name
            os.link(part, named)
            media = evidence_media_type(named)
            with store.transaction() as conn:
                stored = store_evidence(named, store.evidence_dir)
                evidence_repo.record(conn, {**stored.__dict__, "media_type": media})
    except (InvalidValueError, UploadTypeError):
        _drop(root, sha)        # the photo must be sent again (or is no photo at all)
        raise
    _drop(root, sha)
    return _answer(sha, kept["size_bytes"], kept["size_bytes"], complete=True)


def _answer(sha: str, size: int, received: int, complete: bool = False) -> dict:
    """What every step answers; ``complete`` only once stored (all bytes in is not yet stored)."""
    return {"sha256": sha, "size_bytes": size, "received_bytes": received, "complete": complete}


def _stored(store: Store, sha: str) -> dict | None:
    with store.engine.connect() as conn:
        row = evidence_repo.row(conn, sha)
    return None if row is None else _answer(sha, row["size_bytes"], row["size_bytes"], complete=True)


def _stored_or_absent(store: Store, sha: str) -> dict:
    """A photo with no upload of the caller's in progress: done if stored, else unknown (404)."""
    stored = _stored(store, sha)
    if stored is None:
        raise NotFoundError(msg("field.no_upload", sha=sha), field="sha256")
    return stored


def _name(file_name: str | None) -> str:
    """The photo's own name, without folders or control characters, short enough for any disk
    (it names a file in our folder before it is stored)."""
    base = re.sub(r"[\x00-\x1f\x7f]", "_", Path(str(file_name or "").replace("\\", "/")).name).lstrip(".")
    stem, suffix = os.path.splitext(base)
    return stem[:60] + suffix[:12] or "photo"


def _sha(value: str, name: str | None = None) -> str:
    """The photo's SHA-256 in lower case; it also names its files, so nothing else passes."""
    sha = str(value or "").strip().lower()
    if not SHA256.fullmatch(sha):
        shown = str(value)[:80]
        raise InvalidValueError(msg("field.bad_sha256", file=name, sha=shown) if name is not None
                                else msg("field.not_sha256", sha=shown), field="sha256")
    return sha


def _root(upload_dir: str | None, prune: bool = False) -> Path:
    """The folder of partial uploads: ours alone, since it holds photos of the enforcement."""
    root = Path(upload_dir or tempfile.gettempdir()) / FOLDER
    root.mkdir(mode=0o700, exist_ok=True)
    info = root.lstat()
    if root.is_symlink() or info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise ConfigurationError(msg("upload.staging_not_private", root=root), field="upload_dir")
    if prune:
        _prune(root)
    return root


def _prune(root: Path) -> None:
    """Drop uploads nobody went on with for PARTIAL_DAYS, so abandoned photos do not fill the disk."""
    oldest = time.time() - PARTIAL_DAYS * 86400
    for part in root.glob("*.part"):
        try:
            if part.stat().st_mtime < oldest:
                _drop(root, part.stem)
        except FileNotFoundError:     # finished meanwhile
            pass


@contextmanager
def _locked(root: Path, sha: str, create: bool = False) -> Iterator[BinaryIO | None]:
    """The partial file, opened for appending and locked; None when there is none. A partial removed
    while we waited for its lock (the upload finished) counts as gone."""
    path = root / f"{sha}.part"
    while True:
        try:
            part = path.open("ab" if create else "r+b")
        except FileNotFoundError:
            yield None
            return
        with part:
            fcntl.flock(part, fcntl.LOCK_EX)
            try:
                same = path.stat().st_ino == os.fstat(part.fileno()).st_ino
            except FileNotFoundError:
                same = False
            if same:
                part.seek(0, os.SEEK_END)
                yield part
                return
            if not create:
                yield None
                return


def _received(part: BinaryIO) -> int:
    return os.fstat(part.fileno()).st_size


def _kept(root: Path, sha: str) -> dict | None:
    try:
        return json.loads((root / f"{sha}.json").read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None


def _keep(root: Path, sha: str, meta: dict) -> None:
    temporary = root / f"{sha}.json.tmp"
    temporary.write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    temporary.replace(root / f"{sha}.json")


def _drop(root: Path, sha: str) -> None:
    """Forget an upload: its sidecar first, so a partial without one is never taken for an upload."""
    (root / f"{sha}.json").unlink(missing_ok=True)
    (root / f"{sha}.part").unlink(missing_ok=True)
