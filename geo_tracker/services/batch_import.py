"""Importing a delivery as a batch (批次): the liaison's daily job.

``import_batch`` reads a delivery, checks and repairs its polygons, computes
official areas, maps the bureau's fields, refuses what other batches already hold,
compares it with what the batch holds (five ways), and writes everything in one
transaction (or nothing).
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Callable, Collection

import numpy as np
import pandas as pd

from ..core.area import gauss_kruger_area_mu, geodesic_area_mu
from ..core.checks import area_flags, stated_area_basis
from ..core.geometry import GeometryCheck, normalise_polygons
from ..core.lifecycle import AREA_EPSILON_MU
from ..core.overlap import duplicates_among, overlap_pairs
from ..core.sources import SOURCE_LABELS, SOURCES  # noqa: F401 (re-exported)
from ..core.reissue import KINDS as DIFF_KINDS, ReissueDiff, fingerprints, same_issue
from ..core.relapse import relapses_among
from ..core.matching import match_villages_as_of
from ..catalogue import Listing, entries, in_language, msg, note
from ..errors import (
    BatchImportError, DuplicateDeliveryError, FieldMappingError, InvalidValueError, PermissionDeniedError,
)
from ..io.attributes import attributes_json
from ..io.profiles import PROFILES, map_fields
from ..io.readers import open_delivery
from ..store import Store
from ..store import batches as repo
from .landuse import landuse_for
from .patches import load_villages, match_and_store
from .tracking import actor
from ..units import TO_MU



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
    #: Import every dataset of a zip or folder (every polygon layer of a GeoPackage) as one batch.
    all_layers: bool = False
    #: Import even what other batches already hold (the same file, or patches of the same site).
    accept_duplicates: bool = False
    #: Who imports (recorded with the import; defaults as for every other action).
    user: str | None = None
    #: The importing account's villages (None: all). A scoped import may add, change or
    #: withdraw only patches whose main village is listed.
    villages: Collection[str] | None = None
    #: Overlap share (of either patch) that links a new patch to a rectified/closed one (死灰复燃).
    relapse_share: float = 0.3

    def validate(self) -> None:
        """Check the options before touching any file."""
        if self.source not in SOURCES:
            raise InvalidValueError(msg("imports.option_source", value=self.source, known=", ".join(SOURCES)))
        if not self.batch or not self.batch.strip():
            raise InvalidValueError(msg("imports.option_batch_empty"))
        if self.deadline is not None and self.deadline < self.issued_on:
            raise InvalidValueError(msg("imports.option_deadline_early", deadline=self.deadline,
                                        issued_on=self.issued_on))
        if self.area_unit is not None and self.area_unit not in TO_MU:
            raise InvalidValueError(msg("imports.option_area_unit", value=self.area_unit, known=", ".join(TO_MU)))
        if not 0 < self.relapse_share <= 1:
            raise InvalidValueError(msg("imports.option_relapse_share", value=self.relapse_share))
        if self.profile is not None and self.profile not in PROFILES:
            raise FieldMappingError(msg("imports.option_profile", value=self.profile, known=", ".join(PROFILES)))


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
    #: Sum of the stated (issued) areas; None when the delivery states none.
    issued_area_mu: float | None
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
    #: The files (or layers) of a multi-file delivery, one line each.
    files: list[dict] = field(default_factory=list)
    #: Patches other batches already hold (same shape, or ≥ 95 % overlap both ways), per feature.
    duplicates: list[dict] = field(default_factory=list)
    #: The earlier import of this very delivery under another batch, if any.
    duplicate_of: dict | None = None
    #: How many stated areas match the ellipsoidal and the planar Gauss-Krüger area, and which wins.
    stated_area: dict = field(default_factory=dict)

    @property
    def needs_accept_duplicates(self) -> bool:
        """Whether importing needs the liaison's explicit --accept-duplicates."""
        return bool(self.duplicates or self.duplicate_of)

    def to_dict(self, lang: str = "en", interface: str | None = None) -> dict:
        """The report as JSON values; its problems, warnings and reasons in ``lang`` (English, as the
        CLI and the API show them, by default; a page asks for "zh" and gets the web hints)."""
        data = {**self.__dict__, "needs_accept_duplicates": self.needs_accept_duplicates}
        return data if lang == "en" and interface in (None, "cli") else in_language(
            data, lang, interface or "web")


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


