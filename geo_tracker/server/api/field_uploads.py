"""The field app's resumable photo uploads: start (or resume), send chunks, ask how far it got.

Every answer is ``{sha256, size_bytes, received_bytes, complete}``; a chunk at the wrong offset
answers 409 with ``received_bytes`` too, so the phone resumes from there in either case.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from ...services import field_uploads
from ..deps import Caller, need

router = APIRouter()
tracker = need("track")


class UploadBody(BaseModel):
    sha256: str = Field(description="SHA-256 of the whole photo, 64 hexadecimal digits", max_length=200)
    size_bytes: int = Field(description="the photo's size in bytes")
    file_name: str = Field(description="the photo's name on the phone", max_length=255)
    media_type: str | None = Field(None, description="what the phone thinks it is; its content decides",
                                   max_length=100)


async def chunk_bytes(request: Request) -> bytes:
    """The raw body, read no further than one byte past the chunk limit (the service refuses it then),
    so an oversized chunk never sits whole in memory."""
    data = bytearray()
    async for piece in request.stream():
        data += piece
        if len(data) > field_uploads.CHUNK_BYTES:
            break
    return bytes(data)


@router.post("/field/uploads", tags=["field"])
def start(body: UploadBody, who: Caller = Depends(tracker)):
    """Begin or resume the upload of a photo; a photo already stored answers ``complete`` at once."""
    return field_uploads.start_upload(who.store, who.settings.upload_dir, sha256=body.sha256,
                                      size_bytes=body.size_bytes, file_name=body.file_name,
                                      media_type=body.media_type, user=who.username,
                                      max_bytes=who.settings.max_upload_bytes)


@router.put("/field/uploads/{sha256}", tags=["field"])
def append(sha256: str, who: Caller = Depends(tracker), offset: int = Query(ge=0, le=2**53),
           data: bytes = Depends(chunk_bytes)):
    """One chunk (the raw body, at most 8 MiB) starting at byte ``offset``; the last one stores the photo."""
    return field_uploads.append_chunk(who.store, who.settings.upload_dir, sha256, offset, data,
                                      max_bytes=field_uploads.CHUNK_BYTES, user=who.username)


@router.get("/field/uploads/{sha256}", tags=["field"])
def status(sha256: str, who: Caller = Depends(tracker)):
    """How much of the photo has arrived (the caller's own upload), or ``complete`` once stored."""
    return field_uploads.upload_status(who.store, who.settings.upload_dir, sha256, user=who.username)
