"""Exports that give the bureau back its own patches with their status and rectification."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from ..catalogue import msg
from ..core.lifecycle import STATUS_LABELS
from ..core.sources import SOURCE_LABELS
from ..io.profiles import attribute_label
from ..units import AREA_UNIT_LABELS, TO_MU
from ..errors import InvalidValueError
from ..store import Store
from ..store.batches import patch_attrs
from .patches import list_patches
from .review import review_columns, review_frame as review_states_of
from .stats import compute_stats, default_as_of

FORMATS = {".gpkg": "GPKG", ".shp": "ESRI Shapefile", ".geojson": "GeoJSON", ".xlsx": "xlsx", ".csv": "CSV"}
#: Columns added to the bureau's own attributes: short (≤ 10 bytes, for .dbf) name, Chinese header.
ADDED = [
    ("batch", "GT_PC", "批次"), ("patch_code", "GT_TBBH", "图斑编号"), ("status", "GT_ZT", "状态"),
    ("status_label", "GT_ZTMC", "状态名称"), ("status_on", "GT_ZTRQ", "状态日期"),
    ("area_mu", "GT_JSMJ", "计算面积（亩）"), ("rectified_mu", "GT_ZGMJ", "整改面积（亩）"),
    ("rectified_cultivated_mu", "GT_ZGGD", "整改耕地（亩）"), ("village_code", "GT_CJDM", "村级代码"),
    ("village_name", "GT_CJMC", "村级名称"), ("case_numbers", "GT_AJBH", "案件编号"),
    ("deadline", "GT_ZGQX", "整改期限"), ("overdue", "GT_SFYQ", "是否逾期"),
    ("review_status", "GT_SHZT", "审核状态"), ("review_opinion", "GT_SHYJ", "最近审核意见"),
    ("review_on", "GT_SHRQ", "审核日期"),
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


def export_day(year: int | None, as_of: date | None) -> date | None:
    """The day an export shows, by the report's rule (:func:`~.stats.default_as_of`): the end of
    ``year`` (or today) when a year is chosen, ``as_of`` when given, else the current state."""
    return default_as_of(year, as_of) if (year or as_of) else None


def export_frame(store: Store, *, as_of: date | None = None, year: int | None = None, batch: str | None = None,
                 source: str | None = None, villages=None, village: str | None = None, q: str | None = None,
                 status: str | None = None) -> gpd.GeoDataFrame:
    """Original attributes verbatim, then the added columns; EPSG:4490.

    With ``year`` only the patches issued that year, in their state at the end of it
    (or ``as_of``), exactly as the report counts them.
    """
    patches = list_patches(store, as_of=export_day(year, as_of), year=year, batch=batch, source=source,
                           villages=villages, village=village, q=q, status=status)
    ids = [int(i) for i in patches["id"]]
    with store.engine.connect() as conn:
        attrs = patch_attrs(conn, ids)
    original = pd.DataFrame([attrs.get(i, {}) for i in ids])
    reviews = review_states_of(store, [int(x) for x in patches["lineage_id"]], export_day(year, as_of))
    patches = patches.assign(**review_columns([reviews.get(int(x)) for x in patches["lineage_id"]]))
    added = pd.DataFrame({
        column: (patches[column] if column != "status_label" else patches["status"].map(STATUS_LABELS))
        for column, _, _ in ADDED
    })
    added["case_numbers"] = [";".join(c) for c in added["case_numbers"]]
    added["overdue"] = ["是" if o else "否" for o in added["overdue"]]
    for column in ("status_on", "deadline"):
        added[column] = [d.isoformat() if d else None for d in added[column]]
    frame = pd.concat([original.reset_index(drop=True), added.reset_index(drop=True)], axis=1)
    frame = gpd.GeoDataFrame(frame, geometry=list(patches.geometry), crs=4490)
    frame.attrs["patch_ids"] = ids
    return frame


def export_patches(store: Store, path: str | Path, *, as_of: date | None = None, year: int | None = None,
                   batch: str | None = None, source: str | None = None, villages=None, village: str | None = None,
                   q: str | None = None, status: str | None = None) -> dict:
    """Write the patches to .gpkg, .shp (GBK), .geojson, .csv or .xlsx; ``villages`` limits them to a
    user's scope, ``village``/``q``/``status`` are the patch list's filters."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise InvalidValueError(msg("export.bad_format", file=path.name, formats=", ".join(FORMATS)))
    filters = dict(as_of=as_of, year=year, batch=batch, source=source, villages=villages, village=village,
                   q=q, status=status)
    frame = export_frame(store, **filters)
    renames = {column: name for column, name, _ in ADDED}
    if suffix == ".xlsx":
        _write_xlsx(store, frame, path, filters)
    elif suffix == ".csv":
        _write_csv(frame, path)
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


