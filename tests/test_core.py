"""The pure core on hand-built values: area, CRS inference, geometry repair, checks, diffs."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from pyproj import CRS, Transformer
from shapely.geometry import MultiPolygon, Polygon

from geo_tracker.core.area import LARGE_DEG, geodesic_area_m2, geodesic_area_mu, reference_area_m2
from geo_tracker.core.checks import area_flags, duplicate_codes
from geo_tracker.core.crs import decide_crs, gauss_kruger_epsg, infer_crs
from geo_tracker.core.geometry import normalise_polygons
from geo_tracker.core.reissue import diff_by_code
from geo_tracker.errors import CRSDetectionError
from geo_tracker.units import M2_PER_MU


def random_patches(n: int, seed: int = 7) -> np.ndarray:
    """Star-shaped patches of 6–40 vertices, 3 m to 5 km across, anywhere in China; some with holes."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        lon, lat = rng.uniform(74, 134), rng.uniform(18, 52)
        radius = 10 ** rng.uniform(0.5, 3.7) / 111_000
        k = rng.integers(6, 41)
        ang = np.sort(rng.uniform(0, 2 * np.pi, k))
        r = radius * rng.uniform(0.6, 1.0, k)
        ring = np.column_stack([lon + r * np.cos(ang) / np.cos(np.radians(lat)), lat + r * np.sin(ang)])
        holes = []
        if rng.random() < 0.2:
            holes = [[(lon + dx * radius * 0.2 / np.cos(np.radians(lat)), lat + dy * radius * 0.2)
                      for dx, dy in ((-1, -1), (1, -1), (1, 1), (-1, 1))]]
        out.append(Polygon(ring, holes))
    return np.array(out, dtype=object)


def test_geodesic_area_matches_pyproj_on_random_patches():
    geoms = random_patches(3000)
    ours = geodesic_area_m2(geoms)
    ref = np.array([reference_area_m2(g) for g in geoms])
    tolerance = np.maximum(1e-5 * ref, 0.001 * M2_PER_MU)
    worst = np.argmax(np.abs(ours - ref) / tolerance)
    assert (np.abs(ours - ref) <= tolerance).all(), (ours[worst], ref[worst], geoms[worst].wkt[:200])


def test_geodesic_area_of_a_large_patch_and_a_degree_cell():
    cell = shapely.box(105, 29, 106, 30)
    # One degree cell at 29–30°N on CGCS2000: 10 468.5... km² (pyproj, with geodesic edges).
    assert geodesic_area_m2([cell])[0] == pytest.approx(reference_area_m2(cell), rel=1e-9)
    assert (cell.bounds[2] - cell.bounds[0]) > LARGE_DEG


def test_holes_are_subtracted_whatever_their_orientation():
    outer = shapely.box(106.5, 29.6, 106.51, 29.61)
    hole_ccw = shapely.box(106.502, 29.602, 106.504, 29.604).exterior.coords
    with_hole = Polygon(outer.exterior.coords, [hole_ccw])
    a_outer, a_holed = geodesic_area_m2([outer, with_hole])
    a_hole = geodesic_area_m2([shapely.box(106.502, 29.602, 106.504, 29.604)])[0]
    assert a_holed == pytest.approx(a_outer - a_hole, rel=1e-9)
    assert reference_area_m2(with_hole) == pytest.approx(a_holed, rel=1e-7)


def test_area_is_not_planar_gauss_kruger_area_near_a_zone_edge():
    """Planar area in GK zone 35 at 1.4° from the central meridian is ~3e-4 too large."""
    patch = shapely.box(106.38, 29.80, 106.39, 29.81)
    to_gk = Transformer.from_crs(4490, 4523, always_xy=True)
    planar = shapely.transform(patch, lambda xy: np.column_stack(to_gk.transform(xy[:, 0], xy[:, 1]))).area
    geodesic = geodesic_area_m2([patch])[0]
    assert planar / geodesic - 1 > 2.5e-4
    assert geodesic == pytest.approx(reference_area_m2(patch), rel=1e-8)


