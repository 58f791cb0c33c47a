"""Importing and listing patch batches (批次): the liaison's daily job.

``import_batch`` reads a delivery, checks and repairs its polygons, computes
official areas, maps the bureau's fields, compares it with what the batch
already holds, and writes everything in one transaction (or nothing).
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import shapely

from ..core.area import geodesic_area_mu
from ..core.checks import area_flags
from ..core.geometry import GeometryCheck, normalise_polygons
from ..core.reissue import ReissueDiff, fingerprints
from ..core.relapse import find_relapses
from ..errors import BatchImportError, BatchNotFoundError, FieldMappingError, GeoTrackerError
from ..io.attributes import attributes_json
from ..io.profiles import PROFILES, map_fields
from ..io.readers import open_delivery
from ..store import Store
from ..store import batches as repo
from .landuse import landuse_for
from .patches import load_villages, match_and_store
from ..units import TO_MU

SOURCES = ("natural-resources", "forestry", "patrol", "complaint", "other")
SOURCE_LABELS = {
    "natural-resources": "卫片执法 (自然资源)",
    "forestry": "森林督查 (林业)",
    "patrol": "巡查",
    "complaint": "举报",
    "other": "其他",
}


@dataclass
class ImportOptions:
    """What the liaison says about a delivery (the command-line options of `batches import`)."""

    source: str
    batch: str
    issued_on: date
    deadline: date | None = None
    layer: str | None = None
    encoding: str | None = None
    crs: str | None = None
    profile: str | None = None
    id_field: str | None = None
    area_field: str | None = None
    area_unit: str | None = None
    cultivated_field: str | None = None
    central_meridian: int | None = None
    skip_invalid: bool = False
    dry_run: bool = False
    #: Overlap share (of either patch) that links a new patch to a rectified/closed one (死灰复燃).
    relapse_share: float = 0.3

    def validate(self) -> None:
        """Check the options before touching any file."""
        if self.source not in SOURCES:
            raise FieldMappingError(f"--source {self.source!r} is not one of {', '.join(SOURCES)}")
        if not self.batch or not self.batch.strip():
            raise FieldMappingError("--batch must name the batch, e.g. '2023年第2批' or '2023-Q3'")
        if self.deadline is not None and self.deadline < self.issued_on:
            raise FieldMappingError(
                f"--deadline {self.deadline} is before --issued-on {self.issued_on}"
            )
        if self.area_unit is not None and self.area_unit not in TO_MU:
            raise FieldMappingError(f"--area-unit {self.area_unit!r} is not one of {', '.join(TO_MU)}")
        if not 0 < self.relapse_share <= 1:
            raise FieldMappingError(f"--relapse-share must be in (0, 1], got {self.relapse_share}")
        if self.profile is not None and self.profile not in PROFILES:
            raise FieldMappingError(f"--profile {self.profile!r} is not one of {', '.join(PROFILES)}")


@dataclass
class ImportReport:
    """What an import did (or would do, on a dry run); printed as text or JSON."""

    batch: str
    source: str
    file: str
    dataset: str
    driver: str
    layer: str | None
    sha256: str
    features_read: int
    accepted: int
    rejected: list[dict]
    flags: dict[str, int]
    area_mu: float
    cultivated_mu: float
    issued_area_mu: float
    crs: str
    crs_reason: str
    encoding: str
    encoding_reason: str
    fields: dict[str, str]
    diff: dict[str, int]
    diff_codes: dict[str, list[str]]
    warnings: list[str] = field(default_factory=list)
    problems: list[dict] = field(default_factory=list)
    dry_run: bool = False
    already_imported: bool = False
    import_id: int | None = None
    #: Village matching of the written patches (empty when no villages are loaded).
    villages: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return dict(self.__dict__)


#: Batches larger than this are checked and measured in chunks on every core.
PARALLEL_CHUNK = 10_000


def _check_and_measure(geoms: np.ndarray) -> tuple[GeometryCheck, np.ndarray]:
    """Repair and measure every polygon; large batches in chunks on all cores.

    GEOS and numpy release the GIL, so threads scale here.
    """
    chunks = [geoms[i:i + PARALLEL_CHUNK] for i in range(0, len(geoms), PARALLEL_CHUNK)] or [geoms]

    def work(chunk):
        check = normalise_polygons(chunk)
        return check, geodesic_area_mu(check.geometries)

    if len(chunks) == 1:
        return work(chunks[0])
    with ThreadPoolExecutor(max_workers=min(len(chunks), os.cpu_count() or 1)) as pool:
        results = list(pool.map(work, chunks))
    problems = {
        k * PARALLEL_CHUNK + i: message
        for k, (check, _) in enumerate(results) for i, message in check.problems.items()
    }
    merged = GeometryCheck(
        np.concatenate([c.geometries for c, _ in results]),
        [f for c, _ in results for f in c.flags],
        problems,
    )
    return merged, np.concatenate([a for _, a in results])


def _problem(i: int, code: str | None, message: str) -> dict:
    return {"feature": i + 1, "patch_code": code, "problem": message}


def import_batch(
    store: Store,
    path: str | Path,
    options: ImportOptions,
    *,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> ImportReport:
    """Import one delivery as (a re-issue of) batch ``options.batch``.

    Atomic: any fatal problem raises a typed error and leaves the database as it
    was. Importing the identical file again changes nothing and says so. Features
    are processed and written in chunks inside the one transaction, so memory stays
    bounded for national-scale batches; ``progress(done, total)`` follows them.
    """
    options.validate()
    path = Path(path)
    with store.engine.connect() as conn:
        reference = repo.reference_geometry(conn, store)
    with open_delivery(
        path, layer=options.layer, encoding=options.encoding, crs=options.crs,
        reference=reference, central_meridian=options.central_meridian,
    ) as source:
        with (store.engine.connect() if options.dry_run else store.transaction()) as conn:
            earlier = repo.find_import_by_sha256(conn, source.sha256)
            if earlier is not None:
                return _identical(path, options, source, earlier)
            return _import_chunks(store, conn, path, options, source, progress)


def _identical(path: Path, options: ImportOptions, source, earlier) -> ImportReport:
    if (earlier.source, earlier.name) != (options.source, options.batch):
        raise BatchImportError(
            f"{path.name} is identical (SHA-256) to the file imported on "
            f"{earlier.imported_at:%Y-%m-%d} as batch {earlier.name!r} ({earlier.source}): "
            "importing it again under another name would count its patches twice"
        )
    report = _empty_report(path, options, source)
    report.already_imported = True
    report.import_id = earlier.id
    report.accepted = earlier.accepted
    report.diff = {"unchanged": earlier.accepted, "changed": 0, "withdrawn": 0, "new": 0}
    return report


def _empty_report(path: Path, options: ImportOptions, source) -> ImportReport:
    return ImportReport(
        batch=options.batch, source=options.source, file=str(path), dataset=source.dataset,
        driver=source.driver, layer=source.layer, sha256=source.sha256,
        features_read=source.feature_count, accepted=0, rejected=[], flags={}, area_mu=0.0,
        cultivated_mu=0.0, issued_area_mu=0.0, crs=source.crs.label, crs_reason=source.crs.reason,
        encoding=source.encoding.encoding, encoding_reason=source.encoding.reason, fields={},
        diff={}, diff_codes={}, warnings=list(source.warnings), dry_run=options.dry_run,
    )


def _import_chunks(store, conn, path, options, source, progress) -> ImportReport:
    report = _empty_report(path, options, source)
    found = repo.find_batch(conn, options.source, options.batch)
    batch_id = found[0].id if found else None
    stored = repo.current_patches(conn, batch_id if batch_id is not None else -1)
    stored_prints = dict(zip(stored.patch_code, stored.fingerprint))
    if not options.dry_run:
        if batch_id is None:
            batch_id = repo.create_batch(conn, options.source, options.batch, options.issued_on, options.deadline)
        else:
            repo.update_batch_deadline(conn, batch_id, options.deadline)
        report.import_id = repo.insert_import(
            conn, batch_id=batch_id, file_name=path.name, dataset=source.dataset, driver=source.driver,
            layer=source.layer, file_sha256=source.sha256, issued_on=options.issued_on,
            deadline=options.deadline, crs=report.crs, crs_reason=report.crs_reason,
            encoding=report.encoding, features_read=source.feature_count, accepted=0,
        )

    villages = load_villages(conn, store) if not options.dry_run else None
    match_counts = {"matched": 0, "outside": 0, "straddles": 0}
    first_seen: dict[str, int] = {}
    duplicates: dict[str, list[int]] = {}
    diff = ReissueDiff()
    area_unit = options.area_unit
    warnings = dict.fromkeys(report.warnings)
    for offset, frame in source.chunks():
        check, area_mu = _check_and_measure(frame.geometry.values)
        mapping = map_fields(
            frame, area_mu, source=source.dataset, driver=source.driver, profile=options.profile,
            id_field=options.id_field, area_field=options.area_field, area_unit=area_unit,
            cultivated_field=options.cultivated_field, first_feature=offset,
        )
        if offset == 0:
            report.fields = mapping.decisions
            area_unit = mapping.area_unit if source.driver != "zuobiao" else options.area_unit
        warnings.update(dict.fromkeys(mapping.warnings))
        codes = mapping.patch_code.to_numpy(dtype=object)
        for i, code in enumerate(codes):
            if mapping.generated_code[i]:
                continue
            if code in first_seen:
                duplicates.setdefault(code, [first_seen[code]]).append(offset + i)
            else:
                first_seen[code] = offset + i
        table = _accepted_rows(frame, offset, check, area_mu, mapping, source.problems, report)
        _add_landuse(store, conn, table, mapping, report)
        write = diff.classify(stored_prints, table.patch_code.tolist(), table.fingerprint.tolist())
        doomed = duplicates or (report.rejected and not options.skip_invalid)
        relapses = _relapses(store, conn, table, write, stored_prints, batch_id, options.relapse_share, report)
        if not options.dry_run and not doomed:
            written = table[write]
            before = repo.max_patch_id(conn)
            _write_new_versions(store, conn, batch_id, report.import_id, written, stored)
            if len(relapses):
                ids = repo.patch_ids_since(conn, report.import_id, before).set_index("patch_code")["id"]
                lineage = repo.lineage_of(conn, ids.tolist())
                repo.insert_relapses(conn, [(lineage[ids[code]], earlier, share)
                                            for code, earlier, share in relapses])
            if len(villages) and len(written):
                ids = repo.patch_ids_since(conn, report.import_id, before)
                geoms = written.set_index("patch_code").loc[ids.patch_code, "geom"].to_numpy()
                counts = match_and_store(store, conn, ids.id.tolist(), geoms,
                                         [options.issued_on] * len(ids), villages)
                for key in match_counts:
                    match_counts[key] += counts[key]
        progress(min(offset + len(frame), source.feature_count), source.feature_count)
    report.warnings = list(warnings)

    if duplicates:
        listed = "; ".join(
            f"{code} (features {', '.join(str(p + 1) for p in positions)})"
            for code, positions in list(duplicates.items())[:20]
        )
        raise BatchImportError(
            f"{source.dataset}: {len(duplicates)} patch codes occur more than once: {listed}. "
            "Patch codes must be unique within a batch: ask the bureau, or choose another "
            "field with --id-field",
            [_problem(p, c, "duplicate patch code") for c, ps in duplicates.items() for p in ps],
        )
    n = source.feature_count
    if report.rejected and not options.skip_invalid:
        shown = "; ".join(f"feature {r['feature']} ({r['patch_code']}): {r['problem']}"
                          for r in report.rejected[:10])
        more = f" and {len(report.rejected) - 10} more" if len(report.rejected) > 10 else ""
        raise BatchImportError(
            f"{source.dataset}: {len(report.rejected)} of {n} features cannot be imported: {shown}{more}. "
            "Nothing was imported; fix the file, or rerun with --skip-invalid to import the rest",
            report.rejected,
        )
    if report.accepted == 0:
        raise BatchImportError(f"{source.dataset}: none of its {n} features can be imported", report.rejected)

    diff.finish(stored_prints)
    if villages is not None and len(villages):
        report.villages = match_counts
    report.diff = diff.counts()
    report.diff_codes = {"changed": diff.changed, "withdrawn": diff.withdrawn, "new": diff.new}
    if options.dry_run:
        return report
    by_code = stored.set_index("patch_code")
    repo.supersede(conn, by_code.loc[diff.changed, "id"].tolist(), repo.now_utc())
    withdrawn_ids = by_code.loc[diff.withdrawn, "id"].tolist()
    repo.withdraw(conn, withdrawn_ids)
    withdrawn_lineages = by_code.loc[diff.withdrawn, "lineage_id"].astype(int).tolist()
    repo.finish_import(conn, report.import_id, accepted=report.accepted, area_mu=report.area_mu,
                       report=_stored_report(report))
    repo.record_import_events(
        conn, batch_id=batch_id, import_id=report.import_id, occurred_on=options.issued_on,
        withdrawn_ids=withdrawn_lineages,
        payload={"import_id": report.import_id, "file": path.name, "diff": report.diff},
    )
    return report


def _accepted_rows(frame, offset, check, area_mu, mapping, reader_problems, report) -> pd.DataFrame:
    """This chunk's importable features as patch rows; rejections and flags go to ``report``."""
    n = len(frame)
    codes = mapping.patch_code.to_numpy(dtype=object)
    issued = mapping.issued_area_mu.to_numpy(dtype=float)
    cultivated = mapping.cultivated_mu.to_numpy(dtype=float)
    problems = dict(check.problems)
    for position, message in reader_problems.items():
        if offset <= position < offset + n:
            problems[position - offset] = message
    flags = check.flags
    for i, extra in enumerate(area_flags(area_mu, issued, cultivated)):
        flags[i].update(extra)
    for i in np.flatnonzero(mapping.generated_code):
        flags[i]["generated_code"] = f"no patch code in the delivery; generated {codes[i]}"
    report.rejected += [_problem(offset + i, codes[i], problems[i]) for i in sorted(problems)]
    ok = np.ones(n, dtype=bool)
    ok[list(problems)] = False
    for i in np.flatnonzero(ok):
        for key, text in flags[i].items():
            report.flags[key] = report.flags.get(key, 0) + 1
            report.problems.append(_problem(offset + int(i), codes[i], f"{key}: {text}"))
    attrs = [a for a, keep in zip(attributes_json(frame), ok) if keep]
    geoms = check.geometries[ok]
    report.accepted += int(ok.sum())
    report.area_mu += float(area_mu[ok].sum())
    report.issued_area_mu += float(np.nansum(issued[ok]))
    report.cultivated_mu += float(np.nansum(cultivated[ok]))
    table = pd.DataFrame({
        "patch_code": codes[ok],
        "feature_no": np.flatnonzero(ok) + offset + 1,
        "area_mu": area_mu[ok],
        "issued_area_mu": issued[ok],
        "cultivated_mu": cultivated[ok],
        "attrs": attrs,
        "flags": [json.dumps(flags[i], ensure_ascii=False) if flags[i] else "{}" for i in np.flatnonzero(ok)],
        "fingerprint": fingerprints(geoms, attrs),
    })
    table["geom"] = geoms
    return table