def _repeated(code: str) -> str:
    return note("imports.problem_code_repeated", code=code)


def _more(count: int, shown: int):
    """" and N more" after a list cut at ``shown`` items, or nothing."""
    return msg("imports.and_more", count=count - shown) if count > shown else ""


def _flag_problem(key: str, text: str) -> str:
    """A flag as a line of the report's problems: its label, then its text."""
    label = f"imports.flag_label.{key}"
    return note("imports.flag_problem", label=msg(label) if label in entries() else key, text=text)


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
    was. Importing the identical file again changes nothing and says so; the same
    delivery (or the same patches) under another batch is refused unless the liaison
    accepts the duplicates. Features are processed and written in chunks inside the
    one transaction, so memory stays bounded for national-scale batches;
    ``progress(done, total)`` follows them.
    """
    options.validate()
    path = Path(path)
    with store.engine.connect() as conn:
        reference = repo.reference_geometry(conn, store)
    with open_delivery(
        path, layer=options.layer, all_layers=options.all_layers, encoding=options.encoding, crs=options.crs,
        reference=reference, central_meridian=options.central_meridian,
    ) as source:
        with (store.engine.connect() if options.dry_run else store.transaction()) as conn:
            earlier = repo.find_import_by_sha256(conn, source.sha256, prefer=(options.source, options.batch))
            if earlier is not None and (earlier.source, earlier.name) == (options.source, options.batch):
                return _identical(path, options, source, earlier)
            report = _empty_report(path, options, source)
            if earlier is not None:
                report.duplicate_of = _earlier_import(earlier)  # refused at the end, after the scope check
            run = _ImportRun(store, conn, path, options, source, report)
            for offset, frame in source.chunks():
                run.add_chunk(offset, frame)
                progress(min(offset + len(frame), source.feature_count), source.feature_count)
            return run.finish()


def _earlier_import(row) -> dict:
    return {"batch": row.name, "source": row.source, "file": row.file_name, "import_id": row.id,
            "imported_at": row.imported_at.isoformat() if row.imported_at else None,
            "imported_by": row.imported_by, "accepted": row.accepted}


def _duplicate_file_message(path: Path, earlier: dict):
    when = (earlier["imported_at"] or "")[:10]
    who = msg("imports.imported_by", user=earlier["imported_by"]) if earlier["imported_by"] else ""
    return msg("imports.duplicate_delivery", name=path.name, file=earlier["file"], when=when, who=who,
               batch=earlier["batch"], source=earlier["source"])


def _identical(path: Path, options: ImportOptions, source, earlier) -> ImportReport:
    report = _empty_report(path, options, source)
    report.already_imported = True
    report.import_id = earlier.id
    report.accepted = earlier.accepted
    report.diff = {**dict.fromkeys(DIFF_KINDS, 0), "unchanged": earlier.accepted}
    return report


def _empty_report(path: Path, options: ImportOptions, source) -> ImportReport:
    return ImportReport(
        batch=options.batch, source=options.source, file=str(path), dataset=source.dataset,
        driver=source.driver, layer=source.layer, sha256=source.sha256,
        features_read=source.feature_count, accepted=0, rejected=[], flags={}, area_mu=0.0,
        cultivated_mu=0.0, issued_area_mu=None, crs=source.crs.label, crs_reason=source.crs.reason,
        encoding=source.encoding.encoding, encoding_reason=source.encoding.reason, fields={},
        diff={}, diff_codes={}, warnings=list(source.warnings), dry_run=options.dry_run,
        files=list(source.members),
    )


class _ImportRun:
    """One import in progress: chunks are checked, compared and written as they come."""

    def __init__(self, store: Store, conn, path: Path, options: ImportOptions, source, report: ImportReport):
        self.store, self.conn, self.path, self.options, self.source, self.report = (
            store, conn, path, options, source, report)
        found = repo.find_batch(conn, options.source, options.batch)
        self.batch_id = found[0].id if found else None
        self.stored = repo.current_patches(conn, self.batch_id if self.batch_id is not None else -1)
        self.by_code = self.stored.set_index("patch_code")
        self.stored_prints = dict(zip(self.stored.patch_code, self.stored.fingerprint))
        self.scope = None if options.villages is None else frozenset(options.villages)
        if self.scope is not None and found and options.deadline not in (None, found[0].deadline):
            raise PermissionDeniedError(msg("imports.shared_batch_deadline", batch=options.batch,
                                            deadline=found[0].deadline), field="deadline")
        self.villages = load_villages(conn, store) if not options.dry_run or self.scope is not None else None
        self.outside_scope: list[dict] = []
        #: Codes of this batch that another township holds: a scoped import neither sees nor touches them.
        self.foreign: frozenset[str] = frozenset()
        if self.scope is not None:
            village_of = repo.main_villages(conn, self.stored["id"].tolist())
            self.foreign = frozenset(c for c, i in zip(self.stored.patch_code, self.stored["id"])
                                     if village_of.get(int(i)) not in self.scope)
            self.by_code = self.by_code.drop(index=list(self.foreign))
            self.stored_prints = {c: f for c, f in self.stored_prints.items() if c not in self.foreign}
        self.match_counts = {"matched": 0, "outside": 0, "straddles": 0}
        self.first_seen: dict[str, int] = {}
        self.repeated: dict[str, list[int]] = {}
        self.written_repeats: set[str] = set()
        self.diff = ReissueDiff()
        self.area_unit = options.area_unit
        self.warnings = dict.fromkeys(report.warnings)
        self.basis = {"ellipsoidal": 0, "planar": 0, "either": 0}
        if not options.dry_run:
            self._start_import()

    def _start_import(self) -> None:
        o, r = self.options, self.report
        if self.batch_id is None:
            self.batch_id = repo.create_batch(self.conn, o.source, o.batch, o.issued_on, o.deadline)
        elif self.scope is None:
            repo.update_batch_deadline(self.conn, self.batch_id, o.deadline)
        r.import_id = repo.insert_import(
            self.conn, batch_id=self.batch_id, file_name=self.path.name, dataset=self.source.dataset,
            driver=self.source.driver, layer=self.source.layer, file_sha256=self.source.sha256,
            issued_on=o.issued_on, deadline=o.deadline, crs=r.crs, crs_reason=r.crs_reason,
            encoding=r.encoding, features_read=self.source.feature_count, accepted=0, imported_by=actor(o.user),
        )

    @property
    def doomed(self) -> bool:
        """Whether the import will be refused at the end (so nothing more is written)."""
        o, r = self.options, self.report
        return bool(self.outside_scope or (self.repeated and not o.skip_invalid) or (r.rejected and not o.skip_invalid)
                    or ((r.duplicates or r.duplicate_of) and not o.accept_duplicates))

    def add_chunk(self, offset: int, frame) -> None:
        o, r, source = self.options, self.report, self.source
        check, area_mu = _check_and_measure(frame.geometry.values)
        one_crs = len({m["crs"] for m in source.members}) <= 1
        planar_mu = gauss_kruger_area_mu(check.geometries, area_mu, source.crs.crs if one_crs else None)
        mapping = map_fields(
            frame, area_mu, source=source.dataset, driver=source.driver, profile=o.profile,
            id_field=o.id_field, area_field=o.area_field, area_unit=self.area_unit,
            cultivated_field=o.cultivated_field, first_feature=offset,
        )
        if offset == 0:
            r.fields = mapping.decisions
            self.area_unit = mapping.area_unit if source.driver != "zuobiao" else o.area_unit
        self.warnings.update(dict.fromkeys(mapping.warnings))
        problems = {**source.problems, **self._repeats(mapping, offset)}
        table = _accepted_rows(frame, offset, check, area_mu, planar_mu, mapping, problems, r)
        for key in self.basis:
            self.basis[key] += int((table["area_basis"] == key).sum())
        _add_landuse(self.store, self.conn, table, mapping, r)
        self._check_scope(table)
        same = self._same_issue(table)
        prints = table.fingerprint.tolist()
        changed_before = len(self.diff.changed)
        write = self.diff.classify(self.stored_prints, table.patch_code.tolist(), prints, same)
        self._flag_changed(table, self.diff.changed[changed_before:])
        is_new = np.array([c not in self.stored_prints for c in table.patch_code], dtype=bool)
        relapses = self._overlaps(table, write & (is_new | ~same), is_new)
        if not o.dry_run and not self.doomed:
            self._write(table[write], relapses)

    def _check_scope(self, table: pd.DataFrame) -> None:
        """A scoped account's rows must lie in its villages (by the same matching as on import);
        rows of a code another township holds in this batch are outside too."""
        if self.scope is None or not len(table):
            return
        if len(self.villages):
            villages = match_villages_as_of(table["geom"].to_numpy(), [self.options.issued_on] * len(table),
                                            self.villages).matches["village_code"]
        else:
            villages = [None] * len(table)          # no villages loaded: nothing lies in anyone's units
        for i, village in enumerate(villages):
            code = table.patch_code.iloc[i]
            if village not in self.scope or code in self.foreign:
                self.outside_scope.append({"feature": int(table["feature_no"].iloc[i]), "patch_code": code,
                                           "problem": note("imports.problem_outside_units")})

    def _repeats(self, mapping, offset: int) -> dict[int, str]:
        """Record repeated codes; with --skip-invalid, every feature of one is skipped (a problem)."""
        problems: dict[int, str] = {}
        for i, code in enumerate(mapping.patch_code.to_numpy(dtype=object)):
            if mapping.generated_code[i]:
                continue
            if code in self.first_seen:
                first = self.first_seen[code]
                positions = self.repeated.setdefault(code, [first])
                positions.append(offset + i)
                if first < offset and len(positions) == 2:
                    self.written_repeats.add(code)
                problems[offset + i] = _repeated(code)
                if first >= offset:
                    problems[first] = problems[offset + i]
            else:
                self.first_seen[code] = offset + i
        return problems if self.options.skip_invalid else {}

    def _same_issue(self, table: pd.DataFrame) -> np.ndarray:
        """Per row: a stored patch of that code whose shape and issued area it keeps."""
        same = np.zeros(len(table), dtype=bool)
        rows = [i for i, (c, fp) in enumerate(zip(table.patch_code, table.fingerprint))
                if c in self.stored_prints and self.stored_prints[c] != fp]
        if not rows:
            return same
        old = self.by_code.loc[table.patch_code.iloc[rows]]
        shapes = repo.stored_shapes(self.conn, self.store, old["id"].tolist())
        same[rows] = same_issue(table["geom"].to_numpy()[rows], [shapes[i] for i in old["id"]],
                                table["issued_area_mu"].to_numpy()[rows], old["issued_area_mu"].to_numpy(float))
        return same

    def _flag_changed(self, table: pd.DataFrame, codes: list[str]) -> None:
        """A re-issued shape or area is checked again; rectification beyond the new area is capped."""
        if not codes:
            return
        old = self.by_code.loc[codes]
        rectified = repo.rectified_mu_of(self.conn, self.store, old["lineage_id"].astype(int).tolist())
        positions = {c: i for i, c in enumerate(table.patch_code)}
        for code, lineage in zip(codes, old["lineage_id"].astype(int)):
            i = positions[code]
            _flag(table, self.report, i, "recheck", note("imports.flag_recheck"))
            done, area = rectified.get(lineage, 0.0), float(table["area_mu"].iloc[i])
            if done > area + AREA_EPSILON_MU:
                _flag(table, self.report, i, "rectified_capped",
                      note("imports.flag_rectified_capped", done=f"{done:.4f}", area=f"{area:.4f}"))

    def _overlaps(self, table: pd.DataFrame, check: np.ndarray, is_new: np.ndarray) -> list[tuple[str, int, float]]:
        """Duplicates of other batches' current patches among the ``check`` rows (listed, flagged), and
        relapses of the new ones (returned)."""
        if not check.any():
            return []
        rows = np.flatnonzero(check)
        geoms = table["geom"].to_numpy()[rows]
        near = repo.current_patches_near(self.conn, self.store, geoms, self.batch_id)
        pairs = overlap_pairs(geoms, near["geom"].to_numpy())
        if pairs.empty:
            return []
        codes = table.patch_code.to_numpy()
        for _, pair in duplicates_among(pairs).iterrows():
            i, e = rows[int(pair["new"])], near.iloc[int(pair["earlier"])]
            share = float(min(pair["share_new"], pair["share_earlier"]))
            self.report.duplicates.append({
                "feature": int(table["feature_no"].iloc[i]), "patch_code": codes[i], "batch": e["batch"],
                "source": e["source"], "duplicate_code": e["patch_code"], "same_shape": bool(pair["same"]),
                "overlap": round(share, 4)})
            _flag(table, self.report, i, "duplicate", note("imports.flag_duplicate", code=e["patch_code"],
                                                           batch=e["batch"], share=f"{share:.1%}"), listed=False)
        settled = near["status"].isin(["rectified", "closed"]).to_numpy()
        pairs = pairs[settled[pairs["earlier"].to_numpy(int)] & is_new[rows][pairs["new"].to_numpy(int)]]
        links, flagged = [], {}
        for n, e, share in relapses_among(pairs, self.options.relapse_share).itertuples(index=False):
            i, earlier = rows[int(n)], near.iloc[int(e)]
            links.append((codes[i], int(earlier["lineage_id"]), float(share)))
            flagged.setdefault(i, []).append(earlier["patch_code"])
        for i, earlier_codes in flagged.items():
            _flag(table, self.report, i, "relapse", note("imports.flag_relapse", codes=", ".join(earlier_codes)))
        return links

    def _write(self, written: pd.DataFrame, relapses) -> None:
        conn, r = self.conn, self.report
        before = repo.max_patch_id(conn)
        _write_new_versions(self.store, conn, self.batch_id, r.import_id, written, self.stored)
        if not len(written) or not (relapses or len(self.villages)):
            return
        ids = repo.patch_ids_since(conn, r.import_id, before)
        if relapses:
            by_code = ids.set_index("patch_code")["id"]
            lineage = repo.lineage_of(conn, by_code.tolist())
            repo.insert_relapses(conn, [(lineage[by_code[code]], earlier, share)
                                        for code, earlier, share in relapses])
        if len(self.villages):
            geoms = written.set_index("patch_code").loc[ids.patch_code, "geom"].to_numpy()
            counts = match_and_store(self.store, conn, ids.id.tolist(), geoms,
                                     [self.options.issued_on] * len(ids), self.villages)
            for key in self.match_counts:
                self.match_counts[key] += counts[key]

    def finish(self) -> ImportReport:
        o, r, diff = self.options, self.report, self.diff
        r.warnings = list(self.warnings)
        self._refuse_if_needed()
        for code in sorted(self.written_repeats):
            r.rejected.append(_problem(self.first_seen[code], code, _repeated(code)))
        if self.written_repeats and not o.dry_run:
            removed = repo.delete_import_rows(self.conn, r.import_id, sorted(self.written_repeats))
            r.accepted -= removed["accepted"]
            r.area_mu -= removed["area_mu"]
            r.issued_area_mu = (r.issued_area_mu or 0.0) - removed["issued_area_mu"]
            r.cultivated_mu -= removed["cultivated_mu"]
        if r.accepted == 0:
            raise BatchImportError(msg("imports.nothing_importable", name=self.source.dataset,
                                       count=self.source.feature_count), r.rejected)
        for kind in ("new", "changed", "attributes_changed"):
            setattr(diff, kind, [c for c in getattr(diff, kind) if c not in self.repeated])
        diff.finish(self.stored_prints, kept=[p["patch_code"] for p in r.rejected] + list(self.repeated))
        if self.villages is not None and len(self.villages):
            r.villages = self.match_counts
        r.diff = diff.counts()
        r.diff_codes = diff.codes()
        r.stated_area = self._stated_area()
        if o.dry_run:
            return r
        reissued = diff.changed + diff.attributes_changed
        repo.supersede(self.conn, self.by_code.loc[reissued, "id"].tolist(), repo.now_utc())
        repo.withdraw(self.conn, self.by_code.loc[diff.withdrawn, "id"].tolist())
        repo.finish_import(self.conn, r.import_id, accepted=r.accepted, area_mu=r.area_mu,
                           report=_stored_report(r))
        repo.record_import_events(
            self.conn, batch_id=self.batch_id, import_id=r.import_id, occurred_on=o.issued_on,
            withdrawn_ids=self.by_code.loc[diff.withdrawn, "lineage_id"].astype(int).tolist(),
            payload={"import_id": r.import_id, "file": self.path.name, "diff": r.diff},
        )
        return r

    def _refuse_if_needed(self) -> None:
        o, r, n, name = self.options, self.report, self.source.feature_count, self.source.dataset
        if self.outside_scope:
            codes = ", ".join(str(x["patch_code"]) for x in self.outside_scope[:20])
            error = PermissionDeniedError(msg("imports.outside_units", name=name, count=len(self.outside_scope), n=n,
                                              codes=codes, more=_more(len(self.outside_scope), 20)), field="file")
            error.problems = self.outside_scope
            raise error
        if r.duplicate_of and not o.accept_duplicates and not o.dry_run:
            raise DuplicateDeliveryError(_duplicate_file_message(self.path, r.duplicate_of), field="file")
        if self.repeated and not o.skip_invalid:
            listed = Listing(msg("imports.code_at_features", code=code, features=", ".join(str(p + 1) for p in positions))
                             for code, positions in list(self.repeated.items())[:20])
            raise BatchImportError(
                msg("imports.codes_repeated", name=name, count=len(self.repeated), listed=listed),
                [_problem(p, c, note("imports.problem_duplicate_code")) for c, ps in self.repeated.items() for p in ps],
            )
        if r.rejected and not o.skip_invalid:
            shown = Listing(msg("imports.feature_problem", feature=x["feature"], code=x["patch_code"],
                                problem=x["problem"]) for x in r.rejected[:10])
            raise BatchImportError(
                msg("imports.features_rejected", name=name, count=len(r.rejected), n=n, shown=shown,
                    more=_more(len(r.rejected), 10)),
                r.rejected,
            )
        if r.duplicates and not o.accept_duplicates and not o.dry_run:
            shown = Listing(msg("imports.duplicate_item", feature=d["feature"], code=d["patch_code"],
                                duplicate=d["duplicate_code"], batch=d["batch"]) for d in r.duplicates[:10])
            raise DuplicateDeliveryError(
                msg("imports.patches_held", name=name, count=len(r.duplicates), shown=shown,
                    more=_more(len(r.duplicates), 10)),
                [{"feature": d["feature"], "patch_code": d["patch_code"],
                  "problem": note("imports.problem_duplicate_of", code=d["duplicate_code"], batch=d["batch"])}
                 for d in r.duplicates],
            )

    def _stated_area(self) -> dict:
        """Which computed area the delivery's stated areas match (None: it states none)."""
        counts = dict(self.basis)
        stated = sum(counts.values())
        if not stated:
            self.report.issued_area_mu = None
            return {**counts, "basis": None}
        decided = {k: counts[k] for k in ("planar", "ellipsoidal")}
        basis = max(decided, key=decided.get) if sum(decided.values()) * 2 > stated else "either"
        self.report.fields["stated_area"] = note("imports.decision.stated_area", count=counts[basis], stated=stated,
                                                 basis=msg(f"imports.decision.basis.{basis}"))
        return {**counts, "basis": basis}


