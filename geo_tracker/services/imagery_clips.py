"""The image clips a delivery carries (前时相/后时相 截图): fields such as QSIMG and HSIMG name, for
each patch, an image file inside the zip; each clip is matched to its stored patch by the patch
code and dated by the feature's QSX/HSX."""

from __future__ import annotations

import zipfile
from contextlib import ExitStack, contextmanager
from datetime import date
from pathlib import Path, PurePosixPath

import pandas as pd

from ..catalogue import Listing, msg
from ..core.imagery import AFTER_DATE_FIELDS, AFTER_LABEL, BEFORE_DATE_FIELDS, BEFORE_LABEL, attribute_date
from ..errors import InputFileError, NotFoundError
from ..io.archive import extracted
from ..io.imagery import MBTILES_SUFFIXES, RASTER_SUFFIXES
from ..io.profiles import detect_profile, pick_field
from ..io.readers import find_datasets, read_delivery
from ..store import Store
from ..store import events as events_repo

#: Problems listed in one error at most.
SHOWN = 10


def is_delivery(path: Path) -> bool:
    """A zip or folder (not a File Geodatabase, KMZ, GeoPackage or MBTiles): a delivery with clips."""
    if path.is_dir():
        return path.suffix.lower() != ".gdb"
    return (path.is_file() and path.suffix.lower() not in (".kmz", ".gpkg", *MBTILES_SUFFIXES)
            and zipfile.is_zipfile(path))


@contextmanager
def delivery_clips(store: Store, path: Path, *, acquired_on: date | None, batch: str | None):
    """The clips of a delivery as :class:`~.imagery.Wanted` images (their files live until the block
    ends). Every clip must exist, have a date and belong to a stored patch, else nothing is kept."""
    from .imagery import Wanted

    with ExitStack() as stack:
        root = stack.enter_context(extracted(path)) if path.is_file() else path
        if not find_datasets(root):
            raise InputFileError(msg("imagery.no_patches_in_zip", file=path.name))
        delivery = read_delivery(path)
        frame, dataset = delivery.frame, delivery.source.dataset
        columns = [c for c in frame.columns if c != "geometry"]
        fields = image_fields(frame, columns)
        if not fields:
            raise InputFileError(msg("imagery.no_clip_fields", file=path.name, fields=", ".join(columns)))
        code_field = pick_field(columns, None, detect_profile(columns, delivery.source.driver).id_fields,
                                "--id-field", dataset)
        if code_field is None:
            raise InputFileError(msg("imagery.no_code_field", file=path.name, fields=", ".join(columns)))
        wanted, problems = [], []
        files = {p.relative_to(root).as_posix(): p for p in root.rglob("*") if p.is_file()}
        with store.engine.connect() as conn:
            for position, row in frame.iterrows():
                found, trouble = _clips_of(conn, store, files, row, fields, code_field, acquired_on, batch,
                                           feature=position + 1)
                wanted.extend(Wanted(**w) for w in found)
                problems.extend(trouble)
        if problems:
            raise InputFileError(msg("imagery.clips_refused", file=path.name, count=len(problems),
                                     shown=Listing(problems[:SHOWN])))
        yield wanted


def image_fields(frame: pd.DataFrame, columns: list[str]) -> list[tuple[str, str]]:
    """(field, label) of the attributes that name image files, 前时相 / 后时相 by the field's name."""
    found = []
    for column in columns:
        values = frame[column].dropna().astype(str).str.strip()
        if not values.str.lower().str.endswith(RASTER_SUFFIXES).any():
            continue
        upper = column.upper()
        label = (BEFORE_LABEL if upper.startswith("QS") or "前" in column else
                 AFTER_LABEL if upper.startswith("HS") or "后" in column else column)
        found.append((column, label))
    return found


def _clips_of(conn, store, files: dict, row, fields, code_field, acquired_on, batch, *, feature: int):
    code = str(row[code_field]).strip()
    attrs = {k: row[k] for k in row.index if k != "geometry"}
    found, problems = [], []
    patch = None
    for column, label in fields:
        value = str(row[column] or "").strip()
        if not value or value.lower() in ("nan", "none"):
            continue
        clip = resolve_clip(files, value)
        day = attribute_date(attrs, BEFORE_DATE_FIELDS if label == BEFORE_LABEL else AFTER_DATE_FIELDS
                             if label == AFTER_LABEL else ()) or acquired_on
        if clip is None:
            problems.append(msg("imagery.clip_missing", feature=feature, code=code, field=column, value=value))
            continue
        if day is None:
            problems.append(msg("imagery.clip_no_date", feature=feature, code=code, field=column))
            continue
        if patch is None:
            try:
                patch = events_repo.find_patch(conn, store, f"{batch}/{code}" if batch else code)
            except NotFoundError:
                problems.append(msg("imagery.clip_no_patch", feature=feature, code=code))
                return [], problems
        found.append({"path": clip, "acquired_on": day, "label": label, "name": f"{code} {label}",
                      "patch_id": patch["id"], "patch": patch["label"]})
    return found, problems


def resolve_clip(files: dict[str, Path], value: str) -> Path | None:
    """The file a clip field names among a delivery's ``files`` (relative path -> file): the longest
    ending of the path that names exactly one of them, so ``D:\\卫片\\QS\\001.jpg`` finds ``QS/001.jpg``
    beside ``HS/001.jpg`` (Windows separators and drive letters allowed); None when nothing, or
    several files equally, fit."""
    parts = [p for p in PurePosixPath(value.replace("\\", "/")).parts if p not in ("/", "", ".", "..")]
    parts = parts[1:] if parts and parts[0].endswith(":") else parts
    for start in range(len(parts)):
        ending = "/".join(parts[start:])
        found = [f for rel, f in files.items() if rel == ending or rel.endswith("/" + ending)]
        if found:
            return found[0] if len(found) == 1 else None
    return None
