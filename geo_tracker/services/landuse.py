"""The land-use reference layer (第三次国土调查 地类图斑) and areas computed from it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from ..core.landuse import is_cultivated, is_forest, landuse_areas
from ..core.geometry import normalise_polygons
from ..catalogue import Listing, msg
from ..errors import BatchImportError, FieldMappingError
from ..io.attributes import attributes_json
from ..io.readers import read_delivery
from ..store import Store
from ..store import landuse as repo

FIELDS = {"dlbm": ("DLBM",), "dlmc": ("DLMC",), "bsm": ("BSM",), "zldwdm": ("ZLDWDM",),
          "tbmj": ("TBMJ",), "kcxs": ("KCXS",)}


@dataclass
class LanduseReport:
    file: str
    layer: str
    parcels: int
    replaced: int
    cultivated_parcels: int
    forest_parcels: int
    crs: str
    crs_reason: str
    encoding: str

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def import_landuse(store: Store, path: str | Path, *, layer: str | None = None, encoding: str | None = None,
                   crs: str | None = None, name: str | None = None) -> LanduseReport:
    """Load a DLTB layer; a layer imported again under the same name replaces the old one."""
    path = Path(path)
    delivery = read_delivery(path, layer=layer, encoding=encoding, crs=crs)
    source, frame = delivery.source, delivery.frame
    upper = {c.upper(): c for c in frame.columns if c != "geometry"}
    found = {key: next((upper[n] for n in names if n in upper), None) for key, names in FIELDS.items()}
    if found["dlbm"] is None:
        raise FieldMappingError(msg("imports.landuse_no_dlbm", name=source.dataset, fields=", ".join(upper.values())))
    check = normalise_polygons(frame.geometry.values)
    if check.problems:
        shown = Listing(msg("imports.feature_note", feature=i + 1, problem=m) for i, m in sorted(check.problems.items())[:10])
        raise BatchImportError(msg("imports.landuse_parcels_unusable", name=source.dataset, count=len(check.problems),
                                   shown=shown))
    dlbm = frame[found["dlbm"]].astype("string").str.strip()
    columns = {"layer": name or path.stem, "dlbm": dlbm.fillna("").tolist()}
    for key in ("bsm", "dlmc", "zldwdm"):
        columns[key] = frame[found[key]].astype("string").tolist() if found[key] else [None] * len(frame)
    for key in ("tbmj", "kcxs"):
        columns[key] = (pd.to_numeric(frame[found[key]], errors="coerce").astype(float).tolist()
                        if found[key] else [None] * len(frame))
    table = pd.DataFrame(columns)
    table["attrs"] = attributes_json(frame)
    table["geom"] = check.geometries
    table = table.astype(object).where(pd.notna(table), None)
    with store.transaction() as conn:
        replaced = repo.replace_layer(store, conn, name or path.stem, table)
    return LanduseReport(
        file=str(path), layer=name or path.stem, parcels=len(table), replaced=replaced,
        cultivated_parcels=int(is_cultivated(dlbm).sum()), forest_parcels=int(is_forest(dlbm).sum()),
        crs=source.crs.label, crs_reason=source.crs.reason, encoding=source.encoding.encoding,
    )


def list_layers(store: Store) -> list[dict]:
    with store.engine.connect() as conn:
        return repo.layer_summary(conn)


def landuse_for(store: Store, conn, geoms) -> tuple[np.ndarray, np.ndarray] | None:
    """Computed (cultivated, forest) 亩 of each geometry, or None when no land-use layer is loaded."""
    geoms = np.asarray(geoms, dtype=object)
    if not len(geoms) or not repo.has_parcels(conn):
        return None
    parcels = repo.parcels_in(conn, store, shapely.total_bounds(geoms))
    return landuse_areas(geoms, parcels)
