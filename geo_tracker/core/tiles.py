"""Web-map tile arithmetic (XYZ tiles in Web Mercator), for serving vector tiles."""

from __future__ import annotations

import math

from ..catalogue import msg
from ..errors import InvalidValueError

HALF_WORLD = 20037508.342789244
MAX_ZOOM = 22


def check_tile(z: int, x: int, y: int) -> None:
    if not 0 <= z <= MAX_ZOOM or not (0 <= x < 2 ** z and 0 <= y < 2 ** z):
        raise InvalidValueError(msg("tiles.no_tile", z=z, x=x, y=y, max_zoom=MAX_ZOOM))


def tile_bounds_3857(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """(xmin, ymin, xmax, ymax) of a tile in EPSG:3857 metres."""
    check_tile(z, x, y)
    size = 2 * HALF_WORLD / 2 ** z
    xmin = -HALF_WORLD + x * size
    ymax = HALF_WORLD - y * size
    return xmin, ymax - size, xmin + size, ymax


def tile_bounds_lonlat(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """(west, south, east, north) of a tile in degrees."""
    check_tile(z, x, y)
    n = 2 ** z

    def lat(row: int) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * row / n))))

    return x / n * 360 - 180, lat(y + 1), (x + 1) / n * 360 - 180, lat(y)
