"""Uploads: a size limit enforced while the body streams in, a private folder per request, type checks by content.

The import pipeline then applies its own rules (zip members, links, bombs) to
what was saved, exactly as for a file given on the command line.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi import UploadFile
from starlette.types import ASGIApp, Receive, Scope, Send

from ..errors import InputFileError, UploadTooLargeError, UploadTypeError
from .errors import error_response

CHUNK = 1024 * 1024
#: Evidence (举证) files: what their first bytes must look like.
EVIDENCE_SIGNATURES = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "application/pdf": (b"%PDF-",),
}
HEIC_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"mif1", b"msf1", b"heim", b"heis"}


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

    def _message(self) -> str:
        return (f"the upload is larger than the limit of {self.limit / 1024 / 1024:.0f} MB "
                "(setting max_upload_mb): split the delivery or ask the administrator to raise it")

    async def _refuse(self, scope, receive, send):
        response = error_response(UploadTooLargeError(self._message(), field="file"))
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
        raise InputFileError(f"the uploaded file {upload.filename!r} is empty", field="file")
    return target


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
    with path.open("rb") as f:
        head = f.read(32)
    for media, signatures in EVIDENCE_SIGNATURES.items():
        if any(head.startswith(s) for s in signatures):
            return media
    if head[4:8] == b"ftyp" and head[8:12] in HEIC_BRANDS:
        return "image/heic"
    raise UploadTypeError(f"evidence file {path.name}: its content is not JPEG, PNG, PDF or HEIC "
                          "(the name's suffix does not count); send the photo or scan itself", field="evidence")