def _flag(table: pd.DataFrame, report: ImportReport, i: int, key: str, text: str, *, listed: bool = True) -> None:
    """Add flag ``key`` to row ``i`` of an import table, and count it (and list it, where the
    report has no list of its own for it) in the report."""
    at = table.index[i]
    flags = json.loads(table.at[at, "flags"])
    flags[key] = text
    table.at[at, "flags"] = json.dumps(flags, ensure_ascii=False)
    report.flags[key] = report.flags.get(key, 0) + 1
    if listed:
        report.problems.append({"feature": int(table.at[at, "feature_no"]), "patch_code": table.at[at, "patch_code"],
                                "problem": _flag_problem(key, text)})


def _accepted_rows(frame, offset, check, area_mu, planar_mu, mapping, reader_problems, report) -> pd.DataFrame:
    """This chunk's importable features as patch rows; rejections and flags go to ``report``."""
    n = len(frame)
    codes = mapping.patch_code.to_numpy(dtype=object)
    issued = mapping.issued_area_mu.to_numpy(dtype=float)
    cultivated = mapping.cultivated_mu.to_numpy(dtype=float)
    problems = dict(check.problems)
    for i in np.flatnonzero(["/" in str(c) for c in codes]):
        problems[int(i)] = note("imports.problem_code_slash", code=codes[i])
    for position, message in reader_problems.items():
        if offset <= position < offset + n:
            problems[position - offset] = message
    flags = check.flags
    for i, extra in enumerate(area_flags(area_mu, issued, cultivated, planar_mu)):
        flags[i].update(extra)
    for i in np.flatnonzero(mapping.generated_code):
        flags[i]["generated_code"] = note("imports.flag_generated_code", code=codes[i])
    for i in np.flatnonzero(mapping.file_code):
        flags[i]["code_from_file"] = note("imports.flag_code_from_file", code=codes[i])
    report.rejected += [_problem(offset + i, codes[i], problems[i]) for i in sorted(problems)]
    ok = np.ones(n, dtype=bool)
    ok[list(problems)] = False
    for i in np.flatnonzero(ok):
        for key, text in flags[i].items():
            report.flags[key] = report.flags.get(key, 0) + 1
            report.problems.append(_problem(offset + int(i), codes[i], _flag_problem(key, text)))
    attrs = [a for a, keep in zip(attributes_json(frame), ok) if keep]
    geoms = check.geometries[ok]
    report.accepted += int(ok.sum())
    report.area_mu += float(area_mu[ok].sum())
    if np.isfinite(issued[ok]).any():
        report.issued_area_mu = (report.issued_area_mu or 0.0) + float(np.nansum(issued[ok]))
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
        "area_basis": stated_area_basis(area_mu[ok], issued[ok], planar_mu[ok]),
    })
    table["geom"] = geoms
    return table


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
        report.fields["cultivated_area"] = note("imports.decision.cultivated_computed")


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
    table = table.drop(columns=["area_basis"])
    table["version"] = (previous["version"].fillna(0).astype(int) + 1).to_numpy()
    table["status"] = previous["status"].fillna("issued").to_numpy()
    table["batch_id"] = batch_id
    table["import_id"] = import_id
    if previous["lineage_id"].notna().any():  # a re-issue: new versions carry on their patch's life
        table["status_on"] = [None if pd.isna(d) else d for d in previous["status_on"]]
        table["lineage_id"] = pd.array([None if pd.isna(v) else int(v) for v in previous["lineage_id"]],
                                       dtype="Int64")
        table["deadline"] = [None if pd.isna(d) else d for d in previous["deadline"]]
        _carry_state(table, previous)
    repo.insert_patches(store, conn, table)


def _carry_state(table: pd.DataFrame, previous: pd.DataFrame) -> None:
    """A new version keeps its patch's folded state; the rectified area stays capped at the
    patch's area, now the new version's (as :func:`~geo_tracker.core.lifecycle.fold` caps it)."""
    rectified = previous["rectified_mu"].fillna(0.0).to_numpy(dtype=float)
    table["rectified_mu"] = np.minimum(rectified, table["area_mu"].to_numpy(dtype=float))
    table["rectified_cultivated_mu"] = previous["rectified_cultivated_mu"].fillna(0.0).to_numpy(dtype=float)
    table["verified"] = [None if pd.isna(v) else v for v in previous["verified"]]
    table["case_numbers"] = [json.dumps(c if isinstance(c, list) else [], ensure_ascii=False)
                             for c in previous["case_numbers"]]
