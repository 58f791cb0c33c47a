"""Import profiles: which bureau field is the patch code, the issued area, the cultivated area.

Field names vary by province and year, and so do their meanings (``GDMJ`` is 耕地面积
in most 卫片执法 schemas but 供地面积 in some) and units (亩, 平方米, 公顷). A
profile states each field's meaning and unit; ``auto`` units are decided by
comparing the values with the computed areas, and the decision is reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePath

import numpy as np
import pandas as pd

from ..catalogue import msg, note
from ..errors import FieldMappingError
from ..units import AREA_UNIT_LABELS, TO_MU


@dataclass(frozen=True)
class Profile:
    """How one family of deliveries names its fields. Units: mu | ha | m2 | auto."""

    name: str
    label: str
    id_fields: tuple[str, ...]
    area_fields: tuple[str, ...] = ()
    area_unit: str = "auto"
    cultivated_fields: tuple[str, ...] = ()
    cultivated_unit: str = "auto"
    #: Documentation of the fields this profile knows: name -> meaning (unit).
    fields: dict[str, str] = field(default_factory=dict)


WEIPIAN = Profile(
    name="weipian",
    label="卫片执法 (natural-resources satellite enforcement)",
    id_fields=("JCBH", "TBBH", "TBYBH"),
    area_fields=("JCMJ", "TBMJ", "PDMJ"),
    cultivated_fields=("GDMJ",),
    fields={
        "JCBH": "监测编号, patch code (unique in a batch)",
        "XZQDM": "行政区代码", "XZQMC": "行政区名称",
        "JCMJ": "监测面积 / 判读面积 (亩, 平方米 or 公顷: decided by magnitude)",
        "GDMJ": "耕地面积 (unit by magnitude; in some provinces 供地面积: override with --cultivated-field)",
        "NYDMJ": "农用地面积", "JSYDMJ": "建设用地面积",
        "BHLX": "变化类型", "QSX": "前时相", "HSX": "后时相", "TBLX": "图斑类型",
        "PDLX": "判定类型", "PDYJ": "判定依据", "BZ": "备注",
    },
)
FORESTRY = Profile(
    name="forestry",
    label="森林督查 (forest supervision)",
    id_fields=("图斑号", "图斑编号", "判读图斑号", "TBH", "DCTBH"),
    area_fields=("面积", "图斑面积", "判读面积", "MJ"),
    area_unit="auto",
    cultivated_fields=(),
    fields={
        "图斑号": "patch code", "县": "county", "乡镇": "township", "村": "village",
        "面积": "图斑面积, usually 公顷 (decided by magnitude)", "林地面积": "forest-land area (公顷)",
        "变化原因": "cause of change", "前期影像时间": "earlier image date",
        "后期影像时间": "later image date", "地类": "land class", "森林类别": "forest category",
    },
)
ZUOBIAO = Profile(
    name="zuobiao",
    label="坐标txt 报部格式",
    id_fields=("地块号", "地块名称"),
    area_fields=("地块面积",),
    area_unit="ha",
    fields={"地块号": "parcel number", "地块名称": "parcel name", "地块面积": "area (公顷 by the format)",
            "地类编码": "land-class code (DLBM)"},
)
KML = Profile(
    name="kml",
    label="KML/KMZ (奥维互动地图 and others)",
    id_fields=("Name", "name"),
    fields={"Name": "placemark name", "Description": "placemark description", "folder": "KML folder"},
)
GENERIC = Profile(name="generic", label="generic (--id-field)", id_fields=())

PROFILES = {p.name: p for p in (WEIPIAN, FORESTRY, ZUOBIAO, KML, GENERIC)}

#: Column a multi-file delivery adds to each feature: the file it came from (源文件).
SOURCE_FILE_FIELD = "源文件"
#: ``frame.attrs`` keys of a multi-file chunk: each row's 1-based place in its file, and each file's size.
FILE_POSITION, FILE_FEATURES = "geo_tracker_file_position", "geo_tracker_file_features"

#: Chinese labels of the bureau fields the profiles know; other fields show by their own name.
ATTRIBUTE_LABELS = {
    "JCBH": "监测编号", "TBBH": "图斑编号", "TBYBH": "图斑预编号", "XZQDM": "行政区代码", "XZQMC": "行政区名称",
    "JCMJ": "监测面积", "TBMJ": "图斑面积", "PDMJ": "判读面积", "GDMJ": "耕地面积", "NYDMJ": "农用地面积",
    "JSYDMJ": "建设用地面积", "WLYDMJ": "未利用地面积", "BHLX": "变化类型", "QSX": "前时相", "HSX": "后时相",
    "TBLX": "图斑类型", "PDLX": "判定类型", "PDYJ": "判定依据", "BZ": "备注", "JZLX": "举证类型",
    "WFLX": "违法类型", "WFMJ": "违法面积", "TPLJ": "照片路径", "FJLJ": "附件路径", "DLBM": "地类编码",
    "DLMC": "地类名称", "QSDWDM": "权属单位代码", "ZLDWDM": "坐落单位代码", "KCXS": "扣除系数",
    "TBH": "图斑号", "DCTBH": "调查图斑号", "MJ": "面积",
    "界址点数": "界址点数", "地块面积": "地块面积", "地块面积单位": "地块面积单位", "地块号": "地块号",
    "地块名称": "地块名称", "记录图形属性": "记录图形属性", "图幅号": "图幅号", "地块用途": "地块用途",
    "地类编码": "地类编码", SOURCE_FILE_FIELD: "源文件", "Name": "名称", "name": "名称",
    "Description": "描述", "description": "描述", "folder": "文件夹",
}


def attribute_label(name: str) -> str:
    """The Chinese label of a bureau field (JCBH → 监测编号); unknown fields keep their name."""
    return ATTRIBUTE_LABELS.get(name) or ATTRIBUTE_LABELS.get(str(name).upper()) or str(name)


def labelled_attributes(attrs: dict) -> list[tuple[str, str, object]]:
    """``(field, label, value)`` for each attribute, in the delivery's order."""
    return [(k, attribute_label(k), v) for k, v in (attrs or {}).items()]


