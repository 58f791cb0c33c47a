"""Exports that give the bureau back its own patches with their status and rectification."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from ..core.lifecycle import STATUS_LABELS
from ..errors import InvalidValueError
from ..store import Store
from ..store.batches import patch_attrs
from .patches import list_patches

FORMATS = {".gpkg": "GPKG", ".shp": "ESRI Shapefile", ".geojson": "GeoJSON", ".xlsx": "xlsx"}
#: Columns added to the bureau's own attributes: short (≤ 10 bytes, for .dbf) name, Chinese header.
ADDED = [
    ("batch", "GT_PC", "批次"), ("patch_code", "GT_TBBH", "图斑编号"), ("status", "GT_ZT", "状态"),
    ("status_label", "GT_ZTMC", "状态名称"), ("status_on", "GT_ZTRQ", "状态日期"),
    ("area_mu", "GT_JSMJ", "计算面积（亩）"), ("rectified_mu", "GT_ZGMJ", "整改面积（亩）"),
    ("rectified_cultivated_mu", "GT_ZGGD", "整改耕地（亩）"), ("village_code", "GT_CJDM", "村级代码"),
    ("village_name", "GT_CJMC", "村级名称"), ("case_numbers", "GT_AJBH", "案件编号"),
    ("deadline", "GT_ZGQX", "整改期限"), ("overdue", "GT_SFYQ", "是否逾期"),
]


def _dbf_name(name: str, taken: set[str]) -> str:
    """A field name a .dbf can hold (10 bytes in GBK), unique among ``taken``."""
    cut = name
    while len(cut.encode("gbk", errors="replace")) > 10:
        cut = cut[:-1]
    candidate, i = cut, 1
    while candidate.upper() in taken:
        suffix = f"_{i}"
        base = cut
        while len((base + suffix).encode("gbk", errors="replace")) > 10:
            base = base[:-1]
        candidate, i = base + suffix, i + 1
    taken.add(candidate.upper())
    return candidate


def export_frame(store: Store, *, as_of: date | None = None, batch: str | None = None,
                 source: str | None = None, villages=None) -> gpd.GeoDataFrame:
    """Original attributes verbatim, then the added columns; EPSG:4490."""
    patches = list_patches(store, as_of=as_of, batch=batch, source=source, villages=villages)
    ids = [int(i) for i in patches["id"]]
    with store.engine.connect() as conn:
        attrs = patch_attrs(conn, ids)
    original = pd.DataFrame([attrs.get(i, {}) for i in ids])
    added = pd.DataFrame({
        column: (patches[column] if column != "status_label" else patches["status"].map(STATUS_LABELS))
        for column, _, _ in ADDED
    })
    added["case_numbers"] = [";".join(c) for c in added["case_numbers"]]
    added["overdue"] = ["是" if o else "否" for o in added["overdue"]]
    for column in ("status_on", "deadline"):
        added[column] = [d.isoformat() if d else None for d in added[column]]
    frame = pd.concat([original.reset_index(drop=True), added.reset_index(drop=True)], axis=1)
    return gpd.GeoDataFrame(frame, geometry=list(patches.geometry), crs=4490)


def export_patches(store: Store, path: str | Path, *, as_of: date | None = None, batch: str | None = None,
                   source: str | None = None, villages=None) -> dict:
    """Write the patches to .gpkg, .shp (GBK), .geojson or .xlsx; ``villages`` limits them to a user's scope."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise InvalidValueError(f"cannot export to {path.name}: use {', '.join(FORMATS)}")
    frame = export_frame(store, as_of=as_of, batch=batch, source=source, villages=villages)
    renames = {column: name for column, name, _ in ADDED}
    if suffix == ".xlsx":
        _write_xlsx(frame, path)
    elif suffix == ".shp":
        taken: set[str] = set()
        short = {}
        for column in frame.columns:
            if column == "geometry":
                continue
            short[column] = _dbf_name(renames.get(column, column), taken)
        out = frame.rename(columns=short)
        pyogrio.write_dataframe(out, path, encoding="GBK")
        path.with_suffix(".cpg").write_text("GBK", encoding="ascii")
    else:
        out = frame.rename(columns=renames) if suffix == ".gpkg" else frame
        pyogrio.write_dataframe(out, path, driver=FORMATS[suffix], layer="patches" if suffix == ".gpkg" else None)
    return {"file": str(path), "patches": len(frame)}


def _write_xlsx(frame: gpd.GeoDataFrame, path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    headers = {column: header for column, _, header in ADDED}
    table = frame.drop(columns=["geometry"])
    centroids = frame.geometry.representative_point()
    table["lon"], table["lat"] = centroids.x, centroids.y
    wb = Workbook()
    ws = wb.active
    ws.title = "图斑"
    ws.append([headers.get(c, {"lon": "经度", "lat": "纬度"}.get(c, c)) for c in table.columns])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in table.itertuples(index=False):
        ws.append([None if (isinstance(v, float) and v != v) else v for v in row])
    for i, column in enumerate(table.columns, start=1):
        fmt = "0.000000" if column in ("lon", "lat") else ("0.00" if column.endswith("_mu") else None)
        if fmt:
            for (cell,) in ws.iter_rows(min_row=2, min_col=i, max_col=i):
                cell.number_format = fmt
    ws.freeze_panes = "A2"
    wb.save(path)
