"""Importing and listing administrative boundaries (县, 乡镇, 行政村) with their history.

Boundaries are read by the same readers as patches (formats, encodings, CRS).
Re-importing a level replaces the units of the same parents from ``valid_from``
on: the old rows get ``valid_to``, never deleted, so a 2021 patch is still
matched against the villages of 2021.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.area import geodesic_area_mu
from ..core.boundaries import CODE_LENGTH, PARENT_LEVEL, normalise_code, parent_of, sibling_problems
from ..core.geometry import normalise_polygons
from ..errors import BatchImportError, FieldMappingError, PermissionDeniedError
from ..io.attributes import attributes_json
from ..io.readers import read_delivery
from ..store import Store
from ..store import admin_units as units_repo
from ..store import batches as batches_repo

LEVELS = tuple(CODE_LENGTH)
#: Validity start of a first import: boundaries apply to every earlier patch.
SINCE_ALWAYS = date(1900, 1, 1)

#: Field names bureaus use, most specific first (三调 CJDCQ/XZQ layers, civil-affairs data).
CODE_FIELDS = {
    "village": ("CJQYDM", "ZLDWDM", "XZQDM", "村代码", "村级代码", "行政区代码", "代码", "DM", "CODE", "ADCODE"),
    "township": ("XJQYDM", "XZQDM", "乡镇代码", "乡级代码", "行政区代码", "代码", "DM", "CODE", "ADCODE"),
    "county": ("XZQDM", "县级代码", "行政区代码", "代码", "DM", "CODE", "ADCODE"),
}
NAME_FIELDS = {
    "village": ("CJQYMC", "ZLDWMC", "XZQMC", "村名称", "村名", "行政区名称", "名称", "MC", "NAME"),
    "township": ("XJQYMC", "XZQMC", "乡镇名称", "乡镇名", "行政区名称", "名称", "MC", "NAME"),
    "county": ("XZQMC", "县名称", "行政区名称", "名称", "MC", "NAME"),
}
PARENT_FIELDS = ("SJDM", "上级代码", "PARENT", "PARENT_CODE")


@dataclass
class BoundaryOptions:
    level: str
    code_field: str | None = None
    name_field: str | None = None
    parent_field: str | None = None
    parent_code: str | None = None
    valid_from: date | None = None
    encoding: str | None = None
    crs: str | None = None
    layer: str | None = None
    tolerance_m2: float = 10.0
    #: The importing account's unit codes (every level under its units; None: all). A scoped
    #: import adds or closes only units whose parents lie inside, and takes no code from outside.
    units: Collection[str] | None = None

    def validate(self) -> None:
        if self.level not in LEVELS:
            raise FieldMappingError(f"--level {self.level!r} is not one of {', '.join(LEVELS)}")
        if self.parent_code is not None:
            if self.level == "county":
                raise FieldMappingError("--parent-code: a county has no parent in geo_tracker")
            parent_level = PARENT_LEVEL[self.level]
            if normalise_code(self.parent_code, parent_level) is None:
                raise FieldMappingError(
                    f"--parent-code {self.parent_code!r} is not a {CODE_LENGTH[parent_level]}-digit "
                    f"{parent_level} code"
                )
        if self.parent_code and self.parent_field:
            raise FieldMappingError("give --parent-field or --parent-code, not both")


@dataclass
class BoundaryReport:
    file: str
    level: str
    units: int
    area_mu: float
    valid_from: date
    replaced: list[str]
    crs: str
    crs_reason: str
    encoding: str
    encoding_reason: str
    fields: dict[str, str]
    problems: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def _field(columns: list[str], given: str | None, candidates: tuple[str, ...], option: str, source: str) -> str | None:
    if given:
        for c in columns:
            if c == given or c.upper() == given.upper():
                return c
        raise FieldMappingError(f"{source} has no field {given!r} ({option}); its fields are: {', '.join(columns)}")
    upper = {c.upper(): c for c in columns}
    return next((upper[c.upper()] for c in candidates if c.upper() in upper), None)


def import_boundaries(store: Store, path: str | Path, options: BoundaryOptions) -> BoundaryReport:
    """Import one level of boundaries; atomic, history kept, gaps and overlaps reported."""
    options.validate()
    path = Path(path)
    with store.engine.connect() as conn:
        reference = batches_repo.reference_geometry(conn, store)
    delivery = read_delivery(path, layer=options.layer, encoding=options.encoding, crs=options.crs,
                             reference=reference)
    source, frame = delivery.source, delivery.frame
    columns = [c for c in frame.columns if c != "geometry"]
    level = options.level
    code_col = _field(columns, options.code_field, CODE_FIELDS[level], "--code-field", source.dataset)
    name_col = _field(columns, options.name_field, NAME_FIELDS[level], "--name-field", source.dataset)
    if code_col is None or name_col is None:
        raise FieldMappingError(
            f"{source.dataset}: cannot tell which field holds the {level} "
            f"{'code' if code_col is None else 'name'}; give --code-field and --name-field "
            f"(its fields are: {', '.join(columns)})"
        )
    parent_col = None
    if options.parent_field or (options.parent_code is None and level != "county"):
        parent_col = _field(columns, options.parent_field, PARENT_FIELDS, "--parent-field", source.dataset)

    problems: list[dict] = []
    codes = []
    for i, raw in enumerate(frame[code_col]):
        code = normalise_code(raw, level)
        if code is None:
            problems.append({"feature": i + 1, "field": code_col, "problem":
                             f"{raw!r} is not a {CODE_LENGTH[level]}-digit {level} code"})
        codes.append(code)
    names = [str(n).strip() if n is not None else "" for n in frame[name_col]]
    for i, name in enumerate(names):
        if not name or name == "nan":
            problems.append({"feature": i + 1, "field": name_col, "problem": "empty name"})
    seen: dict[str, int] = {}
    for i, code in enumerate(codes):
        if code is not None and code in seen:
            problems.append({"feature": i + 1, "field": code_col,
                             "problem": f"code {code} repeats feature {seen[code] + 1}"})
        seen.setdefault(code, i)

    parent_level = PARENT_LEVEL.get(level)
    explicit_parent = options.parent_code is not None or parent_col is not None
    if options.parent_code:
        parents = [options.parent_code] * len(frame)
    elif parent_col:
        parents = [normalise_code(p, parent_level) for p in frame[parent_col]]
        for i, (raw, p) in enumerate(zip(frame[parent_col], parents)):
            if p is None:
                problems.append({"feature": i + 1, "field": parent_col,
                                 "problem": f"{raw!r} is not a {CODE_LENGTH[parent_level]}-digit {parent_level} code"})
    else:
        parents = [parent_of(c, level) if c else None for c in codes]

    check = normalise_polygons(frame.geometry.values)
    for i, message in sorted(check.problems.items()):
        problems.append({"feature": i + 1, "field": "geometry", "problem": message})
    if problems:
        shown = "; ".join(f"feature {p['feature']} ({p['field']}): {p['problem']}" for p in problems[:10])
        raise BatchImportError(
            f"{source.dataset}: {len(problems)} problems, nothing imported: {shown}", problems
        )

    warnings = list(source.warnings)
    with store.transaction() as conn:
        existing = units_repo.load_units(conn, store, level=level, current_only=True)
        parent_units = units_repo.load_units(conn, store, level=parent_level, current_only=True) \
            if parent_level else None
        if parent_level:
            known = set(parent_units["code"])
            missing = sorted({p for p in parents if p and p not in known})
            if missing and explicit_parent:
                raise BatchImportError(
                    f"{source.dataset}: parent {parent_level}(s) {', '.join(missing)} are not loaded: "
                    f"import the {parent_level} boundaries first (geo-tracker boundaries import ... "
                    f"--level {parent_level})"
                )
            if missing:
                warnings.append(f"parent {parent_level}(s) {', '.join(missing)} (from the codes) are not loaded")
        _check_unit_scope(options, level, codes, parents, existing, source.dataset)
        scope = existing if not parent_level else existing[existing["parent_code"].isin(set(parents))]
        valid_from = options.valid_from or (date.today() if len(scope) else SINCE_ALWAYS)
        too_late = scope[[vf >= valid_from for vf in scope["valid_from"]]]
        if len(too_late):
            raise BatchImportError(
                f"cannot replace {level} boundaries from {valid_from}: {', '.join(too_late['code'][:10])} "
                f"are valid from {too_late['valid_from'].iloc[0]}; give a later --valid-from"
            )
        units_repo.close_units(conn, scope["id"].tolist(), valid_from)
        new = pd.DataFrame({
            "code": codes, "name": names, "level": level, "parent_code": parents,
            "valid_from": valid_from, "valid_to": None, "source_file": path.name,
            "attrs": attributes_json(frame),
        })
        new["geom"] = check.geometries
        units_repo.insert_units(store, conn, new)
        checked = pd.DataFrame({"code": codes, "parent_code": [p or "" for p in parents],
                                "geometry": check.geometries})
        parent_frame = None
        if parent_units is not None and len(parent_units):
            parent_frame = parent_units[["code", "geometry"]]
        problems = sibling_problems(checked, parent_frame, options.tolerance_m2)

    area = geodesic_area_mu(check.geometries)
    return BoundaryReport(
        file=str(path), level=level, units=len(new), area_mu=float(area.sum()), valid_from=valid_from,
        replaced=scope["code"].tolist(), crs=source.crs.label, crs_reason=source.crs.reason,
        encoding=source.encoding.encoding, encoding_reason=source.encoding.reason,
        fields={"code": code_col, "name": name_col,
                "parent": parent_col or ("--parent-code" if options.parent_code
                                         else "from the codes" if parent_level else "none")},
        problems=problems, warnings=warnings,
    )


def _check_unit_scope(options: BoundaryOptions, level: str, codes, parents, existing, dataset: str) -> None:
    """A scoped account may only redraw what lies under its own units: every parent must be one
    of them, and no unit code may be taken over from another parent."""
    if options.units is None:
        return
    allowed = set(options.units)
    held_by = dict(zip(existing["code"], existing["parent_code"]))
    problems = []
    for i, (code, parent) in enumerate(zip(codes, parents)):
        if level == "county" or parent not in allowed:
            problems.append({"feature": i + 1, "field": "parent", "problem":
                             f"{level} {code}: its parent {parent or '(none)'} is not one of your units"})
        elif code in held_by and held_by[code] not in allowed | {None}:
            problems.append({"feature": i + 1, "field": "code", "problem":
                             f"{level} {code} belongs to {held_by[code]}, outside your units"})
    if problems:
        shown = "; ".join(f"feature {p['feature']}: {p['problem']}" for p in problems[:10])
        error = PermissionDeniedError(
            f"{dataset}: {len(problems)} units lie outside your units, nothing imported: {shown}. "
            "Boundaries of other townships are imported by a county account", field="file")
        error.problems = problems
        raise error


def list_boundaries(store: Store, level: str | None = None, as_of: date | None = None) -> list[dict]:
    if level is not None and level not in LEVELS:
        raise FieldMappingError(f"--level {level!r} is not one of {', '.join(LEVELS)}")
    with store.engine.connect() as conn:
        rows = units_repo.unit_summary(conn, level, as_of)
        if not rows:
            return []
        frame = units_repo.load_units(conn, store, level=level)
    area = dict(zip(frame["id"], geodesic_area_mu(frame.geometry.values)))
    for row in rows:
        row["area_mu"] = float(np.round(area.get(row["id"], 0.0), 4))
    return rows
