"""Deciding which coordinate reference system a delivery's numbers are in.

Bureaus send CGCS2000 lon/lat (EPSG:4490) or Gauss-Krüger metres, often with no
.prj. Gauss-Krüger eastings of 8 digits carry their zone in front (13–23: 6° zones,
EPSG:4491–4501; 25–45: 3° zones, EPSG:4513–4533). Eastings of 6 digits carry no zone:
the central meridian must come from the user or from where the batch lands among
the loaded admin boundaries. Every decision says which rule made it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from ..catalogue import msg, note
from ..errors import CRSDetectionError

STORAGE_CRS = CRS.from_epsg(4490)
CHINA_LON = (73.0, 136.0)
CHINA_LAT = (3.0, 54.0)
#: Central meridians of the CGCS2000 3° zones covering China (6° zone meridians are among them).
CENTRAL_MERIDIANS = tuple(range(75, 136, 3))
#: Old datums converted with a warning, and their catalogue labels.
_OLD_DATUMS = {"Xian 1980": "imports.crs_old_datum_label.xian80",
               "Beijing 1954": "imports.crs_old_datum_label.beijing54"}
#: Datums of China's CRS names, as pyproj writes them: each in Chinese where it has a Chinese name.
_DATUMS = {"CGCS2000": "CGCS2000", "WGS 84": "WGS 84", "Xian 1980": "imports.crs_datum.xian80",
           "Beijing 1954": "imports.crs_datum.beijing54"}
_GK_NAME = re.compile(r"^(CGCS2000|Xian 1980|Beijing 1954) / (3-degree )?Gauss-Kruger (?:zone (\d+)|CM (\d+)E)$")


@dataclass(frozen=True)
class CRSDecision:
    """The CRS a delivery is read in, and why."""

    crs: CRS
    reason: str
    warnings: tuple[str, ...] = field(default=())

    @property
    def label(self) -> str:
        return crs_label(self.crs)


def crs_label(crs: CRS) -> str:
    epsg = crs.to_epsg(min_confidence=70)
    return f"EPSG:{epsg}" if epsg else crs.name


def crs_name(crs: CRS) -> str:
    """A CRS's name: pyproj's English one, which renders in Chinese where it is one of China's
    (CGCS2000, Xian 80, Beijing 54: lon/lat or Gauss-Krüger); any other stays as pyproj names it."""
    name = crs.name
    if name == "China Geodetic Coordinate System 2000":
        named = note("imports.crs_name.cgcs2000_geographic")
    elif name in _DATUMS and name != "CGCS2000":
        named = note("imports.crs_name.geographic", datum=_datum(name))
    elif match := _GK_NAME.match(name):
        datum, three, zone, cm = match.groups()
        key = f"imports.crs_name.gk{'3' if three else '6'}_{'zone' if zone else 'cm'}"
        named = note(key, datum=_datum(datum), **({"zone": zone} if zone else {"cm": cm}))
    else:
        return name
    return named if str(named) == name else name


def _datum(name: str):
    key = _DATUMS[name]
    return msg(key) if key.startswith("imports.") else key


def gauss_kruger_epsg(*, zone: int | None = None, central_meridian: int | None = None) -> int:
    """EPSG code of a CGCS2000 Gauss-Krüger CRS.

    ``zone`` is the prefix written in front of eastings (13–23: 6° zones, 25–45: 3°
    zones); ``central_meridian`` selects the no-prefix variant (EPSG:4534–4554).
    """
    if zone is not None:
        if 13 <= zone <= 23:
            return 4491 + zone - 13
        if 25 <= zone <= 45:
            return 4513 + zone - 25
        raise ValueError(msg("imports.crs_zone_not_china", zone=zone))
    if central_meridian in CENTRAL_MERIDIANS:
        return 4534 + (central_meridian - 75) // 3
    raise ValueError(msg("imports.crs_cm_not_china", cm=central_meridian))


def zone_central_meridian(zone: int) -> int:
    return 6 * zone - 3 if zone <= 23 else 3 * zone


def parse_crs(text: str, *, what: str = "--crs") -> CRS:
    try:
        return CRS.from_user_input(text.strip())
    except CRSError:
        raise CRSDetectionError(msg("imports.crs_unparsable", what=what, text=text)) from None


def _to_storage(crs: CRS, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    transformer = Transformer.from_crs(crs, STORAGE_CRS, always_xy=True)
    return transformer.transform(x, y, errcheck=False)


def _inside_china(lon: np.ndarray, lat: np.ndarray) -> bool:
    ok = np.isfinite(lon) & np.isfinite(lat)
    return bool(
        ok.all()
        and (lon >= CHINA_LON[0]).all() and (lon <= CHINA_LON[1]).all()
        and (lat >= CHINA_LAT[0]).all() and (lat <= CHINA_LAT[1]).all()
    )


def _fraction_inside(lon, lat, reference) -> float:
    points = shapely.points(lon, lat)
    shapely.prepare(reference)
    return float(np.mean(shapely.contains(reference, points) | shapely.touches(reference, points)))


def _looks_geographic(x: np.ndarray, y: np.ndarray) -> bool:
    return bool((np.abs(x) <= 180).all() and (np.abs(y) <= 180).all())


def infer_crs(
    x: np.ndarray,
    y: np.ndarray,
    *,
    reference=None,
    central_meridian: int | None = None,
    source: str = "the file",
) -> CRSDecision:
    """Infer the CRS from sample coordinates alone (GIS order: x easting/lon, y northing/lat).

    ``reference`` (a shapely geometry in EPSG:4490, e.g. the union of the loaded admin
    units) settles 6-digit eastings; ``central_meridian`` is the office's configured one.
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    if not len(x):
        raise CRSDetectionError(msg("imports.crs_no_coordinates", source=source))
    if _looks_geographic(x, y):
        if _inside_china(x, y):
            return CRSDecision(STORAGE_CRS, note("imports.crs_lonlat_china"))
        if _inside_china(y, x):
            raise CRSDetectionError(msg("imports.crs_latlon_swapped", source=source, x=f"{x[0]:.4f}", y=f"{y[0]:.4f}"))
        raise CRSDetectionError(msg("imports.crs_lonlat_outside", source=source, x=f"{x[0]:.4f}", y=f"{y[0]:.4f}"))
    if (x >= 1e7).any():
        zones = np.unique(np.floor(x / 1e6).astype(int))
        if len(zones) > 1:
            raise CRSDetectionError(msg("imports.crs_zones_differ", source=source, zones=sorted(zones.tolist())))
        zone = int(zones[0])
        try:
            epsg = gauss_kruger_epsg(zone=zone)
        except ValueError:
            raise CRSDetectionError(msg("imports.crs_bad_zone", source=source, x=f"{x[0]:.2f}", zone=zone)) from None
        crs = CRS.from_epsg(epsg)
        lon, lat = _to_storage(crs, x, y)
        if not _inside_china(lon, lat):
            raise CRSDetectionError(msg("imports.crs_zone_outside", source=source, zone=zone,
                                        low=f"{y.min():.0f}", high=f"{y.max():.0f}"))
        kind = "6°" if zone <= 23 else "3°"
        return CRSDecision(crs, note("imports.crs_zone_prefix", zone=zone, kind=kind,
                                     cm=zone_central_meridian(zone), epsg=epsg))
    if ((x >= 1e5) & (x < 1e6)).all() and ((y >= 1e6) & (y < 1e7)).all():
        return _infer_central_meridian(x, y, reference, central_meridian, source)
    if ((x >= 1e6) & (x < 1e7)).all() and (((y >= 1e5) & (y < 1e6)) | ((y >= 1e7) & (y < 1e8))).all():
        raise CRSDetectionError(msg("imports.crs_axes_swapped", source=source, x=f"{x[0]:.2f}", y=f"{y[0]:.2f}"))
    raise CRSDetectionError(msg("imports.crs_unrecognised", source=source, x=f"{x[0]:.2f}", y=f"{y[0]:.2f}"))


