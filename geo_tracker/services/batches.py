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

from ..core.area import geodesic_area_mu
from ..core.checks import area_flags, duplicate_codes
from ..core.geometry import GeometryCheck, normalise_polygons
from ..core.reissue import ReissueDiff, diff_by_code, fingerprints
from ..errors import BatchImportError, BatchNotFoundError, FieldMappingError, GeoTrackerError
from ..io.profiles import PROFILES, map_fields
from ..io.readers import read_delivery
from ..store import Store
from ..store import batches as repo
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

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def _attrs_json(frame: pd.DataFrame) -> list[str]:
    """Each feature's original attributes as JSON text, field order and values kept."""
    attrs = frame.drop(columns=[frame.geometry.name])
    if attrs.shape[1] == 0:
        return ["{}"] * len(frame)
    text = attrs.to_json(orient="records", lines=True, force_ascii=False, date_format="iso",
                         double_precision=15, default_handler=str)
    return text.splitlines() if len(frame) else []


#: Batches larger than this are checked and measured in chunks on every core.
PARALLEL_CHUNK = 25_000


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
    progress: Callable[[str], None] = lambda stage: None,
) -> ImportReport:
    """Import one delivery as (a re-issue of) batch ``options.batch``.

    Atomic: any fatal problem raises a typed error and leaves the database as it
    was. Importing the identical file again changes nothing and says so.
    """
    options.validate()
    path = Path(path)
    with store.engine.connect() as conn:
        reference = repo.reference_geometry(conn, store)
    progress("reading")
    delivery = read_delivery(
        path, layer=options.layer, encoding=options.encoding, crs=options.crs,
        reference=reference, central_meridian=options.central_meridian,
    )
    frame = delivery.frame
    n = len(frame)
    source_name = delivery.dataset

    progress("checking geometries and computing areas")
    check, area_mu = _check_and_measure(frame.geometry.values)
    geoms = check.geometries
    problems = {**check.problems, **delivery.problems}
    mapping = map_fields(
        frame, area_mu, source=source_name, driver=delivery.driver, profile=options.profile,
        id_field=options.id_field, area_field=options.area_field, area_unit=options.area_unit,
        cultivated_field=options.cultivated_field,
    )
    codes = mapping.patch_code.to_numpy(dtype=object)
    issued = mapping.issued_area_mu.to_numpy(dtype=float)
    cultivated = mapping.cultivated_mu.to_numpy(dtype=float)

    duplicates = duplicate_codes(codes[~mapping.generated_code])
    if duplicates:
        listed = "; ".join(
            f"{code} (features {', '.join(str(p + 1) for p in np.flatnonzero(codes == code))})"
            for code in list(duplicates)[:20]
        )
        raise BatchImportError(
            f"{source_name}: {len(duplicates)} patch codes occur more than once: {listed}. "
            "Patch codes must be unique within a batch: ask the bureau, or choose another "
            "field with --id-field",
            [_problem(int(p), c, "duplicate patch code") for c in duplicates
             for p in np.flatnonzero(codes == c)],
        )

    flags = [dict(g) for g in check.flags]
    for i, extra in enumerate(area_flags(area_mu, issued, cultivated)):
        flags[i].update(extra)
    for i in np.flatnonzero(mapping.generated_code):
        flags[i]["generated_code"] = f"no patch code in the delivery; generated {codes[i]}"

    rejected = [_problem(i, codes[i], problems[i]) for i in sorted(problems)]
    if rejected and not options.skip_invalid:
        shown = "; ".join(f"feature {r['feature']} ({r['patch_code']}): {r['problem']}" for r in rejected[:10])
        more = f" and {len(rejected) - 10} more" if len(rejected) > 10 else ""
        raise BatchImportError(
            f"{source_name}: {len(rejected)} of {n} features cannot be imported: {shown}{more}. "
            "Nothing was imported; fix the file, or rerun with --skip-invalid to import the rest",
            rejected,
        )
    ok = np.array([i not in problems for i in range(n)], dtype=bool)
    if not ok.any():
        raise BatchImportError(f"{source_name}: none of its {n} features can be imported", rejected)

    attrs = _attrs_json(frame)
    flags_json = [json.dumps(f, ensure_ascii=False) if f else "{}" for f in flags]
    prints = fingerprints(geoms[ok], [a for a, keep in zip(attrs, ok) if keep])
    table = pd.DataFrame({
        "patch_code": codes[ok],
        "feature_no": np.flatnonzero(ok) + 1,
        "area_mu": area_mu[ok],
        "issued_area_mu": issued[ok],
        "cultivated_mu": cultivated[ok],
        "attrs": [a for a, keep in zip(attrs, ok) if keep],
        "flags": [f for f, keep in zip(flags_json, ok) if keep],
        "fingerprint": prints,
    })
    table["geom"] = geoms[ok]

    flag_counts: dict[str, int] = {}
    for f, keep in zip(flags, ok):
        if keep:
            for key in f:
                flag_counts[key] = flag_counts.get(key, 0) + 1
    problem_list = [
        _problem(i, codes[i], f"{key}: {text}") for i, f in enumerate(flags) if ok[i] for key, text in f.items()
    ]
    report = ImportReport(
        batch=options.batch, source=options.source, file=str(path), dataset=delivery.dataset,
        driver=delivery.driver, layer=delivery.layer, sha256=delivery.sha256, features_read=n,
        accepted=int(ok.sum()), rejected=rejected, flags=flag_counts,
        area_mu=float(area_mu[ok].sum()),
        cultivated_mu=float(np.nansum(cultivated[ok])),
        issued_area_mu=float(np.nansum(issued[ok])),
        crs=delivery.crs.label, crs_reason=delivery.crs.reason,
        encoding=delivery.encoding.encoding, encoding_reason=delivery.encoding.reason,
        fields=mapping.decisions, diff={}, diff_codes={},
        warnings=delivery.warnings + mapping.warnings, problems=problem_list, dry_run=options.dry_run,
    )

    progress("writing")
    with (store.engine.connect() if options.dry_run else store.transaction()) as conn:
        earlier = repo.find_import_by_sha256(conn, delivery.sha256)
        if earlier is not None:
            if (earlier.source, earlier.name) != (options.source, options.batch):
                raise BatchImportError(
                    f"{path.name} is identical (SHA-256) to the file imported on "
                    f"{earlier.imported_at:%Y-%m-%d} as batch {earlier.name!r} ({earlier.source}): "
                    "importing it again under another name would count its patches twice"
                )
            report.already_imported = True
            report.import_id = earlier.id
            report.diff = {"unchanged": report.accepted, "changed": 0, "withdrawn": 0, "new": 0}
            return report
        found = repo.find_batch(conn, options.source, options.batch)
        batch_id = found[0].id if found else None
        stored = repo.current_patches(conn, batch_id if batch_id is not None else -1)
        diff = diff_by_code(dict(zip(stored.patch_code, stored.fingerprint)),
                            dict(zip(table.patch_code, table.fingerprint)))
        report.diff = diff.counts()
        report.diff_codes = {"changed": diff.changed, "withdrawn": diff.withdrawn, "new": diff.new}
        if options.dry_run:
            return report
        if batch_id is None:
            batch_id = repo.create_batch(conn, options.source, options.batch, options.issued_on, options.deadline)
        else:
            repo.update_batch_deadline(conn, batch_id, options.deadline)
        report.import_id = repo.insert_import(
            conn, batch_id=batch_id, file_name=path.name, dataset=delivery.dataset, driver=delivery.driver,
            layer=delivery.layer, file_sha256=delivery.sha256, issued_on=options.issued_on,
            deadline=options.deadline, crs=report.crs, crs_reason=report.crs_reason,
            encoding=report.encoding, features_read=n, accepted=report.accepted,
            area_mu=report.area_mu, report=_stored_report(report),
        )
        _write_patches(store, conn, batch_id, report.import_id, table, stored, diff)
        repo.record_import_events(
            conn, batch_id=batch_id, import_id=report.import_id, occurred_on=options.issued_on,
            withdrawn_ids=stored.loc[stored.patch_code.isin(diff.withdrawn), "id"].tolist(),
            payload={"import_id": report.import_id, "file": path.name, "diff": report.diff},
        )
    return report