def test_area_in_mu_and_missing_geometries():
    mu = geodesic_area_mu(np.array([None, shapely.Polygon(), shapely.box(106.5, 29.6, 106.501, 29.601)], dtype=object))
    assert mu[0] == 0 and mu[1] == 0
    assert mu[2] == pytest.approx(reference_area_m2(shapely.box(106.5, 29.6, 106.501, 29.601)) * 15 / 10000)


@pytest.mark.parametrize("zone, epsg", [(13, 4491), (18, 4496), (23, 4501), (25, 4513), (35, 4523), (45, 4533)])
def test_zone_prefix_to_epsg(zone, epsg):
    assert gauss_kruger_epsg(zone=zone) == epsg
    crs = CRS.from_epsg(epsg)
    assert "zone" in crs.name.lower() and str(zone) in crs.name


@pytest.mark.parametrize("cm, epsg", [(75, 4534), (105, 4544), (108, 4545), (135, 4554)])
def test_central_meridian_to_epsg(cm, epsg):
    assert gauss_kruger_epsg(central_meridian=cm) == epsg
    assert f"CM {cm}E" in CRS.from_epsg(epsg).name


def _gk(epsg, lon, lat):
    return Transformer.from_crs(4490, epsg, always_xy=True).transform(lon, lat)


def test_infer_lonlat_prefixed_3deg_and_6deg():
    assert infer_crs(np.array([106.4]), np.array([29.8])).crs.to_epsg() == 4490
    x, y = _gk(4523, np.array([106.4, 106.5]), np.array([29.8, 29.9]))
    d = infer_crs(x, y)
    assert d.crs.to_epsg() == 4523 and "zone prefix 35" in d.reason and "3°" in d.reason
    x, y = _gk(4496, np.array([106.4]), np.array([29.8]))
    d = infer_crs(x, y)
    assert d.crs.to_epsg() == 4496 and "6°" in d.reason


def test_infer_refuses_mixed_zones_swapped_axes_and_nonsense():
    with pytest.raises(CRSDetectionError, match=r"different zone prefixes \[35, 36\]"):
        infer_crs(np.array([35_512_345.0, 36_400_000.0]), np.array([3_307_123.0, 3_307_123.0]))
    with pytest.raises(CRSDetectionError, match="axes are swapped"):
        infer_crs(np.array([3_307_123.45]), np.array([35_512_345.67]))
    with pytest.raises(CRSDetectionError, match="swapped order"):
        infer_crs(np.array([29.8]), np.array([106.4]))
    with pytest.raises(CRSDetectionError, match="neither lon/lat nor"):
        infer_crs(np.array([5000.0]), np.array([7000.0]))
    with pytest.raises(CRSDetectionError, match="starts with zone 24"):
        infer_crs(np.array([24_512_345.0]), np.array([3_307_123.0]))


def test_unprefixed_eastings_need_a_reference_and_accept_only_one_fit():
    x, y = _gk(4544, np.array([106.40, 106.42]), np.array([29.80, 29.82]))
    with pytest.raises(CRSDetectionError, match="no admin boundaries are loaded"):
        infer_crs(x, y)
    township = shapely.box(106.3, 29.7, 106.5, 29.9)
    d = infer_crs(x, y, reference=township)
    assert d.crs.to_epsg() == 4544 and "only central meridian 105°E" in d.reason
    whole_china = shapely.box(73, 3, 136, 54)
    with pytest.raises(CRSDetectionError, match=r"several central meridians fit .*EPSG:4544"):
        infer_crs(x, y, reference=whole_china)
    assert infer_crs(x, y, central_meridian=105).crs.to_epsg() == 4544


def test_declared_geographic_crs_with_metres_suggests_the_likely_crs():
    x, y = _gk(4523, np.array([106.4]), np.array([29.8]))
    with pytest.raises(CRSDetectionError, match="rerun with --crs EPSG:4523"):
        decide_crs(x, y, declared=CRS.from_epsg(4490))
    with pytest.raises(CRSDetectionError, match="not a coordinate reference system"):
        decide_crs(x, y, override="EPSG:banana")
    d = decide_crs(x, y, declared=CRS.from_epsg(4523))
    assert d.reason.startswith("from the file (EPSG:4523")