def _infer_central_meridian(x, y, reference, central_meridian, source) -> CRSDecision:
    if central_meridian is not None:
        try:
            epsg = gauss_kruger_epsg(central_meridian=central_meridian)
        except ValueError as e:
            raise CRSDetectionError(e.args[0]) from None
        return CRSDecision(CRS.from_epsg(epsg), note("imports.crs_configured_cm", cm=central_meridian, epsg=epsg))
    plausible = []
    for cm in CENTRAL_MERIDIANS:
        epsg = gauss_kruger_epsg(central_meridian=cm)
        lon, lat = _to_storage(CRS.from_epsg(epsg), x, y)
        if not _inside_china(lon, lat):
            continue
        if reference is None or _fraction_inside(lon, lat, reference) >= 0.9:
            plausible.append(epsg)
    listed = ", ".join(f"EPSG:{e} (CM {75 + 3 * (e - 4534)}°E)" for e in plausible)
    if reference is None:
        raise CRSDetectionError(msg("imports.crs_cm_unknown", source=source, listed=listed))
    if len(plausible) == 1:
        epsg = plausible[0]
        return CRSDecision(CRS.from_epsg(epsg), note("imports.crs_cm_from_boundaries",
                                                     cm=75 + 3 * (epsg - 4534), epsg=epsg))
    if not plausible:
        raise CRSDetectionError(msg("imports.crs_cm_none_fits", source=source))
    raise CRSDetectionError(msg("imports.crs_cm_several_fit", source=source, listed=listed))