#: What writers put in the code field of every record when they have no code.
_PLACEHOLDER = re.compile(r"^(FID_?\d*|OBJECTID_?\d*|DKBH|DKMC|DKH|地块号|地块编号|地块名称|JCBH|TBBH|null|none|nan|-+)$",
                          re.IGNORECASE)


def is_placeholder_code(code, field_names: frozenset[str] = frozenset()) -> bool:
    """Whether a code field's value is no code at all: empty, ``FID_0``, or a field's name
    (``field_names`` in upper case)."""
    if code is None:
        return True
    text = str(code).strip()
    return not text or bool(_PLACEHOLDER.match(text)) or text.upper() in field_names


def _find(columns: list[str], wanted: tuple[str, ...]) -> str | None:
    by_upper = {c.upper(): c for c in columns}
    for name in wanted:
        if name in columns:
            return name
        if name.upper() in by_upper:
            return by_upper[name.upper()]
    return None


def detect_profile(columns: list[str], driver: str = "") -> Profile:
    """The first profile whose patch-code field the delivery has; generic otherwise."""
    if driver == "zuobiao":
        return ZUOBIAO
    candidates = (WEIPIAN, FORESTRY, ZUOBIAO) + ((KML,) if driver in ("KML", "LIBKML") else ())
    for profile in candidates:
        if _find(columns, profile.id_fields):
            return profile
    return GENERIC


@dataclass(frozen=True)
class UnitDecision:
    unit: str
    reason: str
    warning: str | None = None


def decide_area_unit(values: np.ndarray, computed_mu: np.ndarray, declared: str, field_name: str) -> UnitDecision:
    """The unit of an area field: the one whose values best match the computed areas.

    With ``declared`` not ``auto``, the declared unit is kept but a clear mismatch
    (the values fit another unit far better) is warned about.
    """
    values = np.asarray(values, float)
    ok = np.isfinite(values) & (values > 0) & (computed_mu > 0)
    if not ok.any():
        unit = "mu" if declared == "auto" else declared
        return UnitDecision(unit, note("imports.decision.unit_no_values", field=field_name,
                                       unit=AREA_UNIT_LABELS[unit]))
    ratio = {u: float(np.median(values[ok] * TO_MU[u] / computed_mu[ok])) for u in TO_MU}
    best = min(ratio, key=lambda u: abs(np.log(ratio[u])))
    fits = 0.5 <= ratio[best] <= 2.0
    label = AREA_UNIT_LABELS
    if declared != "auto":
        warning = None
        if fits and best != declared and abs(np.log(ratio[declared])) > 1:
            warning = note("imports.area_unit_mismatch", field=field_name, declared=label[declared],
                           best=label[best], ratio=f"{ratio[best]:.3f}")
        return UnitDecision(declared, note("imports.decision.unit_declared", field=field_name, unit=label[declared]),
                            warning)
    if not fits:
        return UnitDecision(
            best,
            note("imports.decision.unit_closest", field=field_name, unit=label[best]),
            note("imports.area_unit_no_fit", field=field_name, best=label[best], ratio=f"{ratio[best]:.3f}"),
        )
    return UnitDecision(best, note("imports.decision.unit_matches", field=field_name, unit=label[best],
                                   ratio=f"{ratio[best]:.3f}"))