def _write_csv(frame: gpd.GeoDataFrame, path: Path) -> None:
    """The list as Excel opens it (UTF-8 with BOM), Chinese headers, areas to four decimals, no geometry."""
    headers = {column: header for column, _, header in ADDED}
    table = frame.drop(columns=["geometry", "status"]).copy()
    for column in ("area_mu", "rectified_mu", "rectified_cultivated_mu"):
        table[column] = table[column].astype(float).round(4)
    table.rename(columns=headers).to_csv(path, index=False, encoding="utf-8-sig")


#: The 汇总 sheet: a figure of ``stats`` and its header, with its unit.
SUMMARY = [("patches", "图斑数（个）"), ("area_mu", "面积（亩）"), ("verified", "已核查（个）"),
           ("illegal", "违法（个）"), ("illegal_area_mu", "违法面积（亩）"), ("case_filed", "已立案（个）"),
           ("rectified", "已整改（个）"), ("rectified_mu", "已整改面积（亩）"),
           ("rectification_rate_area", "整改率（%）"), ("closed", "已销号（个）"), ("overdue", "逾期（个）")]
#: Areas of a batch sheet, rounded to two decimals; no part exceeds its whole.
ROUNDED = ["area_mu", "rectified_mu", "rectified_cultivated_mu"]
WHOLES = {"rectified_mu": ["area_mu"], "rectified_cultivated_mu": ["rectified_mu"]}
SUMMARY_SHEET = "汇总"
#: The patch list's narrowing filters and how the 汇总 sheet names them.
NARROWING = {"village": "村", "q": "关键词", "status": "状态"}


def _write_xlsx(store: Store, frame: gpd.GeoDataFrame, path: Path, filters: dict) -> None:
    """A 汇总 sheet (one row per batch and a 合计 row, the figures of ``stats``) and a sheet per batch."""
    from openpyxl import Workbook

    wb = Workbook()
    _summary_sheet(wb.active, store, filters, frame.attrs.get("patch_ids"))
    taken = {SUMMARY_SHEET}
    for batch, part in frame.groupby("batch", sort=False):
        _batch_sheet(wb.create_sheet(_sheet_name(str(batch), taken)), part)
    wb.save(path)


def _sheet_name(name: str, taken: set[str]) -> str:
    """A sheet name Excel accepts (31 characters, none of []:*?/\\), unique in the workbook."""
    base = "".join("_" if ch in "[]:*?/\\" else ch for ch in name)[:31] or "批次"
    candidate, i = base, 2
    while candidate in taken:
        candidate, i = f"{base[:31 - len(str(i)) - 1]}_{i}", i + 1
    taken.add(candidate)
    return candidate


def _summary_sheet(ws, store: Store, filters: dict, patch_ids) -> None:
    """The figures of ``stats`` for the exported patches: narrowed by village, search or status,
    they count exactly the rows of the batch sheets."""
    ws.title = SUMMARY_SHEET
    narrowed = any(filters.get(k) for k in NARROWING)
    stats = compute_stats(store, as_of=export_day(filters["year"], filters["as_of"]), year=filters["year"],
                          source=filters["source"], batch=filters["batch"], villages=filters["villages"],
                          by=["batch", "source"], patch_ids=patch_ids if narrowed else None)
    ws.append(["批次", "来源", *(header for _, header in SUMMARY)])
    for g in stats["groups"]:
        ws.append([g["key"]["batch"], SOURCE_LABELS.get(g["key"]["source"], g["key"]["source"]),
                   *(_printed_value(g["printed"][k]) for k, _ in SUMMARY)])
    last = ws.max_row
    ws.append(["合计", "", *(_printed_value(stats["total"]["printed"][k]) for k, _ in SUMMARY)])
    ws.append([])
    for note in _summary_notes(stats["as_of"], filters):
        ws.append([note])
    _dress(ws, header_rows=last, formats={k: _format_of(k) for k, _ in SUMMARY}, keys=["", "", *dict(SUMMARY)])


def _summary_notes(day: date, filters: dict) -> list[str]:
    notes = [f"截至 {day.isoformat()}" + (f"，{filters['year']}年下发的图斑" if filters["year"] else ""),
             "整改率 = 已整改面积 ÷ 违法面积；面积为椭球面积（CGCS2000），单位亩。"]
    narrowed = [f"{label}：{STATUS_LABELS.get(filters[k], filters[k]) if k == 'status' else filters[k]}"
                for k, label in NARROWING.items() if filters.get(k)]
    if narrowed:
        notes.append("本表和各批次明细表均按" + "，".join(narrowed) + " 筛选。")
    return notes


def _printed_value(text: str):
    """A printed figure back as a number Excel can add: "70.37" -> 70.37, "82.76%" -> 0.8276, "-" stays."""
    if text in ("-", None):
        return "-"
    if text.endswith("%"):
        return round(float(text[:-1]) / 100, 6)
    return int(text) if text.lstrip("-").isdigit() else float(text)


