"""Parser for 坐标txt (报部格式) files: the text format parcels are reported to the Ministry in.

The spec is one page; writers in the wild deviate from it in a handful of known ways
(界址点数 off by one, units in the area value, 圈号 misused, columns swapped, GBK or UTF-8,
missing columns). This module reads around all of them and reports what it read around
as warnings, so the importer can decide what to reject. It knows nothing of databases or
coordinate reference systems: coordinates come out exactly as written, in GIS axis order.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import shapely
from shapely.geometry import MultiPolygon, Polygon

from geo_tracker.catalogue import Listing, msg, note
from geo_tracker.errors import EncodingDetectionError, ZuobiaoFormatError

from ..encoding import decode_text

ATTRIBUTE_SECTION = "属性描述"
COORDINATE_SECTION = "地块坐标"
SHAPE_KINDS = frozenset({"面", "线", "点"})
EXTRA_FIELD_NAMES = ("图斑类型", "地类", "改造前质量等别", "改造后质量等别", "备注")

NORTHING_EASTING = "northing,easting"
EASTING_NORTHING = "easting,northing"
LAT_LON = "lat,lon"
LON_LAT = "lon,lat"

_SNIFF_BYTES = 4096
_MARKERS = ("[" + COORDINATE_SECTION + "]", "[" + ATTRIBUTE_SECTION + "]")
_SEPARATOR = re.compile(r"([,，])")
_AREA_VALUE = re.compile(r"^([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*(.*)$")
_AREA_UNITS = {
    "": "ha", "公顷": "ha", "ha": "ha", "hm2": "ha", "hm²": "ha",
    "亩": "mu", "mu": "mu",
    "平方米": "m2", "平米": "m2", "m2": "m2", "㎡": "m2", "m²": "m2",
}


@dataclass
class ZuobiaoParcel:
    """One parcel record of the [地块坐标] section, with its geometry assembled."""

    line_no: int
    parcel_no: str
    name: str
    shape_kind: str
    declared_points: int | None
    area: float | None
    area_unit: str
    sheet_no: str
    use: str
    land_class: str
    extra: dict[str, str]
    geometry: shapely.MultiPolygon | None
    points_counted: int
    warnings: list[str] = field(default_factory=list)


@dataclass
class ZuobiaoFile:
    """A whole 坐标txt file: header key=values, parcels, and how it was read."""

    header: dict[str, str]
    parcels: list[ZuobiaoParcel]
    encoding: str
    axis_order: str
    warnings: list[str] = field(default_factory=list)


@dataclass
class _PendingParcel:
    """A parcel whose coordinates are kept raw until the file-wide axis order is known."""

    parcel: ZuobiaoParcel
    ring_labels: list[str] = field(default_factory=list)
    first: list[float] = field(default_factory=list)
    second: list[float] = field(default_factory=list)
    line_nos: list[int] = field(default_factory=list)


def looks_like_zuobiao(data: bytes) -> bool:
    """Cheap sniff on the first few KB, so format detection need not parse the whole file."""
    head = data[:_SNIFF_BYTES]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates = [head.decode("utf-16", errors="ignore")]
    else:
        candidates = [head.decode(name, errors="ignore") for name in ("utf-8", "gb18030")]
    return any(marker in text for text in candidates for marker in _MARKERS)


def parse_zuobiao(
    data: bytes, *, path: str = "<zuobiao>", encoding: str | None = None
) -> ZuobiaoFile:
    """Parse a 坐标txt file; raise ZuobiaoFormatError only where reading around is impossible."""
    try:  # writers use UTF-8 (with or without BOM) or GB18030/GBK; Notepad's 'Unicode' is UTF-16
        text, used_encoding = decode_text(data, encoding, name=path)
    except EncodingDetectionError as e:
        raise ZuobiaoFormatError(e.args[0] if e.args else str(e)) from None
    header: dict[str, str] = {}
    file_warnings: list[str] = []
    pending: list[_PendingParcel] = []
    current: _PendingParcel | None = None
    section: str | None = None
    saw_coordinates = False

    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for line_no, raw_line in enumerate(lines, start=1):
        line = raw_line.strip()
        if not line:
            continue
        if line[0] in "[【" and line[-1] in "]】":
            section = line[1:-1].strip()
            current = None
            saw_coordinates = saw_coordinates or section == COORDINATE_SECTION
            continue
        if section != COORDINATE_SECTION:
            _read_key_value(line, line_no, section, header, file_warnings)
            continue

        fields = [f.strip() for f in line.replace("，", ",").split(",")]
        if _is_parcel_header(line, fields):
            current = _PendingParcel(_parse_parcel_header(line, line_no, path))
            pending.append(current)
            continue
        if len(fields) < 4 or any(fields[4:]):
            raise ZuobiaoFormatError(msg("imports.zuobiao_bad_line", path=path, line_no=line_no, line=line))
        if current is None:
            raise ZuobiaoFormatError(msg("imports.zuobiao_point_first", path=path, line_no=line_no, line=line))
        try:
            first, second = float(fields[2]), float(fields[3])
        except ValueError:
            first = second = math.nan
        if not (math.isfinite(first) and math.isfinite(second)):
            raise ZuobiaoFormatError(msg("imports.zuobiao_bad_coordinates", path=path, line_no=line_no, line=line))
        current.ring_labels.append(fields[1])
        current.first.append(first)
        current.second.append(second)
        current.line_nos.append(line_no)

    if not saw_coordinates:
        raise ZuobiaoFormatError(msg("imports.zuobiao_no_section", path=path, section=COORDINATE_SECTION))
    if not pending:
        raise ZuobiaoFormatError(msg("imports.zuobiao_no_parcels", path=path, section=COORDINATE_SECTION))

    axis_order = _decide_axis_order(pending, path, file_warnings)
    parcels = [_finish_parcel(p, axis_order) for p in pending]
    return ZuobiaoFile(header, parcels, used_encoding, axis_order, file_warnings)


def _read_key_value(
    line: str, line_no: int, section: str | None, header: dict[str, str], warnings: list[str]
) -> None:
    """[属性描述] keys go in as written; keys of later sections get the section name in front."""
    key, sep, value = line.partition("=")
    if not sep:
        if section in (None, ATTRIBUTE_SECTION):
            warnings.append(note("imports.zuobiao_not_key_value", line_no=line_no, line=line))
        return
    key = key.strip()
    if section not in (None, ATTRIBUTE_SECTION):
        key = f"{section}.{key}"
    header[key] = value.strip()


def _is_parcel_header(line: str, fields: list[str]) -> bool:
    """Headers end in '@'; writers that drop it still have the 面/线/点 field where a header has it."""
    if line.endswith("@"):
        return True
    return len(fields) >= 6 and (fields[3] in SHAPE_KINDS or fields[4] in SHAPE_KINDS)


def _parse_parcel_header(line: str, line_no: int, path: str) -> ZuobiaoParcel:
    """Locate the 面/线/点 field first: its position tells whether the 界址点数 column is there."""
    parts = _SEPARATOR.split(line.rstrip().removesuffix("@").rstrip())
    fields = [f.strip() for f in parts[0::2]]
    separators = parts[1::2]
    if fields and fields[-1] == "" and line.rstrip().endswith("@"):
        fields.pop()
    warnings: list[str] = []

    def joined(start: int, stop: int) -> str:
        pieces = [fields[start]]
        for i in range(start + 1, stop):
            pieces.append(separators[i - 1] + fields[i])
        return "".join(pieces).strip()

    kind_at = next((k for k in (4, 3) if len(fields) > k and fields[k] in SHAPE_KINDS), None)
    if kind_at is None:
        kind_at = next((k for k in range(5, len(fields)) if fields[k] in SHAPE_KINDS), None)
    if kind_at is None:
        if len(fields) < 5:
            raise ZuobiaoFormatError(msg("imports.zuobiao_short_header", path=path, line_no=line_no, line=line))
        kind_at = 4 if len(fields) >= 8 else 3
        warnings.append(note("imports.zuobiao_no_shape_kind", line_no=line_no, value=fields[kind_at]))

    if kind_at == 3:
        count_text, area_text, parcel_no, name = "", fields[0], fields[1], fields[2]
    else:
        count_text, area_text, parcel_no = fields[0], fields[1], fields[2]
        name = joined(3, kind_at)

    after = fields[kind_at + 1:]
    after += [""] * max(0, 3 - len(after))
    sheet_no, use, land_class = after[0], after[1], after[2]
    extra_values = after[3:]
    extra: dict[str, str] = {}
    if len(extra_values) >= len(EXTRA_FIELD_NAMES) or any(extra_values):
        remark_at = kind_at + 4 + len(EXTRA_FIELD_NAMES) - 1
        if len(extra_values) > len(EXTRA_FIELD_NAMES):
            remark = joined(remark_at, len(fields))
            extra_values = extra_values[: len(EXTRA_FIELD_NAMES) - 1] + [remark]
        extra_values += [""] * (len(EXTRA_FIELD_NAMES) - len(extra_values))
        extra = dict(zip(EXTRA_FIELD_NAMES, extra_values))

    parcel = ZuobiaoParcel(
        line_no=line_no,
        parcel_no=parcel_no,
        name=name,
        shape_kind=fields[kind_at],
        declared_points=None,
        area=None,
        area_unit="ha",
        sheet_no=sheet_no,
        use=use,
        land_class=land_class,
        extra=extra,
        geometry=None,
        points_counted=0,
        warnings=warnings,
    )
    parcel.declared_points = _parse_count(count_text, parcel)
    parcel.area, parcel.area_unit = _parse_area(area_text, parcel)
    return parcel


def _label(parcel: ZuobiaoParcel):
    number = parcel.parcel_no or msg("imports.zuobiao_no_parcel_no")
    if parcel.name:
        return msg("imports.zuobiao_parcel_named", number=number, name=parcel.name)
    return msg("imports.zuobiao_parcel", number=number)


def _parse_count(text: str, parcel: ZuobiaoParcel) -> int | None:
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not value.is_integer() or value < 0:
        parcel.warnings.append(note("imports.zuobiao_bad_count", line_no=parcel.line_no, parcel=_label(parcel),
                                    value=text))
        return None
    return int(value)


def _parse_area(text: str, parcel: ZuobiaoParcel) -> tuple[float | None, str]:
    """The spec says 公顷; some writers append the unit to the value, so it is read from there."""
    if not text:
        return None, "ha"
    match = _AREA_VALUE.match(text)
    unit = _AREA_UNITS.get(match.group(2).strip().lower()) if match else None
    if match is None or unit is None:
        parcel.warnings.append(note("imports.zuobiao_bad_area", line_no=parcel.line_no, parcel=_label(parcel),
                                    value=text))
        return None, "ha"
    return float(match.group(1)), unit


def _magnitude(value: float) -> str:
    """Classify a coordinate: prefixed easting, northing, unprefixed easting, degrees or unknown."""
    value = abs(value)
    if value < 200:
        return "deg"
    if 1e7 <= value < 1e8:
        return "E8"
    if 1e6 <= value < 1e7:
        return "N"
    if 1e5 <= value < 1e6:
        return "E6"
    return "?"


_PAIR_ORDER = {
    ("N", "E8"): NORTHING_EASTING,
    ("N", "E6"): NORTHING_EASTING,
    ("E8", "N"): EASTING_NORTHING,
    ("E6", "N"): EASTING_NORTHING,
}


def _decide_axis_order(pending: list[_PendingParcel], path: str, warnings: list[str]) -> str:
    """One order for the whole file, voted by magnitude; a self-contradicting file is refused."""
    first_line: dict[str, int] = {}
    counts: dict[str, int] = {}
    for item in pending:
        for a, b, line_no in zip(item.first, item.second, item.line_nos):
            kinds = (_magnitude(a), _magnitude(b))
            if kinds == ("deg", "deg"):
                order = LON_LAT if abs(a) > abs(b) else LAT_LON
            else:
                order = _PAIR_ORDER.get(kinds)
                if order is None:
                    continue
            if order not in counts:
                counts[order] = 0
                first_line[order] = line_no
            counts[order] += 1

    if not counts:
        warnings.append(note("imports.zuobiao_axis_unknown"))
        return NORTHING_EASTING
    if len(counts) > 1:
        described = Listing(
            msg("imports.zuobiao_axis_count", count=counts[order], order=order, line_no=first_line[order])
            for order in sorted(counts, key=lambda o: first_line[o])
        )
        raise ZuobiaoFormatError(msg("imports.zuobiao_axis_mixed", path=path, described=described))
    order = next(iter(counts))
    if order == EASTING_NORTHING:
        warnings.append(note("imports.zuobiao_axis_swapped"))
    elif order == LON_LAT:
        warnings.append(note("imports.zuobiao_lon_first"))
    return order


def _split_rings(
    labels: list[str], xs: list[float], ys: list[float]
) -> list[list[tuple[float, float]]]:
    """A new 圈号 starts a ring; so does going on after a ring closed (writers numbering all 1)."""
    rings: list[list[tuple[float, float]]] = []
    ring: list[tuple[float, float]] = []
    ring_label: str | None = None
    for label, x, y in zip(labels, xs, ys):
        if not ring or label != ring_label or (len(ring) >= 4 and ring[-1] == ring[0]):
            ring = []
            rings.append(ring)
            ring_label = label
        ring.append((x, y))
    return rings


def _finish_parcel(item: _PendingParcel, axis_order: str) -> ZuobiaoParcel:
    parcel = item.parcel
    if axis_order in (NORTHING_EASTING, LAT_LON):
        xs, ys = item.second, item.first
    else:
        xs, ys = item.first, item.second
    rings = _split_rings(item.ring_labels, xs, ys)
    parcel.points_counted = len(item.ring_labels)
    distinct = sum(len(set(ring)) for ring in rings)
    _check_declared_points(parcel, distinct, len(rings))

    if parcel.shape_kind in ("线", "点"):
        parcel.warnings.append(note("imports.zuobiao_not_polygon", line_no=parcel.line_no, parcel=_label(parcel),
                                    kind=parcel.shape_kind))
        return parcel
    if not rings:
        parcel.warnings.append(note("imports.zuobiao_no_points", line_no=parcel.line_no, parcel=_label(parcel)))
        return parcel
    if any(len(set(ring)) < 3 for ring in rings):
        parcel.warnings.append(note("imports.zuobiao_short_ring", line_no=parcel.line_no, parcel=_label(parcel)))
        return parcel
    parcel.geometry = _assemble(rings, parcel)
    return parcel


def _check_declared_points(parcel: ZuobiaoParcel, distinct: int, ring_count: int) -> None:
    """Writers count with or without closing points, per ring or per parcel: accept all of those."""
    declared = parcel.declared_points
    if declared is None:
        return
    lines = parcel.points_counted
    accepted = {lines - 1, lines, lines + 1, distinct - 1, distinct, distinct + 1}
    accepted.add(distinct + ring_count)
    if declared not in accepted:
        parcel.warnings.append(note("imports.zuobiao_count_differs", line_no=parcel.line_no, parcel=_label(parcel),
                                    declared=declared, lines=lines, distinct=distinct))


def _assemble(rings: list[list[tuple[float, float]]], parcel: ZuobiaoParcel) -> MultiPolygon:
    """Hole or part is decided by containment, because writers use 圈号 in contradictory ways."""
    shells = [Polygon(ring) for ring in rings]
    if len(shells) == 1:
        return MultiPolygon(shells)

    areas = [shell.area for shell in shells]
    for shell in shells:
        shapely.prepare(shell)
    parent = [-1] * len(shells)
    depth = [0] * len(shells)
    try:
        for j, inner in enumerate(shells):
            containers = [
                i for i, outer in enumerate(shells)
                if i != j and areas[i] > areas[j] and outer.covers(inner)
            ]
            depth[j] = len(containers)
            if containers:
                parent[j] = min(containers, key=areas.__getitem__)
    except shapely.errors.GEOSException as exc:
        parcel.warnings.append(note("imports.zuobiao_rings_malformed", line_no=parcel.line_no, parcel=_label(parcel),
                                    reason=str(exc)))
        return MultiPolygon(shells)

    holes: dict[int, list[list[tuple[float, float]]]] = {}
    for j in range(len(shells)):
        if depth[j] % 2 == 1:
            holes.setdefault(parent[j], []).append(rings[j])
    parts = [
        Polygon(rings[i], holes[i]) if i in holes else shells[i]
        for i in range(len(shells))
        if depth[i] % 2 == 0
    ]
    return MultiPolygon(parts)
