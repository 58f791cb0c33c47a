"""The demo: a fresh database running the job so far on the shipped sample data."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import geopandas as gpd

from ..catalogue import msg
from ..errors import ConflictError, InputFileError
from ..store import open_store
from ..store.url import remove_database_file
from .batches import ImportOptions, ImportReport, import_batch, list_batches
from .boundaries import BoundaryOptions, BoundaryReport, import_boundaries, list_boundaries
from .cases import close_case, decide_case, open_case
from .maps import make_map
from .patches import list_patches
from .report import write_report
from .stats import compute_stats
from .review import review_patch, set_policy, submit_patch
from .imagery import import_imagery
from .tracking import rectify_patch, verify_patch
from .database import database_info, init_database

DEMO_DB_FILE = "geo_tracker_demo.sqlite"
#: The repository's data/ folder (the demo runs from a clone).
DATA_DIR = Path(__file__).resolve().parents[2] / "data"

#: The sample boundaries, coarse to fine.
SAMPLE_BOUNDARIES = [
    ("boundaries/北碚区.shp", "county"),
    ("boundaries/澄江镇.shp", "township"),
    ("boundaries/澄江镇村界.shp", "village"),
]
#: The sample deliveries and what the liaison says about each.
SAMPLE_BATCHES = [
    ("batches/2023年卫片执法第2批.zip",
     dict(source="natural-resources", batch="2023年卫片执法第2批", issued_on=date(2023, 6, 30),
          deadline=date(2023, 12, 31))),
    ("batches/2023年森林督查.zip",
     dict(source="forestry", batch="2023年森林督查", issued_on=date(2023, 5, 15),
          deadline=date(2023, 11, 30))),
]

#: The synthetic before/after pair over patch 500109202302002, 待审核 (scripts/make_demo_imagery.py).
DEMO_PAIR_PATCH = "2023年卫片执法第2批/500109202302002"
SAMPLE_IMAGERY = [
    ("imagery/澄江镇_20221015_前时相.tif", dict(acquired_on=date(2022, 10, 15), label="前时相", name="澄江镇 2022年秋季影像")),
    ("imagery/澄江镇_20230420_后时相.tif", dict(acquired_on=date(2023, 4, 20), label="后时相", name="澄江镇 2023年春季影像")),
]


#: The demo township's 2023: who verified what, cases, rectification (dates and measures).
NR_BATCH = "2023年卫片执法第2批"
FORESTRY_BATCH = "2023年森林督查"
NR_CASES = [  # case number, violation, act, patch indices (0-based) of the natural-resources batch
    ("澄江镇综执罚〔2023〕21号", "非法占用土地", "搭建农用设施", [0, 1, 2]),
    ("澄江镇综执罚〔2023〕22号", "改变土地用途", "建坟", [3, 4]),
    ("澄江镇综执罚〔2023〕23号", "非法占用土地", "开路", [5, 6, 7]),
    ("澄江镇综执罚〔2023〕24号", "改变土地用途", "搭建农用设施", [8, 9, 10]),
    ("澄江镇综执罚〔2023〕25号", "非法占用土地", "建房", [11, 12]),
]
FORESTRY_ACTS = ["建坟", "建房", "开路", "建坟", "开路", "建坟", "建房", "建坟", "开路", "建坟", "建房", "开路"]


def _demo_year(store) -> None:
    """Verification, cases, rectification and closure as the township recorded them in 2023: the
    county reviews both sources before 销号, so every closure is a submission the county approved."""
    for source in ("natural-resources", "forestry"):
        set_policy(store, source, "county", user="县自然资源局")
    nr = [row.patch_code for row in list_patches(store, batch=NR_BATCH).itertuples()]
    for i, code in enumerate(nr):
        result = "legal" if i >= 13 else "illegal"
        verify_patch(store, f"{NR_BATCH}/{code}", result, date(2023, 7, 10 + i % 5), cadre="村两委核查",
                     user="自然资源联络员")
    for case_no, violation, act, members in NR_CASES:
        open_case(store, case_no, date(2023, 7, 20), patches_refs=[f"{NR_BATCH}/{nr[i]}" for i in members],
                  violation=violation, act=act, user="执法队")
    for i, code in enumerate(nr[:11]):
        measure = "restore_farmland" if i in (1, 4, 9) else "demolition"
        rectify_patch(store, f"{NR_BATCH}/{code}", date(2023, 8 + i % 4, 5 + i), measure, full=True, user="执法队")
    for i in (13, 14):
        _closed_by_review(store, f"{NR_BATCH}/{nr[i]}", date(2023, 8, 25), date(2023, 9, 1), note="设施农用地备案")
    for i in range(11):
        if i % 2 == 0:
            _closed_by_review(store, f"{NR_BATCH}/{nr[i]}", date(2023, 12, 5), date(2023, 12, 15),
                              returned_on=date(2023, 12, 8) if i == 4 else None)
    submit_patch(store, f"{NR_BATCH}/{nr[3]}", date(2023, 12, 10), user="执法队")
    review_patch(store, f"{NR_BATCH}/{nr[3]}", "return", date(2023, 12, 18), reason="西侧硬化地面未清除",
                 reason_codes=["未完全拆除"], user="县自然资源局")
    submit_patch(store, f"{NR_BATCH}/{nr[1]}", date(2023, 12, 22), note="已复耕", user="执法队")
    for case_no, *_ in NR_CASES[:4]:
        decide_case(store, case_no, date(2023, 8, 15), fine_yuan=12000.0)
        close_case(store, case_no, date(2023, 12, 20))

    forest = [row.patch_code for row in list_patches(store, batch=FORESTRY_BATCH).itertuples()]
    for i, code in enumerate(forest):
        ref = f"{FORESTRY_BATCH}/{code}"
        verify_patch(store, ref, "illegal", date(2023, 6, 1), user="林业站")
        violation = "擅自开垦林地" if FORESTRY_ACTS[i] == "开路" else "擅自改变林地用途"
        open_case(store, f"澄江镇林罚〔2023〕{i + 1}号", date(2023, 6, 20), patches_refs=[ref],
                  violation=violation, act=FORESTRY_ACTS[i], user="执法队")
        rectify_patch(store, ref, date(2023, 9, 1 + i), "regreen", full=True, user="执法队")
        decide_case(store, f"澄江镇林罚〔2023〕{i + 1}号", date(2023, 7, 15), fine_yuan=2000.0 + 500 * (i % 3))


def _closed_by_review(store, ref: str, submitted_on: date, approved_on: date, *, note: str | None = None,
                      returned_on: date | None = None) -> None:
    """申请销号 by the township, 审核通过 by the county (after one return, when ``returned_on``)."""
    submit_patch(store, ref, submitted_on, note=note, user="执法队")
    if returned_on:
        review_patch(store, ref, "return", returned_on, reason="整改后照片不清晰，请补拍", reason_codes=["照片不清晰"],
                     user="县自然资源局")
        submit_patch(store, ref, returned_on + timedelta(days=2), note="已补拍照片", user="执法队")
    review_patch(store, ref, "approve", approved_on, user="县自然资源局")


@dataclass
class DemoResult:
    boundaries: list[BoundaryReport]
    imports: list[ImportReport]
    batches: list[dict]
    patches: gpd.GeoDataFrame
    info: dict
    stats: dict
    report_files: list[Path]
    accounts: list[dict]
    password: str
    imagery: list[dict] = field(default_factory=list)


def run_demo(url: str | None = None, data_dir: Path = DATA_DIR, output_dir: Path | None = None,
             map_path: Path | None = None) -> DemoResult:
    """Build the demo database from scratch, import the sample batches, return what it holds.

    A SpatiaLite demo file is recreated on every run. A PostgreSQL database must be
    empty of geo_tracker data, so the demo never mixes with real records.
    """
    url = url or f"sqlite:///{DEMO_DB_FILE}"
    missing = [name for name, _ in SAMPLE_BOUNDARIES + SAMPLE_BATCHES + SAMPLE_IMAGERY
               if not (data_dir / name).exists()]
    if missing:
        raise InputFileError(msg("imports.demo_data_missing", folder=data_dir, files=", ".join(missing)))
    remove_database_file(url)
    init_database(url)
    with open_store(url) as store:
        counts = database_info(store)["counts"]
        if any(counts.values()):
            raise ConflictError(msg("storage.demo_needs_empty", url=store.display_url, counts=counts))
        boundaries = [import_boundaries(store, data_dir / name, BoundaryOptions(level=level))
                      for name, level in SAMPLE_BOUNDARIES]
        imports = [import_batch(store, data_dir / name, ImportOptions(**opts)) for name, opts in SAMPLE_BATCHES]
        _demo_year(store)
        imagery = [layer for name, opts in SAMPLE_IMAGERY
                   for layer in import_imagery(store, data_dir / name, user="自然资源联络员", **opts).imported]
        stats = compute_stats(store, year=2023, by=["source"])
        files = []
        if output_dir is not None:
            output_dir.mkdir(parents=True, exist_ok=True)
            for fmt in ("docx", "md"):
                path = output_dir / f"2023年图斑整改报告.{fmt}"
                write_report(store, path, fmt, year=2023)
                files.append(path)
        if map_path is not None:
            files.append(Path(make_map(store, map_path, as_of=date(2023, 12, 31))["file"]))
        password = secrets.token_urlsafe(9)
        townships = list_boundaries(store, level="township")
        township = townships[0]["code"] if townships else None
        counties = list_boundaries(store, level="county")
        people = _demo_accounts(store, password, township, counties[0]["code"] if counties else None)
        return DemoResult(boundaries, imports, list_batches(store), list_patches(store), database_info(store),
                          stats, files, people, password, imagery)


def _demo_accounts(store, password: str, township: str | None, county: str | None) -> list[dict]:
    """One account per role, all with the password the demo prints; the enforcer sees one township,
    the reviewer (the county's) the county."""
    from .accounts import add_user

    township = township or "*"
    return [add_user(store, name, password, role, units, display_name=label)
            for name, role, units, label in (
                ("admin", "admin", ["*"], "管理员"),
                ("liaison", "liaison", ["*"], "自然资源联络员"),
                ("enforcer", "enforcer", [township], "执法队员"),
                ("viewer", "viewer", ["*"], "查看者"),
                ("reviewer", "reviewer", [county or "*"], "县自然资源局审核员"))]
