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
from ..catalogue import Listing, in_language, msg, note
from ..errors import BatchImportError, FieldMappingError, InvalidValueError, PermissionDeniedError
from ..io.attributes import attributes_json
from ..io.profiles import pick_field
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
            raise InvalidValueError(msg("boundaries.level_unknown", level=self.level, known=", ".join(LEVELS)))
        if self.parent_code is not None:
            if self.level == "county":
                raise InvalidValueError(msg("boundaries.county_has_no_parent"))
            parent_level = PARENT_LEVEL[self.level]
            if normalise_code(self.parent_code, parent_level) is None:
                raise InvalidValueError(msg("boundaries.parent_code_invalid", code=self.parent_code,
                                            digits=CODE_LENGTH[parent_level], level=_level(parent_level)))
        if self.parent_code and self.parent_field:
            raise InvalidValueError(msg("boundaries.parent_options_exclusive"))


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

    def to_dict(self, lang: str = "en", interface: str | None = None) -> dict:
        """The report as a dict; its problems, warnings and reasons in ``lang`` (English by default,
        as the CLI and the API show them; a page asks for "zh" and gets the web hints)."""
        data = dict(self.__dict__)
        return data if lang == "en" and interface in (None, "cli") else in_language(data, lang, interface or "web")


def _level(level: str | None):
    """A level (county, township, village) as a message: its English name, its Chinese one."""
    return msg(f"boundaries.level.{level}") if level in LEVELS else level


@dataclass
class _Units:
    """The units a boundary file holds, checked: one entry per feature."""

    codes: list[str]
    names: list[str]
    parents: list[str | None]
    geometries: np.ndarray


def import_boundaries(store: Store, path: str | Path, options: BoundaryOptions) -> BoundaryReport:
    """Import one level of boundaries; atomic, history kept, gaps and overlaps reported."""
    options.validate()
    path = Path(path)
    with store.engine.connect() as conn:
        reference = batches_repo.reference_geometry(conn, store)
    delivery = read_delivery(path, layer=options.layer, encoding=options.encoding, crs=options.crs,
                             reference=reference)
    source, frame = delivery.source, delivery.frame
    code_col, name_col, parent_col = _unit_fields(frame, options, source.dataset)
    units = _read_units(frame, options, code_col, name_col, parent_col, source.dataset)
    with store.transaction() as conn:
        scope, valid_from, problems, notes = _replace_units(
            conn, store, units, options, explicit_parent=options.parent_code is not None or parent_col is not None,
            file=path.name, attrs=attributes_json(frame), dataset=source.dataset)
    parent_level = PARENT_LEVEL.get(options.level)
    return BoundaryReport(
        file=str(path), level=options.level, units=len(units.codes),
        area_mu=float(geodesic_area_mu(units.geometries).sum()), valid_from=valid_from,
        replaced=scope["code"].tolist(), crs=source.crs.label, crs_reason=source.crs.reason,
        encoding=source.encoding.encoding, encoding_reason=source.encoding.reason,
        fields={"code": code_col, "name": name_col,
                "parent": parent_col or ("--parent-code" if options.parent_code
                                         else "from the codes" if parent_level else "none")},
        problems=problems, warnings=list(source.warnings) + notes,
    )


def _unit_fields(frame: pd.DataFrame, options: BoundaryOptions, dataset: str) -> tuple[str, str, str | None]:
    """The fields holding each unit's code, name and (where the file has one) parent code."""
    columns = [c for c in frame.columns if c != "geometry"]
    level = options.level
    code_col = pick_field(columns, options.code_field, CODE_FIELDS[level], "--code-field", dataset)
    name_col = pick_field(columns, options.name_field, NAME_FIELDS[level], "--name-field", dataset)
    if code_col is None or name_col is None:
        key = "boundaries.code_field_unknown" if code_col is None else "boundaries.name_field_unknown"
        raise FieldMappingError(msg(key, dataset=dataset, level=_level(level), fields=", ".join(columns)))
    parent_col = None
    if options.parent_field or (options.parent_code is None and level != "county"):
        parent_col = pick_field(columns, options.parent_field, PARENT_FIELDS, "--parent-field", dataset)
    return code_col, name_col, parent_col


def _read_units(frame: pd.DataFrame, options: BoundaryOptions, code_col: str, name_col: str,
                parent_col: str | None, dataset: str) -> _Units:
    """Codes, names, parents and repaired polygons; every problem found refuses the whole file."""
    level = options.level
    codes, problems = _unit_codes(frame[code_col], level, code_col)
    names = [str(n).strip() if n is not None else "" for n in frame[name_col]]
    problems += [{"feature": i + 1, "field": name_col, "problem": note("boundaries.problem_empty_name")}
                 for i, name in enumerate(names) if not name or name == "nan"]
    problems += _repeated_codes(codes, code_col)
    if options.parent_code:
        parents = [options.parent_code] * len(frame)
    elif parent_col:
        parents, wrong = _unit_codes(frame[parent_col], PARENT_LEVEL.get(level), parent_col)
        problems += wrong
    else:
        parents = [parent_of(c, level) if c else None for c in codes]
    check = normalise_polygons(frame.geometry.values)
    problems += [{"feature": i + 1, "field": "geometry", "problem": message}
                 for i, message in sorted(check.problems.items())]
    if problems:
        shown = Listing(msg("imports.feature_problem", feature=p["feature"], code=p["field"], problem=p["problem"])
                        for p in problems[:10])
        raise BatchImportError(msg("boundaries.problems", dataset=dataset, count=len(problems), shown=shown), problems)
    return _Units(codes, names, parents, check.geometries)


