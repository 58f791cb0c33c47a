"""Evidence files (photos, PDFs), stored once by content and read for EXIF time and place."""

from __future__ import annotations

import hashlib
import mimetypes
import shutil
from dataclasses import dataclass
from pathlib import Path

from ..catalogue import msg
from ..errors import InputFileError, UploadTypeError

#: Evidence (举证) files: what their first bytes must look like (their names' suffixes do not count).
EVIDENCE_SIGNATURES = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "application/pdf": (b"%PDF-",),
}
HEIC_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"mif1", b"msf1", b"heim", b"heis"}


@dataclass(frozen=True)
class EvidenceFile:
    sha256: str
    file_name: str
    size_bytes: int
    media_type: str | None
    taken_at: str | None
    lon: float | None
    lat: float | None
    stored_path: str


def _rational(value) -> float:
    return float(value[0]) / float(value[1]) if isinstance(value, tuple) else float(value)


def _degrees(dms, ref) -> float | None:
    try:
        d, m, s = (_rational(v) for v in dms)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    value = d + m / 60 + s / 3600
    return -value if ref in ("S", "W", b"S", b"W") else value


def read_exif(path: Path) -> tuple[str | None, float | None, float | None]:
    """(taken_at, lon, lat) from a photo's EXIF, each None when absent or unreadable."""
    try:
        from PIL import Image

        with Image.open(path) as image:
            exif = image.getexif()
    except Exception:  # not an image Pillow knows: a PDF, a scan, a broken file
        return None, None, None
    taken = exif.get_ifd(0x8769).get(36867) or exif.get(306)
    gps = exif.get_ifd(0x8825)
    lat = _degrees(gps.get(2), gps.get(1)) if gps.get(2) else None
    lon = _degrees(gps.get(4), gps.get(3)) if gps.get(4) else None
    taken_at = str(taken).strip().replace(":", "-", 2) if taken else None
    return taken_at, lon, lat


def evidence_media_type(path: Path) -> str:
    """The media type of an evidence file by its content; anything else is refused. Here, not in the
    server, so a photo the field app uploads in chunks is checked by the same rule as a form's."""
    with Path(path).open("rb") as f:
        head = f.read(32)
    for media, signatures in EVIDENCE_SIGNATURES.items():
        if any(head.startswith(s) for s in signatures):
            return media
    if head[4:8] == b"ftyp" and head[8:12] in HEIC_BRANDS:
        return "image/heic"
    raise UploadTypeError(msg("upload.evidence_type", file=Path(path).name), field="evidence")


def file_sha256(path: str | Path) -> str:
    """The SHA-256 of a file, read in 1 MB pieces (evidence is stored, backed up and moved by it)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def store_evidence(path: str | Path, folder: Path) -> EvidenceFile:
    """Copy a file into ``folder`` under its SHA-256 (once, however often it is given)."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError(msg("imports.evidence_missing", path=path))
    sha = file_sha256(path)
    target = folder / sha[:2] / (sha + path.suffix.lower())
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(target.suffix + ".part")
        try:
            shutil.copyfile(path, partial)
            partial.replace(target)
        except BaseException:
            partial.unlink(missing_ok=True)  # a full disk must not leave half a photo behind
            raise
    taken_at, lon, lat = read_exif(path)
    return EvidenceFile(sha, path.name, path.stat().st_size, mimetypes.guess_type(path.name)[0],
                        taken_at, lon, lat, str(target))