@dataclass
class FieldMapping:
    """The fixed columns taken from a delivery's attributes, and how they were chosen."""

    profile: Profile
    patch_code: pd.Series
    generated_code: np.ndarray
    #: Codes taken from the file name of a multi-file delivery (placeholder or repeated codes).
    file_code: np.ndarray
    issued_area_mu: pd.Series
    cultivated_mu: pd.Series
    decisions: dict[str, str]
    warnings: list[str]
    #: Unit taken for the issued-area field (None without one): later chunks reuse it.
    area_unit: str | None = None


def _numeric(frame: pd.DataFrame, column: str, source: str) -> np.ndarray:
    raw = frame[column]
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        return raw.to_numpy(dtype=float)
    text = raw.astype("string").str.strip().str.replace(r"(公顷|亩|平方米|m2|㎡)$", "", regex=True)
    values = pd.to_numeric(text, errors="coerce")
    bad = raw.notna() & (raw.astype("string").str.strip() != "") & values.isna()
    if bad.any():
        first = int(np.flatnonzero(bad.to_numpy())[0])
        raise FieldMappingError(msg("imports.field_not_numeric", source=source, field=column,
                                    feature=first + 1, value=repr(raw.iloc[first])))
    return values.to_numpy(dtype=float)


def map_fields(
    frame: pd.DataFrame,
    computed_mu: np.ndarray,
    *,
    source: str,
    driver: str = "",
    profile: str | None = None,
    id_field: str | None = None,
    area_field: str | None = None,
    area_unit: str | None = None,
    cultivated_field: str | None = None,
    first_feature: int = 0,
) -> FieldMapping:
    """Pick patch code, issued area and cultivated area out of a delivery's attributes.

    ``cultivated_field=""`` says the delivery has no cultivated-area field at all
    (e.g. where ``GDMJ`` means 供地面积). ``first_feature`` is the position of the
    frame's first row in the delivery (for chunks), used in generated codes.
    """
    columns = [c for c in frame.columns if c != "geometry"]
    chosen = PROFILES.get(profile) if profile else detect_profile(columns, driver)
    if chosen is None:
        raise FieldMappingError(msg("imports.profile_unknown", profile=profile, known=", ".join(PROFILES)))
    decisions: dict[str, str] = {"profile": note("imports.decision.profile",
                                                 profile=msg(f"imports.profile.{chosen.name}"))}

    code_col = pick_field(columns, id_field, chosen.id_fields, "--id-field", source)
    codes, generated, file_code, decisions["patch_code"] = _patch_codes(frame, code_col, columns, first_feature)

    area_col = pick_field(columns, area_field, chosen.area_fields, "--area-field", source)
    issued, taken, decisions["issued_area"], warning = _issued_area(
        frame, computed_mu, area_col, area_unit or chosen.area_unit, source=source,
        zuobiao_units=driver == "zuobiao" and area_unit is None)
    unit_taken = taken or area_unit  # without an area field, a declared unit still holds

    cult_col = None if cultivated_field == "" else pick_field(
        columns, cultivated_field, chosen.cultivated_fields, "--cultivated-field", source)
    # Cultivated land is part of the patch: its field shares the area field's unit.
    cult_unit = unit_taken or (chosen.cultivated_unit if chosen.cultivated_unit != "auto" else "mu")
    cultivated, decisions["cultivated_area"] = _cultivated_area(frame, cult_col, cult_unit, source,
                                                                declined=cultivated_field == "")
    return FieldMapping(chosen, codes, generated, file_code, issued, cultivated, decisions,
                        [warning] if warning else [], unit_taken)


def pick_field(columns: list[str], given: str | None, candidates: tuple[str, ...], option: str,
               source: str) -> str | None:
    """The field ``given`` with ``option`` names (in any case), else the first of ``candidates``
    the delivery has; None when there is neither. A given field the delivery lacks is an error."""
    if not given:
        return _find(columns, candidates)
    if given in columns:
        return given
    match = _find(columns, (given,))
    if match is None:
        raise FieldMappingError(msg("imports.field_missing", source=source, field=given, option=option,
                                    fields=", ".join(columns)))
    return match