def _unit_codes(values, level: str, field_name: str) -> tuple[list[str | None], list[dict]]:
    """Each value as a code of ``level`` (None where it is not one), and a problem for each of those."""
    codes = [normalise_code(raw, level) for raw in values]
    problems = [{"feature": i + 1, "field": field_name,
                 "problem": note("boundaries.problem_bad_code", raw=repr(raw), digits=CODE_LENGTH[level],
                                 level=_level(level))}
                for i, (raw, code) in enumerate(zip(values, codes)) if code is None]
    return codes, problems


def _repeated_codes(codes: list[str | None], field_name: str) -> list[dict]:
    """A problem for each code that an earlier feature has already."""
    seen: dict[str, int] = {}
    problems = []
    for i, code in enumerate(codes):
        if code is not None and code in seen:
            problems.append({"feature": i + 1, "field": field_name,
                             "problem": note("boundaries.problem_code_repeats", code=code, first=seen[code] + 1)})
        seen.setdefault(code, i)
    return problems


def _replace_units(conn, store: Store, units: _Units, options: BoundaryOptions, *, explicit_parent: bool,
                   file: str, attrs, dataset: str) -> tuple[pd.DataFrame, date, list[dict], list[str]]:
    """Close the units the file redraws and insert its own, from the day they hold from on.

    Returns the units replaced, that day, the gaps and overlaps among the new units, and
    a warning for parents that are not loaded (when they were only read from the codes).
    """
    level = options.level
    parent_level = PARENT_LEVEL.get(level)
    existing = units_repo.load_units(conn, store, level=level, current_only=True)
    parent_units = units_repo.load_units(conn, store, level=parent_level, current_only=True) \
        if parent_level else None
    notes = _missing_parents(parent_units, units.parents, parent_level, explicit_parent, dataset) \
        if parent_level else []
    _check_unit_scope(options, level, units.codes, units.parents, existing, dataset)
    scope = existing if not parent_level else existing[existing["parent_code"].isin(set(units.parents))]
    valid_from = _valid_from(scope, options.valid_from, level)
    units_repo.close_units(conn, scope["id"].tolist(), valid_from)
    new = pd.DataFrame({
        "code": units.codes, "name": units.names, "level": level, "parent_code": units.parents,
        "valid_from": valid_from, "valid_to": None, "source_file": file, "attrs": attrs,
    })
    new["geom"] = units.geometries
    units_repo.insert_units(store, conn, new)
    checked = pd.DataFrame({"code": units.codes, "parent_code": [p or "" for p in units.parents],
                            "geometry": units.geometries})
    parent_frame = None
    if parent_units is not None and len(parent_units):
        parent_frame = parent_units[["code", "geometry"]]
    return scope, valid_from, sibling_problems(checked, parent_frame, options.tolerance_m2), notes


def _missing_parents(parent_units: pd.DataFrame, parents, parent_level: str, explicit: bool,
                     dataset: str) -> list[str]:
    """Parents that are not loaded: an error when the file or the options name them, else a warning."""
    known = set(parent_units["code"])
    missing = sorted({p for p in parents if p and p not in known})
    if missing and explicit:
        raise BatchImportError(msg("boundaries.parents_missing", dataset=dataset, level=_level(parent_level),
                                   codes=", ".join(missing), option=parent_level))
    if not missing:
        return []
    return [note("boundaries.parents_missing_from_codes", level=_level(parent_level), codes=", ".join(missing))]


def _valid_from(scope: pd.DataFrame, given: date | None, level: str) -> date:
    """The day the new units hold from: ``given``, else today (or always, on a first import);
    never on or before the day a unit they replace began."""
    valid_from = given or (date.today() if len(scope) else SINCE_ALWAYS)
    too_late = scope[[vf >= valid_from for vf in scope["valid_from"]]]
    if len(too_late):
        raise BatchImportError(msg("boundaries.valid_from_too_early", level=_level(level), valid_from=valid_from,
                                   codes=", ".join(too_late["code"][:10]), since=too_late["valid_from"].iloc[0]))
    return valid_from


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
            problems.append({"feature": i + 1, "field": "parent", "problem": note(
                "boundaries.problem_parent_outside", level=_level(level), code=code,
                parent=parent or msg("boundaries.no_parent"))})
        elif code in held_by and held_by[code] not in allowed | {None}:
            problems.append({"feature": i + 1, "field": "code", "problem": note(
                "boundaries.problem_code_held", level=_level(level), code=code, holder=held_by[code])})
    if problems:
        shown = Listing(msg("imports.feature_note", feature=p["feature"], problem=p["problem"]) for p in problems[:10])
        error = PermissionDeniedError(msg("boundaries.units_outside", dataset=dataset, count=len(problems),
                                          shown=shown), field="file")
        error.problems = problems
        raise error


def list_boundaries(store: Store, level: str | None = None, as_of: date | None = None) -> list[dict]:
    if level is not None and level not in LEVELS:
        raise InvalidValueError(msg("boundaries.level_unknown", level=level, known=", ".join(LEVELS)))
    with store.engine.connect() as conn:
        rows = units_repo.unit_summary(conn, level, as_of)
        if not rows:
            return []
        frame = units_repo.load_units(conn, store, level=level)
    area = dict(zip(frame["id"], geodesic_area_mu(frame.geometry.values)))
    for row in rows:
        row["area_mu"] = float(np.round(area.get(row["id"], 0.0), 4))
    return rows


def village_units(store: Store, codes: list[str] | None = None, valid_on: date | None = None):
    """The villages valid on a day (today unless given), with their boundaries; ``codes`` picks some."""
    with store.engine.connect() as conn:
        return units_repo.load_units(conn, store, level="village", codes=codes, valid_on=valid_on or date.today())
