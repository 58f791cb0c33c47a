#!/usr/bin/env python
"""Build the shipped sample batches in data/batches/ (synthetic, deterministic).

    python scripts/make_sample_batches.py

Two deliveries as a township near 北碚区澄江镇 receives them:

- ``2023年卫片执法第2批.zip``: 卫片执法 patches as a zipped GBK shapefile without .prj
  or .cpg, CGCS2000 3° zone 35 with the zone number in front of the eastings. Their
  ellipsoidal areas add up to 70.37 亩 with 4.87 亩 of cultivated land, the figures
  of the sample report in shared/seeds (report 000); the first 11 patches hold
  50.89 亩, 4.33 亩 of it cultivated (what the demo rectifies in 2023).
- ``2023年森林督查.zip``: 12 森林督查 patches, Chinese field names, 面积 in 公顷,
  6-digit eastings (CGCS2000 3° CM 105°E, EPSG:4544) with a .prj.

The patches are invented; no real parcel is described.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import shapely
from shapely import affinity

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from geo_tracker.core.area import geodesic_area_mu  # noqa: E402

OUT = ROOT / "data" / "batches"
CENTRE = (106.431, 29.832)


def _blob(rng, lon, lat, size_m):
    k = int(rng.integers(6, 14))
    ang = np.sort(rng.uniform(0, 2 * np.pi, k))
    r = size_m * rng.uniform(0.7, 1.0, k) / 111_000
    return shapely.Polygon(np.column_stack([lon + r * np.cos(ang) / np.cos(np.radians(lat)),
                                            lat + r * np.sin(ang)]))


def _scale_to(geom, target_mu):
    for _ in range(6):
        factor = np.sqrt(target_mu / geodesic_area_mu([geom])[0])
        geom = affinity.scale(geom, factor, factor, origin="centroid")
    return geom


def patches(rng, n, total_mu, first_total_mu=None, first_n=0):
    """``n`` patches of ``total_mu`` 亩 in all; the first ``first_n`` of them ``first_total_mu``."""
    lons = CENTRE[0] + rng.uniform(-0.03, 0.03, n)
    lats = CENTRE[1] + rng.uniform(-0.025, 0.025, n)
    weights = rng.uniform(0.3, 1.7, n)
    if first_n:
        targets = np.r_[weights[:first_n] / weights[:first_n].sum() * first_total_mu,
                        weights[first_n:] / weights[first_n:].sum() * (total_mu - first_total_mu)]
    else:
        targets = weights / weights.sum() * total_mu
    return [_scale_to(_blob(rng, x, y, 40), t) for x, y, t in zip(lons, lats, targets)]


def _zip(folder: Path, archive: Path) -> None:
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(folder.iterdir()):
            zf.write(f, f"{folder.name}/{f.name}")


def natural_resources(rng, tmp: Path) -> None:
    # The first 11 patches (50.89 亩, 4.33 亩 of it cultivated) are the ones the demo rectifies.
    geoms = patches(rng, 15, 70.37, first_total_mu=50.89, first_n=11)
    mu = geodesic_area_mu(geoms)
    cultivated = np.zeros(15)
    cultivated[[1, 4, 9, 12]] = np.array([1.41, 1.25, 1.67, 0.54])
    frame = gpd.GeoDataFrame({
        "JCBH": [f"500109202302{i:03d}" for i in range(1, 16)],
        "XZQDM": "500109107",
        "XZQMC": "北碚区澄江镇",
        "JCMJ": np.round(mu, 2),
        "GDMJ": cultivated,
        "BHLX": rng.choice(["搭建农用设施", "建坟", "开路", "建房"], 15),
        "QSX": "2022-10-15",
        "HSX": "2023-04-20",
        "BZ": "卫片执法监测图斑（样例数据）",
    }, geometry=geoms, crs=4490)
    folder = tmp / "2023年卫片执法第2批"
    folder.mkdir()
    shp = folder / "WPZF_2023_2.shp"
    pyogrio.write_dataframe(frame.to_crs(4523), shp, encoding="GBK")
    shp.with_suffix(".prj").unlink()
    shp.with_suffix(".cpg").unlink(missing_ok=True)
    _zip(folder, OUT / "2023年卫片执法第2批.zip")


def forestry(rng, tmp: Path) -> None:
    geoms = patches(rng, 12, 38.6)
    ha = geodesic_area_mu(geoms) / 15
    frame = gpd.GeoDataFrame({
        "图斑号": [f"LC2023-{i:02d}" for i in range(1, 13)],
        "县": "北碚区", "乡镇": "澄江镇",
        "面积": np.round(ha, 4),
        "林地面积": np.round(ha, 4),
        "变化原因": rng.choice(["建坟", "建房", "开路", "擅自开垦林地"], 12),
        "地类": rng.choice(["乔木林地", "竹林地", "灌木林地"], 12),
        "前期时相": "2022-09", "后期时相": "2023-03",
    }, geometry=geoms, crs=4490)
    folder = tmp / "2023年森林督查"
    folder.mkdir()
    pyogrio.write_dataframe(frame.to_crs(4544), folder / "SLDC_2023.shp", encoding="GBK")
    (folder / "SLDC_2023.cpg").unlink(missing_ok=True)
    _zip(folder, OUT / "2023年森林督查.zip")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20231231)
    tmp = Path(tempfile.mkdtemp())
    try:
        natural_resources(rng, tmp)
        forestry(rng, tmp)
    finally:
        shutil.rmtree(tmp)
    for f in sorted(OUT.glob("*.zip")):
        print(f.relative_to(ROOT), f.stat().st_size, "bytes")


if __name__ == "__main__":
    main()