def _stored_report(report: ImportReport) -> dict:
    """The report kept with the import; new codes are left out (patches.import_id has them)."""
    data = report.to_dict()
    data.pop("import_id", None)
    data["diff_codes"] = {k: v for k, v in report.diff_codes.items() if k != "new"}
    return data


def _write_patches(store, conn, batch_id: int, import_id: int, table: pd.DataFrame,
                   stored: pd.DataFrame, diff: ReissueDiff) -> None:
    """New codes get version 1; changed codes a new version (old kept, superseded); withdrawn marked."""
    by_code = stored.set_index("patch_code")
    writing = table[table.patch_code.isin(diff.new) | table.patch_code.isin(diff.changed)].copy()
    previous = by_code.reindex(writing.patch_code)
    writing["version"] = (previous["version"].fillna(0).astype(int) + 1).to_numpy()
    writing["status"] = previous["status"].fillna("issued").to_numpy()
    writing["batch_id"] = batch_id
    writing["import_id"] = import_id
    writing["is_current"] = True
    writing["withdrawn"] = False
    writing["row_version"] = 1
    repo.supersede(conn, by_code.loc[diff.changed, "id"].tolist(), repo.now_utc())
    repo.withdraw(conn, by_code.loc[diff.withdrawn, "id"].tolist())
    repo.insert_patches(store, conn, writing)


def list_batches(store: Store) -> list[dict]:
    with store.engine.connect() as conn:
        return repo.list_batches(conn)


def show_batch(store: Store, name: str, source: str | None = None) -> dict:
    """One batch with its imports (and their reports) and its current patches."""
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
        summary = next(b for b in repo.list_batches(conn) if b["id"] == batch["id"])
        return {**summary, "imports": repo.batch_imports_of(conn, batch["id"]),
                "patch_list": repo.patches_of(conn, batch["id"])}