def _relapses(store, conn, table: pd.DataFrame, write: np.ndarray, stored_prints: dict, batch_id,
              min_share: float, report: ImportReport) -> list[tuple[str, int, float]]:
    """New patches on rectified or closed sites of other batches (死灰复燃): flag them, return the links."""
    is_new = np.array([code not in stored_prints for code in table.patch_code], dtype=bool) & write
    if not is_new.any():
        return []
    geoms = table["geom"].to_numpy()[is_new]
    earlier = repo.settled_patches_in(conn, store, shapely.total_bounds(geoms), batch_id)
    pairs = find_relapses(geoms, earlier["geom"].to_numpy(), min_share)
    if pairs.empty:
        return []
    codes = table.patch_code.to_numpy()[is_new]
    links, flagged = [], {}
    for n, e, share in zip(pairs["new"], pairs["earlier"], pairs["share"]):
        links.append((codes[n], int(earlier["lineage_id"].iloc[e]), float(share)))
        flagged.setdefault(codes[n], []).append(earlier["patch_code"].iloc[e])
    positions = {code: i for i, code in enumerate(table.patch_code)}
    for code, earlier_codes in flagged.items():
        i = positions[code]
        flags = json.loads(table.at[table.index[i], "flags"])
        flags["relapse"] = f"overlaps earlier rectified/closed patch(es) {', '.join(earlier_codes)}"
        table.at[table.index[i], "flags"] = json.dumps(flags, ensure_ascii=False)
        report.flags["relapse"] = report.flags.get("relapse", 0) + 1
        report.problems.append({"feature": int(table.at[table.index[i], "feature_no"]), "patch_code": code,
                                "problem": f"relapse: {flags['relapse']}"})
    return links


