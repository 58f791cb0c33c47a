"""The dossier (举证材料) of a patch: what a county reviewer reads before approving its 销号.

A township applies to the county to close a patch with its evidence: the photos, the
verification, the rectification records, the cases. This use case gathers them from the
existing services (:func:`~.patches.show_patch`, :func:`~.tracking.patch_history`, the
evidence folder, :func:`~.cases.list_cases`) into one plain dict, and has
:mod:`geo_tracker.reports.dossier` lay it out as a Word file. Voided records are left
out: the reviewer reads what stands. ``villages`` is the user's scope, as elsewhere: a
patch outside it is not found.
"""

from __future__ import annotations

import zipfile
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from io import BytesIO
from pathlib import Path

import geopandas as gpd
import shapely

from ..catalogue import msg
from ..errors import ConflictError, InputFileError, InvalidValueError
from ..io.profiles import labelled_attributes
from ..reports.dossier import write_dossier_docx
from ..store import Store
from ..store import admin_units as units_repo
from ..core.review import REVIEW_EVENTS
from . import tracking
from .batches import show_batch
from .boundaries import village_units
from .cases import list_cases
from .imagery import pair_picture
from .patches import list_patches, show_patch

#: Villages this close to the patch's own (degrees, ~10 m) count as its neighbours on the map.
NEIGHBOUR_DEGREES = 1e-4
#: Characters a file name on an office PC may not hold, replaced in the zip's member names.
UNSAFE_NAME_CHARS = '\\/:*?"<>|'


@dataclass(frozen=True)
class Surroundings:
    """The villages valid on a day and the names of their townships, loaded once per batch."""

    villages: gpd.GeoDataFrame
    townships: dict[str, str]


def review_history(store: Store, ref: str, *, villages: Collection[str] | None = None) -> list[dict]:
    """The patch's review events (``submitted``, ``review_returned``, ``review_approved`` …), oldest first.

    Each is a :func:`~.tracking.patch_history` entry; the payload carries ``level``, ``reason``,
    ``reason_codes`` and ``round``. Voided ones are left out.
    """
    return [e for e in _standing_events(store, _label(store, ref, villages)) if e["kind"] in REVIEW_EVENTS]


def _label(store: Store, ref: str, villages) -> str:
    """``BATCH/CODE`` of the patch ``ref`` names within ``villages`` (not found outside them)."""
    patch = show_patch(store, ref, villages=villages)
    return f"{patch['batch']}/{patch['patch_code']}"


def _standing_events(store: Store, label: str) -> list[dict]:
    """The patch's events that stand: neither voided nor voids."""
    return [e for e in tracking.patch_history(store, label) if e["voided_by"] is None and e["kind"] != "void"]


def load_surroundings(store: Store, day: date | None = None) -> Surroundings:
    """The villages (with boundaries) valid on ``day`` and their townships' names; today's when none were."""
    found = village_units(store, valid_on=day) if day else village_units(store)
    if found.empty and day:
        found = village_units(store)
    with store.engine.connect() as conn:
        townships = units_repo.load_units(conn, store, level="township")
    return Surroundings(found, dict(zip(townships["code"], townships["name"])))


def dossier_context(store: Store, ref: str, *, villages: Collection[str] | None = None,
                    surroundings: Surroundings | None = None, day: date | None = None) -> dict:
    """Everything the dossier shows, as plain values (geometries in EPSG:4490).

    Keys: ``patch`` (:func:`~.patches.show_patch`), ``outline``, ``map_villages`` (the patch's
    villages and their neighbours, for the map), ``attributes`` ((field, label, value)),
    ``imagery`` (the before/after figure, PNG, or None), ``verification``, ``rectifications``,
    ``photos``, ``cases``, ``reviews``, ``issuer`` (the
    township's 人民政府) and ``day`` (the date it is made).
    """
    patch = show_patch(store, ref, villages=villages)
    label = f"{patch['batch']}/{patch['patch_code']}"
    events = _standing_events(store, label)
    outline = shapely.geometry.shape(patch["geometry"])
    around = surroundings or load_surroundings(store, patch["issued_on"])
    return {
        "label": label, "patch": patch, "outline": outline,
        "map_villages": _map_villages(patch, outline, around.villages),
        "imagery": pair_picture(store, patch, villages),
        "attributes": labelled_attributes(patch["attrs"]),
        "verification": _verification(events),
        "rectifications": [_rectification(e) for e in events if e["kind"] == "rectified"],
        "photos": _photos(store, events),
        "cases": _cases(store, patch, villages),
        "reviews": [e for e in events if e["kind"] in REVIEW_EVENTS],
        "issuer": _issuer(patch, around),
        "day": day or date.today(),
    }


def _map_villages(patch: dict, outline, frame: gpd.GeoDataFrame) -> list[dict]:
    """The patch's villages (``own``; the nearest one ``frames`` the map when it lies outside them all)
    and every village touching them."""
    if frame.empty:
        return []
    own = {v["village_code"] for v in patch["villages"]}
    anchor_codes = own or ({patch["nearest_code"]} if patch.get("nearest_code") else set())
    anchor = frame[frame["code"].isin(anchor_codes)]
    centre = shapely.union_all([*anchor.geometry.values, outline])
    near = frame[shapely.dwithin(frame.geometry.values, centre, NEIGHBOUR_DEGREES)]
    return [{"code": r.code, "name": r.name, "geometry": r.geometry, "own": r.code in own,
             "frames": r.code in anchor_codes} for r in near.itertuples()]


