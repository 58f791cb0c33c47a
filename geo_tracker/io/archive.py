"""Opening zipped deliveries safely.

Members with absolute paths, ``..``, or links are refused; total size, member count
and compression ratio are capped while extracting (sizes in the zip header are not
trusted); everything goes to a private temporary folder that is always removed.
Chinese member names written in GBK without the zip UTF-8 flag are decoded as GBK.
"""

from __future__ import annotations

import shutil
import stat
import tempfile
import zipfile
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import Iterator

from ..catalogue import msg
from ..errors import EncodingDetectionError, UnsafeArchiveError
from .encoding import decode_text

MAX_TOTAL_BYTES = 8 * 1024**3
MAX_MEMBERS = 20_000
MAX_RATIO = 200
_CHUNK = 1024 * 1024


def member_name(info: zipfile.ZipInfo) -> str:
    """The member's real name: zipfile decodes names without the UTF-8 flag as cp437."""
    if info.flag_bits & 0x800:
        return info.filename
    try:
        return decode_text(info.filename.encode("cp437", errors="replace"), name=info.filename)[0]
    except EncodingDetectionError:
        return info.filename


def _safe_relative(name: str, archive: Path) -> PurePosixPath:
    clean = name.replace("\\", "/")
    path = PurePosixPath(clean)
    if clean.startswith("/") or (len(clean) > 1 and clean[1] == ":") or ".." in path.parts:
        raise UnsafeArchiveError(msg("imports.zip_member_outside", archive=archive.name, member=name))
    return path


@contextmanager
def extracted(archive: Path, *, max_total_bytes: int = MAX_TOTAL_BYTES, max_ratio: int = MAX_RATIO) -> Iterator[Path]:
    """Extract ``archive`` into a private temporary folder and yield that folder."""
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as e:
        raise UnsafeArchiveError(msg("imports.zip_unreadable", archive=archive.name, reason=str(e))) from None
    tmp = Path(tempfile.mkdtemp(prefix="geo_tracker_zip_"))
    try:
        with zf:
            infos = zf.infolist()
            if len(infos) > MAX_MEMBERS:
                raise UnsafeArchiveError(msg("imports.zip_too_many_members", archive=archive.name,
                                              count=len(infos), limit=MAX_MEMBERS))
            total = 0
            for info in infos:
                name = member_name(info)
                rel = _safe_relative(name, archive)
                mode = info.external_attr >> 16
                if stat.S_ISLNK(mode):
                    raise UnsafeArchiveError(msg("imports.zip_member_link", archive=archive.name, member=name))
                target = tmp.joinpath(*rel.parts)
                if info.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                written = 0
                limit = max(info.compress_size, 1) * max_ratio + _CHUNK
                with zf.open(info) as src, open(target, "wb") as dst:
                    while chunk := src.read(_CHUNK):
                        written += len(chunk)
                        total += len(chunk)
                        if written > limit:
                            raise UnsafeArchiveError(msg("imports.zip_member_ratio", archive=archive.name,
                                                         member=name, ratio=max_ratio))
                        if total > max_total_bytes:
                            raise UnsafeArchiveError(msg("imports.zip_too_large", archive=archive.name,
                                                         mib=max_total_bytes // 1024**2))
                        dst.write(chunk)
            yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
