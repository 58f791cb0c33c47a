"""How answers are shaped: JSON-safe values, downloads with Chinese file names, media types."""

from __future__ import annotations

import gzip
import json
from urllib.parse import quote

from fastapi.responses import Response

from ..core import values

MEDIA = {"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
         "html": "text/html; charset=utf-8", "md": "text/markdown; charset=utf-8",
         "gpkg": "application/geopackage+sqlite3", "geojson": "application/geo+json",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "shp": "application/zip"}


def plain(data):
    """A service's answer as JSON values: numpy numbers as numbers, NaN as null, dates as text."""
    return values.plain(data, text=True)


def json_response(data: dict, media: str = "application/json", headers: dict | None = None) -> Response:
    return Response(json.dumps(data, ensure_ascii=False, default=str), media_type=media, headers=headers or {})


def compressed(response: Response, accept_encoding: str | None) -> Response:
    """The same answer gzipped when the client takes it: a work package is a fifth of its size on a
    weak signal. Only for bodies built whole (not streams), so the length is known."""
    if "gzip" not in (accept_encoding or "").lower() or len(response.body) < 1024:
        return response
    body = gzip.compress(response.body, compresslevel=6)
    headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
    headers.update({"Content-Encoding": "gzip", "Vary": "Accept-Encoding"})
    return Response(body, status_code=response.status_code, headers=headers, media_type=response.media_type)


def download(content: bytes, name: str, media: str) -> Response:
    return Response(content, media_type=media,
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})


def file_download(path, cleanup=None) -> Response:
    """A file written for this answer (a backup), removed by ``cleanup`` once sent."""
    from fastapi.responses import FileResponse
    from starlette.background import BackgroundTask

    return FileResponse(path, media_type="application/zip", filename=path.name,
                        background=BackgroundTask(cleanup) if cleanup else None)