def test_normalise_repairs_bowtie_drops_repeats_and_rejects_non_polygons():
    bowtie = Polygon([(106.5, 29.6), (106.51, 29.61), (106.51, 29.6), (106.5, 29.61), (106.5, 29.6)])
    repeated = Polygon([(106.5, 29.6), (106.5, 29.6), (106.51, 29.6), (106.51, 29.61), (106.5, 29.6)])
    cw = Polygon([(106.5, 29.6), (106.5, 29.61), (106.51, 29.61), (106.5, 29.6)])
    line_like = Polygon([(106.5, 29.6), (106.51, 29.6), (106.52, 29.6), (106.5, 29.6)])
    checked = normalise_polygons([bowtie, repeated, cw, shapely.Point(106.5, 29.6), None,
                                  shapely.box(0, 0, 1, 1), line_like])
    g = checked.geometries
    assert g[0].geom_type == "MultiPolygon" and len(g[0].geoms) == 2 and g[0].is_valid
    assert "Self-intersection" in checked.flags[0]["repaired"]
    assert shapely.get_num_coordinates(g[1]) == 4 and "duplicate_vertices" in checked.flags[1]
    assert g[2].geoms[0].exterior.is_ccw
    assert checked.problems == {
        3: "is a Point, not a polygon: only polygon patches can be imported",
        4: "empty or missing geometry",
        5: checked.problems[5],
        6: checked.problems[6],
    }
    assert checked.problems[5].startswith("coordinates out of range (lon 0.0000–1.0000")
    assert "has no area once repaired" in checked.problems[6]


def test_area_flags():
    flags = area_flags(np.array([10.0, 10.0, 1e-4, 3.0]), np.array([10.05, 11.0, np.nan, 3.0]),
                       np.array([np.nan, 2.0, np.nan, 3.5]))
    assert flags[0] == {}
    assert flags[1]["area_deviation"] == "computed 10.0000 亩 vs issued 11.0000 亩 (-9.1%)"
    assert "sliver" in flags[2]
    assert "供地面积" in flags[3]["cultivated_exceeds_area"]


def test_duplicates_and_diff():
    assert duplicate_codes(["a", "b", "a", "c", "b"]) == {"a": [0, 2], "b": [1, 4]}
    diff = diff_by_code({"a": "1", "b": "2", "c": "3"}, {"a": "1", "b": "9", "d": "4"})
    assert diff.counts() == {"unchanged": 1, "attributes_changed": 0, "changed": 1, "withdrawn": 1, "new": 1}
    assert (diff.changed, diff.withdrawn, diff.new) == (["b"], ["c"], ["d"])


def test_multipolygon_parts_are_summed():
    a, b = shapely.box(106.5, 29.6, 106.501, 29.601), shapely.box(106.6, 29.6, 106.601, 29.601)
    total = geodesic_area_m2([MultiPolygon([a, b])])[0]
    assert total == pytest.approx(geodesic_area_m2([a])[0] + geodesic_area_m2([b])[0], rel=1e-9)


def test_geometry_collection_of_polygons_is_a_patch():
    from shapely.geometry import GeometryCollection

    collection = GeometryCollection([shapely.box(106.5, 29.6, 106.501, 29.601), shapely.Point(106.5, 29.6)])
    lines_only = GeometryCollection([shapely.LineString([(106.5, 29.6), (106.6, 29.6)])])
    checked = normalise_polygons([collection, lines_only])
    assert checked.geometries[0].geom_type == "MultiPolygon" and 0 not in checked.problems
    assert checked.problems[1].startswith("is a GeometryCollection, not a polygon")


def test_numeric_patch_codes_lose_no_digits_and_gain_no_decimals():
    import pandas as pd

    from geo_tracker.io.profiles import map_fields

    frame = pd.DataFrame({"JCBH": [5001090001.0, 5001090002.0], "JCMJ": [1.0, 2.0]})
    mapping = map_fields(frame, np.array([1.0, 2.0]), source="t.shp")
    assert list(mapping.patch_code) == ["5001090001", "5001090002"]
