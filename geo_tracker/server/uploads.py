"""Uploads: a size limit enforced while the body streams in, a private folder per request or per
staged import, which of several files is the dataset, and type checks by content.

The import pipeline then applies its own rules (zip members, links, bombs) to
what was saved, exactly as for a file given on the command line.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi import UploadFile
from starlette.types import ASGIApp, Receive, Scope, Send

from ..catalogue import Message, msg
from ..errors import ConfigurationError, InputFileError, NotFoundError, UploadTooLargeError
from ..io.evidence import evidence_media_type
from ..io.readers import MAIN_SUFFIXES
from .errors import error_response, scope_language

CHUNK = 1024 * 1024
STAGING_HOURS = 2
STAGING_TOKEN = re.compile(r"[A-Za-z0-9_-]{22}")


class UploadLimit:
    """ASGI middleware: 413 as soon as a request body passes ``limit`` bytes (declared or streamed)."""

    def __init__(self, app: ASGIApp, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            return await self._refuse(scope, receive, send)
        seen, exceeded, replaced = 0, False, False

        async def counted() -> dict:
            nonlocal seen, exceeded
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    exceeded = True
                    raise UploadTooLargeError(self._message(), field="file")
            return message

        async def guarded(message: dict) -> None:
            # Whatever the app answers once the limit was passed (FastAPI turns a body error
            # into 400), the client gets our 413.
            nonlocal replaced
            if exceeded:
                if not replaced:
                    replaced = True
                    await self._refuse(scope, receive, send)
                return
            await send(message)

        try:
            await self.app(scope, counted, guarded)
        except UploadTooLargeError:
            if not replaced:
                await self._refuse(scope, receive, send)

    def _message(self) -> Message:
        return msg("upload.too_large", limit=self.limit / 1024 / 1024)

    async def _refuse(self, scope, receive, send):
        response = error_response(UploadTooLargeError(self._message(), field="file"), scope_language(scope))
        await response(scope, receive, send)


def safe_name(name: str | None, fallback: str) -> str:
    """The file's own name without folders or odd characters (its suffix tells the reader the format)."""
    base = Path(str(name or "").replace("\\", "/")).name
    base = re.sub(r"[^\w.\-\u4e00-\u9fff]", "_", base).lstrip(".")
    return base[:120] or fallback


@contextmanager
def private_folder(parent: str | None) -> Iterator[Path]:
    """A folder only this process can read, removed afterwards whatever happens."""
    folder = Path(tempfile.mkdtemp(prefix="geo_tracker_upload_", dir=parent))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def save(upload: UploadFile, folder: Path, fallback: str = "upload") -> Path:
    target = folder / safe_name(upload.filename, fallback)
    stem, n = target.stem, 1
    while target.exists():
        target, n = target.with_name(f"{stem}_{n}{target.suffix}"), n + 1
    upload.file.seek(0)
    with target.open("wb") as out:
        shutil.copyfileobj(upload.file, out, CHUNK)
    if target.stat().st_size == 0:
        raise InputFileError(msg("upload.empty", file=upload.filename), field="file")
    return target


def save_all(uploads: list[UploadFile], folder: Path, fallback: str) -> Path:
    """Save a request's files and return the dataset among them."""
    chosen = [f for f in uploads if f.filename]
    if not chosen:
        raise InputFileError(msg("upload.none_chosen"), field="file")
    return main_file([save(f, folder, fallback) for f in chosen])


def main_file(paths: list[Path]) -> Path:
    """The dataset among uploaded files (a zip, or a .shp with its .dbf/.shx/.prj/.cpg beside it)."""
    if len(paths) == 1:
        return paths[0]
    for suffix in MAIN_SUFFIXES:
        found = [p for p in paths if p.suffix.lower() == suffix]
        if len(found) == 1:
            return found[0]
        if len(found) > 1 and suffix != ".zip" and len({p.parent for p in paths}) == 1:
            return found[0].parent  # several datasets (坐标txt files, shapefiles): one delivery folder
    names = ", ".join(p.name for p in paths)
    raise InputFileError(msg("upload.which_dataset", names=names), field="file")


# --- staged imports: checked now, confirmed by a second request ---------------------------
def staging_root(upload_dir: str | None) -> Path:
    """The private folder of staged imports: ours alone (refused if someone else made it);
    stagings older than STAGING_HOURS are removed on the way."""
    root = Path(upload_dir or tempfile.gettempdir()) / "geo_tracker_staging"
    root.mkdir(mode=0o700, exist_ok=True)
    info = root.lstat()
    if root.is_symlink() or info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise ConfigurationError(msg("upload.staging_not_private", root=root), field="upload_dir")
    for old in root.iterdir():
        if old.stat().st_mtime < time.time() - STAGING_HOURS * 3600:
            shutil.rmtree(old, ignore_errors=True)
    return root


def new_staging(upload_dir: str | None) -> tuple[str, Path]:
    """(token, an empty private folder ``files`` to save the upload in)."""
    token = secrets.token_urlsafe(16)
    folder = staging_root(upload_dir) / token
    folder.mkdir(mode=0o700)
    (folder / "files").mkdir(mode=0o700)
    return token, folder / "files"


def keep_staging(files: Path, dataset: Path, meta: dict) -> None:
    folder = files.parent
    (folder / "staged.json").write_text(json.dumps({**meta, "file": str(dataset.relative_to(folder))}),
                                        encoding="utf-8")


def drop_staging(upload_dir: str | None, token: str) -> None:
    if STAGING_TOKEN.fullmatch(token or ""):
        shutil.rmtree(staging_root(upload_dir) / token, ignore_errors=True)


def staged(upload_dir: str | None, token: str, username: str) -> tuple[Path, dict] | None:
    """(the staged dataset, what was kept with it) for its own user; None once expired or unknown."""
    valid = STAGING_TOKEN.fullmatch(token or "") is not None
    folder = staging_root(upload_dir) / (token if valid else "-")
    kept = folder / "staged.json"
    if not valid or not kept.is_file():
        return None
    meta = json.loads(kept.read_text(encoding="utf-8"))
    if meta.get("user") != username:
        raise NotFoundError(msg("upload.no_staged"))
    return folder / meta["file"], meta


@contextmanager
def rectification_files(upload_dir: str | None, evidence: list[UploadFile],
                        geometry: UploadFile | None) -> Iterator[tuple[list[Path], Path | None]]:
    """(evidence files, each checked by content; the rectified-part file or None) saved privately for one record."""
    with private_folder(upload_dir) as folder:
        photos = [save(f, folder, "evidence") for f in evidence if f.filename]
        for path in photos:
            evidence_type(path)
        part = save(geometry, folder, "part") if geometry is not None and geometry.filename else None
        yield photos, part


def evidence_type(path: Path) -> str:
    """The media type of an evidence file by its content; anything else is refused."""
    return evidence_media_type(path)