def _add_landuse(store, conn, table: pd.DataFrame, mapping, report: ImportReport) -> None:
    """Forest area, and cultivated area where the delivery has none, from the 三调 layer if loaded."""
    has_field = mapping.decisions.get("cultivated_area", "").startswith("from field")
    table["cultivated_source"] = "issued" if has_field else None
    computed = landuse_for(store, conn, table["geom"].to_numpy())
    if computed is None:
        return
    cultivated, forest = computed
    table["forest_mu"] = forest
    if not has_field:
        table["cultivated_mu"] = cultivated
        table["cultivated_source"] = "computed"
        report.cultivated_mu += float(cultivated.sum())
        report.fields["cultivated_area"] = (
            "computed from the 三调 land-use layer (DLBM 0101/0102/0103, net of KCXS), not issued")


def _stored_report(report: ImportReport) -> dict:
    """The report kept with the import; new codes are left out (patches.import_id has them)."""
    data = report.to_dict()
    data.pop("import_id", None)
    data["diff_codes"] = {k: v for k, v in report.diff_codes.items() if k != "new"}
    return data


def _write_new_versions(store, conn, batch_id: int, import_id: int, table: pd.DataFrame,
                        stored: pd.DataFrame) -> None:
    """Rows for new codes get version 1; changed codes the next version, keeping their status."""
    if table.empty:
        return
    previous = stored.set_index("patch_code").reindex(table.patch_code)
    table = table.copy()
    table["version"] = (previous["version"].fillna(0).astype(int) + 1).to_numpy()
    table["status"] = previous["status"].fillna("issued").to_numpy()
    table["batch_id"] = batch_id
    table["import_id"] = import_id
    if previous["lineage_id"].notna().any():  # a re-issue: new versions carry on their patch's life
        table["status_on"] = [None if pd.isna(d) else d for d in previous["status_on"]]
        table["lineage_id"] = pd.array([None if pd.isna(v) else int(v) for v in previous["lineage_id"]],
                                       dtype="Int64")
        table["deadline"] = [None if pd.isna(d) else d for d in previous["deadline"]]
    repo.insert_patches(store, conn, table)


