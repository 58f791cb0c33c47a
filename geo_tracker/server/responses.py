"""How answers are shaped: JSON-safe values, downloads with Chinese file names, media types."""

from __future__ import annotations

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


def download(content: bytes, name: str, media: str) -> Response:
    return Response(content, media_type=media,
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})


def file_download(path, cleanup=None) -> Response:
    """A file written for this answer (a backup), removed by ``cleanup`` once sent."""
    from fastapi.responses import FileResponse
    from starlette.background import BackgroundTask

    return FileResponse(path, media_type="application/zip", filename=path.name,
                        background=BackgroundTask(cleanup) if cleanup else None)
