"""A small threaded HTTP server for the vector-tile map: the page, its assets, and the tiles.

Standard library only, so it runs on an intranet machine with nothing else; the
full HTTP service (FastAPI) will serve the same tiles through the same service.
"""

from __future__ import annotations

import mimetypes
import re
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from ..errors import GeoTrackerError
from ..maps.builder import STATIC
from ..services.tiles import patch_tile, tile_page
from ..store import Store

TILE = re.compile(r"^/tiles/(\d+)/(\d+)/(\d+)\.pbf$")


def make_server(store: Store, host: str = "127.0.0.1", port: int = 8001) -> ThreadingHTTPServer:
    page = tile_page(store).encode("utf-8")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # quiet: one line per tile would drown the console
            pass

        def _send(self, status: int, body: bytes, content_type: str, cache: str = "no-cache") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", cache)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):  # noqa: N802
            path = self.path.split("?", 1)[0]
            if path in ("/", "/index.html"):
                return self._send(200, page, "text/html; charset=utf-8")
            match = TILE.match(path)
            if match:
                try:
                    body = patch_tile(store, *map(int, match.groups()))
                except GeoTrackerError as e:
                    return self._send(400, str(e).encode(), "text/plain; charset=utf-8")
                return self._send(200, body, "application/vnd.mapbox-vector-tile", "max-age=60")
            if path.startswith("/lib/"):
                target = (STATIC / path[len("/lib/"):]).resolve()
                if STATIC.resolve() in target.parents and target.is_file():
                    kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
                    return self._send(200, target.read_bytes(), kind, "max-age=3600")
            return self._send(404, b"not found", "text/plain")

    return ThreadingHTTPServer((host, port), Handler)
