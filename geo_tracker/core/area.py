"""Official areas: ellipsoidal (geodesic) area on the CGCS2000 ellipsoid, in m² and 亩.

Bureaus' figures (三调 TBMJ, 判读面积) are ellipsoidal areas, not planar areas in a
Gauss-Krüger zone (off by up to ~4e-4 near a zone edge, which shows at 0.01 亩) and
never planar areas of lon/lat.

How: every vertex goes to the authalic sphere (an equal-area map of the ellipsoid)
and then through a Lambert azimuthal equal-area projection centred on its own
geometry, so each patch sits where the projection is almost free of distortion
and its straight edges follow the geodesics. Both steps preserve area exactly and
run in numpy over all vertices at once; GEOS then sums the planar areas. The rare
geometry wider than ~2 km gets pyproj's geodesic area instead, so long edges
cannot drift from their geodesics.
"""

from __future__ import annotations

import numpy as np
import shapely
from pyproj import Geod

from ..units import M2_PER_MU

CGCS2000_A = 6378137.0
CGCS2000_RF = 298.257222101
CGCS2000_GEOD = Geod(a=CGCS2000_A, f=1 / CGCS2000_RF)

#: Geometries wider than this (degrees, ~2 km) get pyproj's exact geodesic area.
LARGE_DEG = 0.02

_F = 1 / CGCS2000_RF
_E2 = _F * (2 - _F)
_E = np.sqrt(_E2)


def _q(sin_phi: np.ndarray) -> np.ndarray:
    """The authalic function q(φ) of the ellipsoid (Snyder 1987, eq. 3-12)."""
    es = _E * sin_phi
    return (1 - _E2) * (sin_phi / (1 - es * es) - np.log((1 - es) / (1 + es)) / (2 * _E))


_QP = float(_q(np.array(1.0)))
_RQ = CGCS2000_A * np.sqrt(_QP / 2)


def _authalic(lon_deg: np.ndarray, lat_deg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    sin_beta = np.clip(_q(np.sin(np.radians(lat_deg))) / _QP, -1.0, 1.0)
    return np.radians(lon_deg), np.arcsin(sin_beta)


def geodesic_area_m2(geometries) -> np.ndarray:
    """Ellipsoidal area in m² of each polygonal geometry given in EPSG:4490 (lon, lat).

    Holes are subtracted and parts summed. Null or empty geometries give 0.

    Parameters
    ----------
    geometries : array-like of shapely geometries, or a GeoSeries, in EPSG:4490.

    Examples
    --------
    >>> from shapely import box
    >>> round(float(geodesic_area_m2([box(106.5, 29.6, 106.501, 29.601)])[0]), 1)
    10737.7
    """
    geoms = np.asarray(getattr(geometries, "values", geometries), dtype=object)
    if geoms.ndim == 0:
        geoms = geoms.reshape(1)
    result = np.zeros(len(geoms), dtype=float)
    present = np.flatnonzero(~(shapely.is_missing(geoms) | shapely.is_empty(geoms)))
    if not len(present):
        return result
    part = geoms[present]
    bounds = shapely.bounds(part)
    coords, owner = shapely.get_coordinates(part, return_index=True)
    lam, beta = _authalic(coords[:, 0], coords[:, 1])
    lam0, beta0 = _authalic((bounds[:, 0] + bounds[:, 2]) / 2, (bounds[:, 1] + bounds[:, 3]) / 2)
    lam0, beta0 = lam0[owner], beta0[owner]
    dlam = lam - lam0
    cos_b, sin_b, cos_b0, sin_b0 = np.cos(beta), np.sin(beta), np.cos(beta0), np.sin(beta0)
    cos_c = sin_b0 * sin_b + cos_b0 * cos_b * np.cos(dlam)
    k = _RQ * np.sqrt(2 / (1 + cos_c))
    projected = np.column_stack([k * cos_b * np.sin(dlam), k * (cos_b0 * sin_b - sin_b0 * cos_b * np.cos(dlam))])
    result[present] = shapely.area(shapely.set_coordinates(part.copy(), projected))
    wide = np.maximum(bounds[:, 2] - bounds[:, 0], bounds[:, 3] - bounds[:, 1]) > LARGE_DEG
    for i in present[wide]:
        result[i] = reference_area_m2(geoms[i])
    return result


def geodesic_area_mu(geometries) -> np.ndarray:
    """Ellipsoidal area in 亩 (10000/15 m²) of each geometry in EPSG:4490."""
    return geodesic_area_m2(geometries) / M2_PER_MU


def reference_area_m2(geometry) -> float:
    """pyproj's geodesic area of one geometry: exact but a Python call per geometry.

    pyproj sums signed ring areas, so rings are oriented first (exteriors
    counter-clockwise, holes clockwise); otherwise a hole drawn like its exterior
    would be added instead of subtracted.
    """
    area, _perimeter = CGCS2000_GEOD.geometry_area_perimeter(shapely.orient_polygons(geometry))
    return abs(area)


def gauss_kruger_area_mu(geometries, ellipsoidal_mu=None, crs=None) -> np.ndarray:
    """Planar area in 亩 of each geometry (EPSG:4490) in a CGCS2000 Gauss-Krüger zone.

    Not an official area, but the figure many writers state (坐标txt 地块面积, DLTB
    exports): about 4e-4 above the ellipsoidal area at a zone's edge. ``crs`` is the
    delivery's own projected CRS; otherwise each patch takes the 3° zone it lies in.
    The projection is conformal, so the planar area is the ellipsoidal one times the
    areal scale at the patch (exact to ~1e-8 for patches under a few km); only the
    centres are projected, not every vertex.
    """
    from pyproj import CRS, Proj

    from .crs import CENTRAL_MERIDIANS, gauss_kruger_epsg

    geoms = np.asarray(getattr(geometries, "values", geometries), dtype=object)
    if ellipsoidal_mu is None:
        ellipsoidal_mu = geodesic_area_mu(geoms)
    result = np.full(len(geoms), np.nan)
    present = np.flatnonzero(~(shapely.is_missing(geoms) | shapely.is_empty(geoms)))
    if not len(present):
        return result
    bounds = shapely.bounds(geoms[present])
    lon, lat = (bounds[:, 0] + bounds[:, 2]) / 2, (bounds[:, 1] + bounds[:, 3]) / 2
    own = CRS(crs) if crs is not None else None
    if own is not None and own.is_projected:
        zones = {own.to_wkt(): np.arange(len(present))}
    else:
        meridians = np.asarray(CENTRAL_MERIDIANS)
        cm = meridians[np.abs(lon[:, None] - meridians[None, :]).argmin(axis=1)]
        zones = {f"EPSG:{gauss_kruger_epsg(central_meridian=int(m))}": np.flatnonzero(cm == m) for m in np.unique(cm)}
    for target, rows in zones.items():
        scale = Proj(CRS(target)).get_factors(lon[rows], lat[rows]).areal_scale
        result[present[rows]] = np.asarray(ellipsoidal_mu)[present[rows]] * scale
    return result