def decide_crs(
    x: np.ndarray,
    y: np.ndarray,
    *,
    declared: CRS | None = None,
    override: str | None = None,
    reference=None,
    central_meridian: int | None = None,
    source: str = "the file",
) -> CRSDecision:
    """The CRS to read a delivery in: ``--crs``, else the file's own if it fits, else inferred.

    A declared CRS that contradicts the coordinates (a geographic .prj with values in
    the millions, a zone whose eastings land outside China) is an error that names
    the likely CRS. Old datums are accepted with a warning about their accuracy.
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    if override:
        crs = parse_crs(override)
        _check_fits(crs, x, y, msg("imports.crs_what_given", value=override), source)
        return CRSDecision(crs, note("imports.crs_given", label=crs_label(crs), name=crs_name(crs)),
                           _datum_warnings(crs))
    if declared is None:
        return infer_crs(x, y, reference=reference, central_meridian=central_meridian, source=source)
    _check_fits(declared, x, y, msg("imports.crs_what_own", label=crs_label(declared), name=crs_name(declared)), source,
                reference=reference, central_meridian=central_meridian)
    return CRSDecision(declared, note("imports.crs_from_file", label=crs_label(declared), name=crs_name(declared)),
                       _datum_warnings(declared))


def _check_fits(crs: CRS, x, y, what: str, source: str, *, reference=None, central_meridian=None) -> None:
    geographic = crs.is_geographic
    if geographic == _looks_geographic(x, y):
        lon, lat = _to_storage(crs, x, y)
        if _inside_china(lon, lat):
            return
    at = dict(source=source, what=what, x=f"{x[0]:.2f}", y=f"{y[0]:.2f}")
    try:
        likely = infer_crs(x, y, reference=reference, central_meridian=central_meridian, source=source)
    except CRSDetectionError as e:
        raise CRSDetectionError(msg("imports.crs_contradicts", **at, reason=e.args[0])) from None
    raise CRSDetectionError(msg("imports.crs_contradicts_likely", **at, label=likely.label, reason=likely.reason))


def _datum_warnings(crs: CRS) -> tuple[str, ...]:
    datum = (crs.geodetic_crs.datum.name if crs.geodetic_crs else "") or ""
    for key, label in _OLD_DATUMS.items():
        if key.lower() in datum.lower() or key.lower() in crs.name.lower():
            return (note("imports.crs_old_datum", label=msg(label)),)
    return ()


def sample_coordinates(geoms, limit: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    """Up to ``limit`` vertices spread over the geometries, for cheap CRS checks."""
    geoms = np.asarray(geoms, dtype=object)
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    if len(geoms) > limit:
        geoms = geoms[np.linspace(0, len(geoms) - 1, limit).astype(int)]
    coords = shapely.get_coordinates(geoms)
    if len(coords) > limit * 4:
        coords = coords[np.linspace(0, len(coords) - 1, limit * 4).astype(int)]
    return coords[:, 0], coords[:, 1]


# --- GCJ-02 (火星坐标: Amap, Tencent, 奥维 in some exports) --------------------------

_GCJ_A = 6378245.0
_GCJ_EE = 0.00669342162296594323


def _gcj_offset(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, y = lon - 105.0, lat - 35.0
    dlat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
            + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
            + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
            + (160.0 * np.sin(y / 12.0 * np.pi) + 320 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0)
    dlon = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
            + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
            + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
            + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0)
    rad = lat / 180.0 * np.pi
    magic = 1 - _GCJ_EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_GCJ_A * (1 - _GCJ_EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_GCJ_A / sqrt_magic * np.cos(rad) * np.pi)
    return dlon, dlat


def wgs84_to_gcj02(lon, lat):
    """The published GCJ-02 obfuscation (applies inside China only)."""
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    dlon, dlat = _gcj_offset(lon, lat)
    return lon + dlon, lat + dlat


def gcj02_to_wgs84(lon, lat, iterations: int = 6):
    """Undo GCJ-02 by fixed-point iteration (better than 1 cm after a few steps).

    Amap/Tencent coordinates and some 奥维 exports are GCJ-02, 300–600 m off
    CGCS2000 (≈ WGS84 at the scale of patches).
    """
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    wlon, wlat = lon.copy(), lat.copy()
    for _ in range(iterations):
        glon, glat = wgs84_to_gcj02(wlon, wlat)
        wlon, wlat = wlon - (glon - lon), wlat - (glat - lat)
    return wlon, wlat