def list_batches(store: Store, *, villages=None) -> list[dict]:
    """Every batch; with ``villages`` (a user's scope) its counts and areas cover only those villages."""
    with store.engine.connect() as conn:
        return repo.list_batches(conn, villages)


def show_batch(store: Store, name: str, source: str | None = None, *, villages=None) -> dict:
    """One batch with its imports (and their reports) and its current patches.

    With ``villages`` (a user's scope): only those villages' patches, and the imports
    without their reports, which name every feature of the delivery.
    """
    with store.engine.connect() as conn:
        found = repo.find_batch(conn, source, name)
        if not found:
            raise BatchNotFoundError(
                f"no batch named {name!r}{f' from {source}' if source else ''}: "
                "`geo-tracker batches list` shows the batches"
            )
        if len(found) > 1:
            sources = ", ".join(r.source for r in found)
            raise GeoTrackerError(f"batch {name!r} exists for several sources ({sources}): add --source")
        batch = dict(found[0]._mapping)
        summary = next(b for b in repo.list_batches(conn, villages) if b["id"] == batch["id"])
        imports = repo.batch_imports_of(conn, batch["id"])
        if villages is not None:
            imports = [{k: v for k, v in i.items() if k != "report"} for i in imports]
        return {**summary, "imports": imports, "patch_list": repo.patches_of(conn, batch["id"], villages)}