def _patch_codes(frame: pd.DataFrame, code_col: str | None, columns: list[str],
                 first_feature: int) -> tuple[pd.Series, np.ndarray, np.ndarray, str]:
    """The patch codes, which were generated, which taken from file names, and how they were found."""
    if code_col is None:
        codes = pd.Series([None] * len(frame), dtype="object")
        decision = note("imports.decision.codes_generated")
    else:
        codes = _code_values(frame[code_col])
        decision = note("imports.decision.code_field", field=code_col)
    codes, file_code = _codes_from_file_names(frame, codes, columns)
    if file_code.any():
        decision = note("imports.decision.codes_from_files", decision=decision, count=int(file_code.sum()))
    generated = np.array([c is None for c in codes], dtype=bool)
    if generated.any():
        codes = pd.Series(
            [f"AUTO-{first_feature + i + 1:05d}" if g else c for i, (c, g) in enumerate(zip(codes, generated))],
            dtype="object",
        )
    return codes, generated, file_code, decision


def _code_values(raw: pd.Series) -> pd.Series:
    """A code field's values as stripped text, None where empty."""
    if pd.api.types.is_float_dtype(raw) and (raw.dropna() % 1 == 0).all():
        raw = raw.astype("Int64")  # codes stored in numeric .dbf fields: 5001090001, not 5001090001.0
    codes = raw.astype("string").str.strip()
    codes = codes.where(codes != "", None).astype("object")
    return codes.where(pd.notna(codes), None)


def _issued_area(frame: pd.DataFrame, computed_mu: np.ndarray, area_col: str | None, unit: str, *,
                 source: str, zuobiao_units: bool) -> tuple[pd.Series, str | None, str, str | None]:
    """The issued areas in 亩, the unit taken (None without a field), how, and a warning if any.

    ``unit`` is the declared one (or ``auto``); with ``zuobiao_units`` each 坐标txt parcel
    may name its own unit (地块面积单位), 公顷 otherwise.
    """
    if not area_col:
        return pd.Series(np.full(len(frame), np.nan)), None, note("imports.decision.no_issued_area"), None
    values = _numeric(frame, area_col, source)
    if zuobiao_units and "地块面积单位" in frame:
        factor = np.array([TO_MU.get(u, TO_MU["ha"]) for u in frame["地块面积单位"].fillna("ha")])
        return pd.Series(values * factor), "ha", note("imports.decision.area_zuobiao", field=area_col), None
    decided = decide_area_unit(values, computed_mu, unit, area_col)
    return pd.Series(values * TO_MU[decided.unit]), decided.unit, decided.reason, decided.warning


def _cultivated_area(frame: pd.DataFrame, cult_col: str | None, unit: str, source: str, *,
                     declined: bool) -> tuple[pd.Series, str]:
    """The cultivated areas in 亩 (NaN without a field), read in ``unit``, and how they were found;
    ``declined``: the delivery was said to have no such field."""
    if not cult_col:
        reason = note("imports.decision.cultivated_declined") if declined else note("imports.decision.no_cultivated")
        return pd.Series(np.full(len(frame), np.nan)), reason
    values = _numeric(frame, cult_col, source)
    return pd.Series(values * TO_MU[unit]), note("imports.decision.cultivated_field", field=cult_col,
                                                  unit=AREA_UNIT_LABELS[unit])


def _codes_from_file_names(frame: pd.DataFrame, codes: pd.Series, columns) -> tuple[pd.Series, np.ndarray]:
    """In a multi-file delivery, a placeholder code, or one that repeats across files, becomes
    the file's name (plus the parcel's code or number when the file holds several)."""
    n = len(frame)
    if SOURCE_FILE_FIELD not in frame or not n:
        return codes, np.zeros(n, dtype=bool)
    files = frame[SOURCE_FILE_FIELD].astype(str).to_numpy()
    values = codes.to_numpy(dtype=object)
    names = frozenset(str(c).upper() for c in columns)
    placeholder = np.array([is_placeholder_code(c, names) for c in values], dtype=bool)
    files_of: dict[str, set] = {}
    for code, name, ph in zip(values, files, placeholder):
        if not ph:
            files_of.setdefault(code, set()).add(name)
    repeated = np.array([not ph and len(files_of[c]) > 1 for c, ph in zip(values, placeholder)], dtype=bool)
    per_file = frame.attrs.get(FILE_FEATURES) or pd.Series(files).value_counts().to_dict()
    position = frame.attrs.get(FILE_POSITION)
    if position is None:
        position = pd.Series(files).groupby(files).cumcount().to_numpy() + 1
    out = values.copy()
    for i in np.flatnonzero(placeholder | repeated):
        name = files[i]
        stem = PurePath(name.replace("\\", "/").split(":")[-1]).stem
        suffix = str(int(position[i])) if placeholder[i] else str(values[i])
        out[i] = f"{stem}-{suffix}" if per_file[name] > 1 else stem
    return pd.Series(out, dtype="object"), placeholder | repeated
