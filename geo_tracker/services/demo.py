"""The demo: a fresh database running the job so far on the shipped sample data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import geopandas as gpd

from ..errors import GeoTrackerError, InputFileError
from ..store import open_store, parse_url
from .batches import ImportOptions, ImportReport, import_batch, list_batches
from .boundaries import BoundaryOptions, BoundaryReport, import_boundaries
from .patches import list_patches
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


@dataclass
class DemoResult:
    boundaries: list[BoundaryReport]
    imports: list[ImportReport]
    batches: list[dict]
    patches: gpd.GeoDataFrame
    info: dict


def run_demo(url: str | None = None, data_dir: Path = DATA_DIR) -> DemoResult:
    """Build the demo database from scratch, import the sample batches, return what it holds.

    A SpatiaLite demo file is recreated on every run. A PostgreSQL database must be
    empty of geo_tracker data, so the demo never mixes with real records.
    """
    url = url or f"sqlite:///{DEMO_DB_FILE}"
    missing = [name for name, _ in SAMPLE_BOUNDARIES + SAMPLE_BATCHES if not (data_dir / name).exists()]
    if missing:
        raise InputFileError(
            f"the demo's sample data is missing from {data_dir} ({', '.join(missing)}): run the demo "
            "from a clone of the repository, or rebuild it with scripts/make_sample_batches.py"
        )
    backend, sa_url = parse_url(url)
    if backend == "spatialite":
        path = Path(sa_url.database)
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    init_database(url)
    with open_store(url) as store:
        counts = database_info(store)["counts"]
        if any(counts.values()):
            raise GeoTrackerError(
                f"the demo needs an empty database, but {store.display_url} already holds "
                f"data ({counts}): give the demo its own database with --db"
            )
        boundaries = [import_boundaries(store, data_dir / name, BoundaryOptions(level=level))
                      for name, level in SAMPLE_BOUNDARIES]
        imports = [import_batch(store, data_dir / name, ImportOptions(**opts)) for name, opts in SAMPLE_BATCHES]
        return DemoResult(boundaries, imports, list_batches(store), list_patches(store), database_info(store))
