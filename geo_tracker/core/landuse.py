"""Land use under each patch from the 第三次国土调查 地类图斑 (DLTB) layer.

耕地 is DLBM 0101 水田, 0102 水浇地, 0103 旱地; its area is net of the ridge
deduction (扣除系数 KCXS), as 三调 counts it (TBDLMJ = TBMJ − TBMJ × KCXS). 林地 is
every 03xx code. Areas are ellipsoidal, in 亩.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from .area import geodesic_area_mu

CULTIVATED_CODES = ("0101", "0102", "0103")
FOREST_PREFIX = "03"


def is_cultivated(dlbm) -> np.ndarray:
    codes = pd.Series(dlbm, dtype="string").str.strip().str[:4]
    return codes.isin(CULTIVATED_CODES).to_numpy(dtype=bool)


def is_forest(dlbm) -> np.ndarray:
    return pd.Series(dlbm, dtype="string").str.strip().str.startswith(FOREST_PREFIX).fillna(False).to_numpy(dtype=bool)


def landuse_areas(patches, parcels: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Cultivated (net of KCXS) and forest area in 亩 of each patch (EPSG:4490).

    ``parcels`` has ``dlbm``, ``kcxs`` (fraction, may be missing) and ``geometry``.
    """
    geoms = np.asarray(getattr(patches, "values", patches), dtype=object)
    cultivated = np.zeros(len(geoms))
    forest = np.zeros(len(geoms))
    if len(geoms) == 0 or len(parcels) == 0:
        return cultivated, forest
    pgeoms = np.asarray(parcels["geometry"].values, dtype=object)
    p, q = shapely.STRtree(pgeoms).query(geoms, predicate="intersects")
    if not len(p):
        return cultivated, forest
    area = geodesic_area_mu(shapely.intersection(geoms[p], pgeoms[q]))
    dlbm = parcels["dlbm"].to_numpy()[q]
    kcxs = np.nan_to_num(pd.to_numeric(parcels["kcxs"], errors="coerce").to_numpy(dtype=float)[q])
    crop = is_cultivated(dlbm)
    np.add.at(cultivated, p[crop], area[crop] * (1 - kcxs[crop]))
    wood = is_forest(dlbm)
    np.add.at(forest, p[wood], area[wood])
    return cultivated, forest