def _issuer(patch: dict, around: Surroundings) -> str:
    """The township of the patch's main village, as the body that applies (…人民政府); '' when unknown."""
    code = patch.get("village_code") or patch.get("nearest_code")
    rows = around.villages[around.villages["code"] == code] if code else around.villages.iloc[0:0]
    name = around.townships.get(rows.iloc[0]["parent_code"]) if len(rows) else None
    if name is None and len(around.townships) == 1:
        name = next(iter(around.townships.values()))
    return f"{name}人民政府" if name else ""


def _verification(events: list[dict]) -> dict | None:
    """The standing verification (核查): the latest one, with who verified and who recorded it."""
    found = [e for e in events if e["kind"] == "verified"]
    if not found:
        return None
    last = found[-1]
    payload = last["payload"] or {}
    return {"result": payload.get("result"), "on": last["occurred_on"], "cadre": payload.get("cadre"),
            "actor": last["actor"], "note": payload.get("note")}


def _rectification(event: dict) -> dict:
    """One standing rectification record as the dossier lists it."""
    payload = event["payload"] or {}
    return {"on": event["occurred_on"], "measure": payload.get("measure"), "area_mu": payload.get("area_mu"),
            "cultivated_mu": payload.get("cultivated_mu"), "full": bool(payload.get("full")),
            "drawn": bool(payload.get("geometry_wkt")), "note": payload.get("note"), "actor": event["actor"],
            "before_mu": (payload.get("before") or {}).get("rectified_mu") or 0.0,
            "photos": len(payload.get("evidence") or [])}


def _photos(store: Store, events: list[dict]) -> list[dict]:
    """Each evidence file once, in the order recorded, with where it is kept (None once it is gone)."""
    seen, photos = set(), []
    for event in events:
        payload = event["payload"] or {}
        for item in payload.get("evidence") or []:
            sha = item.get("sha256")
            if not sha or sha in seen:
                continue
            seen.add(sha)
            photos.append({**item, "path": tracking.evidence_path(store, sha), "on": event["occurred_on"],
                           "kind": event["kind"], "measure": payload.get("measure")})
    return photos


def _cases(store: Store, patch: dict, villages) -> list[dict]:
    """The cases linked to the patch, in the patch's order, with their state today."""
    numbers = list(patch.get("case_numbers") or [])
    if not numbers:
        return []
    rows = {r["case_no"]: r for r in list_cases(store, villages=villages) if r["case_no"] in numbers}
    return [rows[n] for n in numbers if n in rows]


def _checked_target(path, suffix: str) -> Path:
    """An output file with the right suffix in a folder that exists, checked before anything is gathered."""
    path = Path(path)
    if path.suffix.lower() != suffix:
        raise InvalidValueError(msg("dossier.bad_suffix", suffix=suffix, path=path), field="output")
    if not path.parent.is_dir():
        raise InputFileError(msg("dossier.no_folder", folder=path.parent))
    return path


def write_dossier(store: Store, ref: str, target, *, villages: Collection[str] | None = None,
                  day: date | None = None) -> dict:
    """Write the patch's dossier to ``target`` (a ``.docx`` path, or a binary file object).

    Returns what was written: the patch (``BATCH/CODE``), the number of photos embedded and
    of the sections printed.
    """
    if isinstance(target, (str, Path)):
        target = _checked_target(target, ".docx")
    context = dossier_context(store, ref, villages=villages, day=day)
    if isinstance(target, Path):
        partial = target.with_name(target.name + ".part")          # never half a document under its name
        try:
            written = write_dossier_docx(context, partial)
            partial.replace(target)
        finally:
            partial.unlink(missing_ok=True)
    else:
        written = write_dossier_docx(context, target)
    return {"patch": context["label"], "code": context["patch"]["patch_code"], **written}


def dossier_bytes(store: Store, ref: str, *, villages: Collection[str] | None = None) -> tuple[bytes, str]:
    """The dossier as bytes and the file name to offer it under (图斑编号举证材料.docx), for a download."""
    buffer = BytesIO()
    done = write_dossier(store, ref, buffer, villages=villages)
    return buffer.getvalue(), f"{safe_file_name(done['code'])}举证材料.docx"


def safe_file_name(code: str) -> str:
    """A patch code as a file name Windows accepts."""
    return "".join("_" if c in UNSAFE_NAME_CHARS or ord(c) < 32 else c for c in code).strip(" .") or "_"


def write_batch_dossiers(store: Store, name: str, path, *, source: str | None = None,
                         villages: Collection[str] | None = None, day: date | None = None) -> dict:
    """A zip of one dossier per current patch of the batch, each named by its code (``CODE.docx``).

    Written to ``FILE.zip.part`` and renamed once complete, so a half-written zip never looks
    finished. ``source`` is needed when two sources use the batch's name.
    """
    path = _checked_target(path, ".zip")
    batch = show_batch(store, name, source, villages=villages)
    codes = sorted(list_patches(store, batch=batch["name"], source=batch["source"], villages=villages)["patch_code"])
    if not codes:
        raise ConflictError(msg("dossier.batch_empty", batch=name))
    around = load_surroundings(store, units_repo.as_date(batch["issued_on"]))
    partial = path.with_name(path.name + ".part")
    photos = 0
    try:
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
            for code in codes:
                buffer = BytesIO()
                context = dossier_context(store, f"{batch['name']}/{code}", villages=villages,
                                          surroundings=around, day=day)
                photos += write_dossier_docx(context, buffer)["photos"]
                archive.writestr(f"{safe_file_name(code)}.docx", buffer.getvalue())
        partial.replace(path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return {"batch": batch["name"], "source": batch["source"], "path": str(path), "patches": len(codes),
            "photos": photos}
