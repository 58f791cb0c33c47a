"""Figures and files: the statistics, the report (docx, html, md) and the patch exports."""

from __future__ import annotations

import io
import zipfile
from datetime import date

from fastapi import APIRouter, Depends, Query

from ...catalogue import msg
from ...errors import InvalidValueError
from ...reports.render import FORMATS as REPORT_FORMATS
from ...services.exports import FORMATS as EXPORT_FORMATS
from ...services.exports import export_patches
from ...services.report import write_report
from ...services.stats import compute_stats
from .. import uploads
from ..deps import Caller, need
from ..responses import MEDIA, download, plain

router = APIRouter(tags=["figures"])
CSV = "text/csv; charset=utf-8"
reader = need("read")


@router.get("/stats")
def stats(as_of: date | None = None, year: int | None = None, source: str | None = None,
          batch: str | None = None, village: str | None = None, by: list[str] = Query(default=[]),
          who: Caller = Depends(reader)):
    """The figures of `geo-tracker stats --json`, limited to the user's villages."""
    return plain(compute_stats(who.store, as_of=as_of, year=year, source=source, batch=batch,
                               village=village, by=by, villages=who.villages))


@router.get("/report")
def report(format: str = Query("docx", pattern="^(docx|html|md)$"), year: int | None = None,
           as_of: date | None = None, imagery: bool = Query(False, description="docx: an annex with each patch on "
                                                                               "its before and after images (影像对比)"),
           who: Caller = Depends(reader)):
    """The report as a file: docx (charts embedded), html (charts inlined) or md (text only)."""
    if format not in REPORT_FORMATS:
        raise InvalidValueError(msg("service.bad_report_format", format=format, choices=", ".join(REPORT_FORMATS)),
                                field="format")
    with uploads.private_folder(who.settings.upload_dir) as folder:
        path = folder / f"report.{format}"
        context = write_report(who.store, path, format, year=year, as_of=as_of,
                               charts=format != "md", villages=who.villages, imagery=imagery)
        return download(path.read_bytes(), f"{context['title']}.{format}", MEDIA[format])


@router.get("/exports/patches.{fmt}")
def export(fmt: str, as_of: date | None = None, year: int | None = None, batch: str | None = None,
           source: str | None = None, village: str | None = None, q: str | None = None, status: str | None = None,
           who: Caller = Depends(reader)):
    """The patches with their state: gpkg, shp (zipped, GBK), geojson, csv or xlsx.

    ``year``/``as_of`` as for the report; ``village`` (code or name), ``q`` and ``status``
    as on the patch list, so the list's export link gives what the list shows.
    """
    if f".{fmt}" not in EXPORT_FORMATS:
        raise InvalidValueError(msg("service.bad_export_format", format=fmt,
                                    choices=", ".join(s.lstrip(".") for s in EXPORT_FORMATS)), field="fmt")
    with uploads.private_folder(who.settings.upload_dir) as folder:
        path = folder / f"patches.{fmt}"
        export_patches(who.store, path, as_of=as_of, year=year, batch=batch or None, source=source or None,
                       villages=who.villages, village=village or None, q=q or None, status=status or None)
        if fmt == "shp":
            return download(_zipped(folder, "patches.*"), "patches.zip", MEDIA[fmt])
        return download(path.read_bytes(), path.name, MEDIA.get(fmt, CSV))


def _zipped(folder, pattern: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for member in sorted(folder.glob(pattern)):
            z.write(member, member.name)
    return buffer.getvalue()
