"""Which image shows a patch before and after (前时相 / 后时相), and which tiles cover a place.

A 卫片 patch is a change seen between two images: the delivery names their dates (QSX, HSX).
For a patch, the image "before" is the latest one taken on or before its 前时相 (without one, before
its 后时相; else its issue date); "after" is the latest one taken later, the newest state of the
ground. A delivery's own clips of that patch come first in their role, then images that show all
of it.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import morecantile
import pandas as pd
import shapely

BEFORE_LABEL, AFTER_LABEL = "前时相", "后时相"
#: Attribute names of the delivery's image dates, before and after.
BEFORE_DATE_FIELDS = ("QSX", "QSXSJ", "前时相")
AFTER_DATE_FIELDS = ("HSX", "HSXSJ", "后时相")
_DATE = re.compile(r"(\d{4})\D?(\d{1,2})(?:\D?(\d{1,2}))?")
WEB_MERCATOR_QUAD = morecantile.tms.get("WebMercatorQuad")


def phase_date(value) -> date | None:
    """A 前时相/后时相 value as a date: 20230301, 2023-03-01, 2023/3/1, 2023年3月1日, or 2023年3月
    (taken as the month's first day), or a date field's value; None when it holds no date (an
    empty date field reads as NaT)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    found = _DATE.search(str(value or "").strip())
    if not found:
        return None
    year, month, day = int(found.group(1)), int(found.group(2)), int(found.group(3) or 1)
    try:
        return date(year, month, day)
    except ValueError:
        return None


def attribute_date(attrs: dict, names: tuple[str, ...]) -> date | None:
    upper = {str(k).upper(): v for k, v in (attrs or {}).items()}
    for name in names:
        if name.upper() in upper and (found := phase_date(upper[name.upper()])):
            return found
    return None


def reference_date(attrs: dict, issued_on: date | None) -> date | None:
    """The day that divides before from after: the delivery's 前时相; without one, the day before its
    后时相 (the image that showed the change is "after"); else the issue date."""
    after = attribute_date(attrs, AFTER_DATE_FIELDS)
    return attribute_date(attrs, BEFORE_DATE_FIELDS) or (after - timedelta(days=1) if after else issued_on)


def before_and_after(layers: list[dict], outline, lineage_id: int | None, divide: date | None) -> dict:
    """``{"before": layer | None, "after": layer | None}`` for a patch, from ``layers`` (dicts with
    ``acquired_on``, ``footprint`` in EPSG:4490, ``label``, ``lineage_id`` of a clip's patch). An
    image that covers the whole patch comes before one that only touches it (a neighbour's clip)."""
    over = [lay for lay in layers if lay["footprint"].intersects(outline)]
    own = [lay for lay in over if lineage_id is not None and lay.get("lineage_id") == lineage_id]
    newest = sorted(over, key=lambda lay: (_covers(lay["footprint"], outline), lay["acquired_on"], lay["id"]),
                    reverse=True)

    def pick(role_label, test):
        clip = next((lay for lay in sorted(own, key=lambda lay: lay["acquired_on"], reverse=True)
                     if lay.get("label") == role_label), None)
        return clip or next((lay for lay in newest if divide is not None and test(lay["acquired_on"])), None)

    before = pick(BEFORE_LABEL, lambda day: day <= divide)
    after = pick(AFTER_LABEL, lambda day: day > divide)
    if after is not None and before is not None and after["id"] == before["id"]:
        after = None
    return {"before": before, "after": after}


def _covers(footprint, outline) -> bool:
    """The image shows (nearly) all of the patch."""
    return footprint.intersection(outline).area >= 0.98 * outline.area


def visible_to(layers: list[dict], area) -> list[dict]:
    """The layers whose footprint meets ``area`` (a user's units, EPSG:4490); all when None."""
    if area is None:
        return layers
    shapely.prepare(area)
    return [lay for lay in layers if area.intersects(lay["footprint"])]


def tiles_covering(bounds, min_zoom: int, max_zoom: int) -> list[tuple[int, int, int]]:
    """(z, x, y) of the Web Mercator tiles over ``bounds`` (west, south, east, north), zooms inclusive."""
    west, south, east, north = bounds
    return [(t.z, t.x, t.y) for t in WEB_MERCATOR_QUAD.tiles(west, south, east, north, list(range(min_zoom, max_zoom + 1)))]