def _format_of(key: str) -> str | None:
    if key.endswith("_mu"):
        return "0.00"
    return "0.00%" if key.startswith("rectification_rate") else None


def _batch_sheet(ws, part: gpd.GeoDataFrame) -> None:
    """A batch's patches: its own fields (with their units), ours in Chinese, areas rounded as
    printed, the exact areas in hidden columns at the end."""
    columns = _batch_columns(part)
    ws.append([header for header, _, _ in columns])
    for i in range(len(part)):
        ws.append([_cell(values[i]) for _, values, _ in columns])
    _dress(ws, header_rows=ws.max_row, formats=[fmt for _, _, fmt in columns])
    for index, (header, _, _) in enumerate(columns, start=1):
        if header.endswith("未取整）"):
            ws.column_dimensions[_letter(index)].hidden = True


def _batch_columns(part: gpd.GeoDataFrame) -> list[tuple[str, list, str | None]]:
    """(header, values, number format) of each column of a batch sheet."""
    headers = {column: header for column, _, header in ADDED}
    ours = {column for column, _, _ in ADDED}
    own = [c for c in part.columns if c not in ours and c != "geometry" and part[c].notna().any()]
    units = _bureau_units(part, own)
    columns = [(_bureau_header(c, units.get(c)), list(part[c]), None) for c in own]
    printed = [_rounded_row(dict(zip(ROUNDED, values))) for values in zip(*(part[k] for k in ROUNDED))]
    for column, _, _ in ADDED:
        if column == "status":
            continue
        values = [p[column] for p in printed] if column in ROUNDED else list(part[column])
        columns.append((headers[column], values, "0.00" if column in ROUNDED else None))
    points = part.geometry.representative_point()
    columns += [("经度（°）", list(points.x), "0.000000"), ("纬度（°）", list(points.y), "0.000000")]
    columns += [(headers[c].replace("（亩）", "（亩，未取整）"), list(part[c]), "0.000000") for c in ROUNDED]
    return columns


def _rounded_row(exact: dict) -> dict:
    """A patch's areas to two decimals, none above its printed whole (整改 ≤ 面积): a patch
    rectified in full prints the same figure twice, one never touched prints 0."""
    printed: dict = {}
    for name in ROUNDED:
        value = round(float(exact[name] or 0), 2)
        for whole in WHOLES.get(name, ()):
            value = min(value, printed[whole])
        printed[name] = value
    return printed


def _bureau_header(field: str, unit: str | None) -> str:
    label = attribute_label(field)
    text = field if label == field else f"{label} {field}"
    return f"{text}（{unit}）" if unit else text


def _bureau_units(part: gpd.GeoDataFrame, fields: list[str]) -> dict[str, str]:
    """The unit of the bureau's area fields (亩, 公顷, 平方米), read from how their sum compares
    with the computed area of the same patches; one unit for all area fields of a batch."""
    import math

    areas = [f for f in fields if "面积" in attribute_label(f) and pd.to_numeric(part[f], errors="coerce").notna().all()]
    computed = float(part["area_mu"].sum())
    best = None
    for field in areas:
        total = float(pd.to_numeric(part[field]).sum())
        if total <= 0 or computed <= 0:
            continue
        for unit, factor in TO_MU.items():
            miss = abs(math.log(total * factor / computed))
            if best is None or miss < best[0]:
                best = (miss, unit)
    if best is None or best[0] > math.log(1.5):
        return {}
    return {f: AREA_UNIT_LABELS[best[1]] for f in areas}


def _cell(value):
    if value is None or (isinstance(value, float) and value != value):
        return None
    return value


def _letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index)


def _dress(ws, *, header_rows: int, formats, keys=None) -> None:
    """Bold frozen header, filters over the table (``header_rows``: its last row), widths, number formats."""
    from openpyxl.styles import Alignment, Font, PatternFill

    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDE6EF")
        cell.alignment = Alignment(vertical="center", wrap_text=False)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{_letter(ws.max_column)}{max(header_rows, 1)}"
    formats = [formats.get(k) for k in keys] if keys is not None else formats
    for index, fmt in enumerate(formats, start=1):
        if fmt:
            for (cell,) in ws.iter_rows(min_row=2, min_col=index, max_col=index):
                if isinstance(cell.value, (int, float)):
                    cell.number_format = fmt
        width = max((_width(c.value) for c in ws[_letter(index)][: header_rows]), default=6)
        ws.column_dimensions[_letter(index)].width = min(max(width + 2, 6), 42)


def _width(value) -> int:
    """Display width in Excel's character units: CJK characters count double."""
    if value is None:
        return 0
    text = f"{value:.2f}" if isinstance(value, float) else str(value)
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)
