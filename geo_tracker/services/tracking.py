"""Tracking a patch through its life: verify, rectify, close, void; history; state as of a date.

Every action is a dated, attributed event in the same transaction as the patch's
projected status; nothing is overwritten. An action may be back-dated, even before
the patch's last event: it must be allowed by the patch's status on its date, and
the whole history, replayed in date order, must still be valid
(:func:`~geo_tracker.core.lifecycle.validate_history`), else nothing is recorded.
"""

from __future__ import annotations

import getpass
import io
import os
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from ..catalogue import Listing, msg
from ..core.area import CGCS2000_GEOD, geodesic_area_mu
from ..core.clock import office_today
from ..core.geometry import normalise_polygons
from ..core.review import LEVELS, REVIEW_ANSWERS
from ..core.lifecycle import (
    AREA_EPSILON_MU,
    LIFECYCLE_EVENTS,
    MEASURE_LABELS,
    MEASURES,
    RESULT_WORDS,
    VERIFY_RESULTS,
    check_transition,
    fold,
    validate_history,
)
from ..errors import (
    BatchImportError, ConflictError, FieldMappingError, GeoTrackerError, InputFileError, InvalidValueError,
    NotFoundError, PermissionDeniedError,
)
from ..io.encoding import decode_text
from ..io.evidence import store_evidence
from ..io.readers import read_delivery
from ..store import Store
from ..store import events as repo
from ..store import evidence as evidence_repo
from ..store import field as field_repo
from ..store import review as review_repo

#: A rectified-part geometry may stick out of its patch by this share of its area.
OUTSIDE_TOLERANCE = 0.01


def actor(user: str | None = None) -> str:
    """Who acts: --user, else $GEO_TRACKER_USER, else the OS user."""
    if user:
        return user
    try:
        return os.environ.get("GEO_TRACKER_USER") or getpass.getuser()
    except Exception:  # no login name in some containers
        return "unknown"


def folded_state(conn, patch: dict, as_of: date | None = None, known_at: datetime | None = None) -> dict:
    """The patch's lifecycle state (status, rectified areas, ...) folded from its lineage's events."""
    events = repo.lineage_events(conn, [patch["lineage_id"]])
    frame = pd.DataFrame([{"patch": patch["lineage_id"], "area_mu": patch["area_mu"],
                           "issued_on": patch["issued_on"]}])
    return fold(events, frame, as_of, known_at).iloc[0].to_dict()


def _validate(conn, patch: dict) -> None:
    events = repo.lineage_events(conn, [patch["lineage_id"]])
    validate_history(events, patch["area_mu"], patch["cultivated_mu"], patch["label"])


def check_event_date(patch: dict, on: date) -> None:
    """An event on a patch happens between its issue and today, the office's today (``GEO_TRACKER_TZ``,
    Beijing time by default) or the server's if that is later."""
    if on < patch["issued_on"]:
        raise InvalidValueError(msg("tracking.before_issue", on=on, label=patch["label"], issued=patch["issued_on"]))
    if on > max(date.today(), office_today(zone=os.environ.get("GEO_TRACKER_TZ"))):
        raise InvalidValueError(msg("tracking.in_future", on=on))


def apply_event(conn, patch: dict, *, kind: str, on: date, user: str | None, payload: dict,
                expected_version: int | None, case_id: int | None = None, action_key: str | None = None) -> dict:
    """Record one lifecycle event on the patch, check the history it makes, store the new state.
    ``action_key`` (the field app's id of an offline action) is bound to the event here, so an
    action sent twice is recorded once."""
    before = folded_state(conn, patch)
    event_id = repo.insert_event(conn, kind=kind, occurred_on=on, actor=actor(user), payload=payload,
                                 patch_id=patch["lineage_id"], batch_id=patch["batch_id"], case_id=case_id)
    if action_key:
        field_repo.claim(conn, action_key, event_id, actor(user))
    _validate(conn, patch)
    after = folded_state(conn, patch)
    repo.update_state(conn, patch, after, expected_version)
    return {"event_id": event_id, "patch": patch["label"], "before": before["status"], "status": after["status"],
            "status_on": after["status_on"], "rectified_mu": after["rectified_mu"],
            "rectified_cultivated_mu": after["rectified_cultivated_mu"]}


def verify_patch(store: Store, ref: str, result: str, on: date, *, note: str | None = None,
                 cadre: str | None = None, user: str | None = None, expected_version: int | None = None,
                 evidence=(), action_key: str | None = None) -> dict:
    """Record the field verification (核查) of a patch: legal, no_change or illegal."""
    result = RESULT_WORDS.get(str(result).strip(), result)
    if result not in VERIFY_RESULTS:
        raise InvalidValueError(msg("tracking.bad_result", result=result, choices=", ".join(VERIFY_RESULTS)))
    with store.transaction() as conn:
        return _verify(conn, store, ref, result, on, note, cadre, user, expected_version, evidence, action_key)


def _verify(conn, store, ref, result, on, note, cadre, user, expected_version, evidence=(), action_key=None) -> dict:
    patch = repo.find_patch(conn, store, ref)
    check_event_date(patch, on)
    state = folded_state(conn, patch, as_of=on)
    check_transition("verify", state["status"], patch["label"])
    payload = {"result": result, "note": note, "cadre": cadre,
               "before": {"status": state["status"]}, "after": {"status": result}}
    if evidence:
        payload["evidence"] = [record_evidence(conn, store, f, patch) for f in evidence]
    return apply_event(conn, patch, kind="verified", on=on, user=user, payload=payload,
                       expected_version=expected_version, action_key=action_key)


def close_patch(store: Store, ref: str, on: date, *, note: str | None = None, approval_ref: str | None = None,
                user: str | None = None, expected_version: int | None = None) -> dict:
    """Close (销号) a patch that is legal, unchanged or fully rectified, where its source has no
    review policy (else it is submitted: services/review.py); ``approval_ref`` is the county's
    批准文号 for the 销号 this records."""
    with store.transaction() as conn:
        patch = repo.find_patch(conn, store, ref)
        check_event_date(patch, on)
        levels = review_repo.levels(conn, patch["source"])
        if levels:
            raise ConflictError(msg("review.close_refused", label=patch["label"],
                                    levels="、".join(LEVELS[lv] for lv in levels)))
        state = folded_state(conn, patch, as_of=on)
        check_transition("close", state["status"], patch["label"])
        payload = {"note": note, "approval_ref": (approval_ref or "").strip() or None,
                   "before": {"status": state["status"]}, "after": {"status": "closed"}}
        return apply_event(conn, patch, kind="closed", on=on, user=user, payload=payload,
                           expected_version=expected_version)


def _part_area(path: str | Path, patch: dict) -> tuple[float, str]:
    """Area (亩) of a rectified part drawn in a file, checked to lie within the patch."""
    delivery = read_delivery(path)
    check = normalise_polygons(delivery.frame.geometry.values)
    if check.problems:
        first = min(check.problems)
        raise InputFileError(msg("tracking.part_feature", file=Path(path).name, feature=first + 1,
                                 problem=check.problems[first]))
    part = shapely.union_all(check.geometries)
    area = float(geodesic_area_mu([part])[0])
    outside = float(geodesic_area_mu([shapely.difference(part, patch["geom"])])[0])
    if outside > OUTSIDE_TOLERANCE * area + AREA_EPSILON_MU:
        raise InvalidValueError(msg("tracking.part_outside", file=Path(path).name, outside=outside, area=area,
                                    label=patch["label"]))
    return area, shapely.to_wkt(part, rounding_precision=9)


def _drawn_area(drawn: dict, patch: dict) -> tuple[float, str]:
    """Area (亩) of a part sketched on the map over the patch (GeoJSON, lon/lat): what lies in the patch counts."""
    try:
        sketch = shapely.geometry.shape(drawn)
    except Exception:
        raise InvalidValueError(msg("tracking.drawn_not_polygon"), field="drawn") from None
    check = normalise_polygons(np.array([sketch], dtype=object))
    if check.problems:
        raise InvalidValueError(msg("tracking.drawn_invalid", problem=check.problems[0]), field="drawn")
    part = shapely.intersection(check.geometries[0], patch["geom"])
    area = float(geodesic_area_mu([part])[0]) if not part.is_empty else 0.0
    if area <= AREA_EPSILON_MU:
        raise InvalidValueError(msg("tracking.drawn_outside", label=patch["label"]), field="drawn")
    return area, shapely.to_wkt(part, rounding_precision=9)


def rectify_patch(store: Store, ref: str, on: date, measure: str, *, area_mu: float | None = None,
                  full: bool = False, geometry: str | Path | None = None, drawn: dict | None = None,
                  cultivated_mu: float | None = None, evidence=(), note: str | None = None,
                  user: str | None = None, expected_version: int | None = None, action_key: str | None = None) -> dict:
    """Record rectification (整改) of part or all of a patch, with its evidence.

    ``full`` rectifies everything not yet rectified, its cultivated land (耕地) included;
    ``geometry`` is a file holding the rectified part, ``drawn`` a part sketched on the map.
    """
    if measure not in MEASURES:
        raise InvalidValueError(msg("tracking.bad_measure", measure=measure, choices=", ".join(MEASURES)),
                                field="measure")
    if sum(x is not None and x is not False for x in (area_mu, geometry, drawn, full or None)) != 1:
        raise InvalidValueError(msg("tracking.one_amount"), field="area_mu")
    if area_mu is not None and area_mu <= 0:
        raise InvalidValueError(msg("tracking.area_not_positive", area=area_mu), field="area_mu")
    if cultivated_mu is not None and cultivated_mu < 0:
        raise InvalidValueError(msg("tracking.cultivated_negative", area=cultivated_mu), field="cultivated_mu")
    with store.transaction() as conn:
        patch = repo.find_patch(conn, store, ref)
        check_event_date(patch, on)
        state = folded_state(conn, patch, as_of=on)
        check_transition("rectify", state["status"], patch["label"])
        current = folded_state(conn, patch)
        remaining = patch["area_mu"] - current["rectified_mu"]
        part_wkt = None
        if full:
            area_mu = remaining
            limit = patch["cultivated_mu"]
            if cultivated_mu is None and limit is not None and not np.isnan(limit):
                cultivated_mu = max(limit - current["rectified_cultivated_mu"], 0.0)
        elif geometry is not None:
            area_mu, part_wkt = _part_area(geometry, patch)
        elif drawn is not None:
            area_mu, part_wkt = _drawn_area(drawn, patch)
        if area_mu > remaining + AREA_EPSILON_MU:
            raise InvalidValueError(msg("tracking.over_remaining", area=area_mu, label=patch["label"],
                                        total=current["rectified_mu"] + area_mu, whole=patch["area_mu"],
                                        remaining=max(remaining, 0)))
        if cultivated_mu:
            if cultivated_mu > area_mu + AREA_EPSILON_MU:
                raise InvalidValueError(msg("tracking.cultivated_over_record", cultivated=cultivated_mu, area=area_mu),
                                        field="cultivated_mu")
            limit = patch["cultivated_mu"]
            if limit is not None and not np.isnan(limit) and \
                    current["rectified_cultivated_mu"] + cultivated_mu > limit + AREA_EPSILON_MU:
                raise InvalidValueError(msg("tracking.cultivated_over_patch", label=patch["label"],
                                            total=current["rectified_cultivated_mu"] + cultivated_mu, limit=limit),
                                        field="cultivated_mu")
        stored = [record_evidence(conn, store, f, patch) for f in evidence]
        payload = {"measure": measure, "measure_label": MEASURE_LABELS[measure], "area_mu": area_mu,
                   "cultivated_mu": cultivated_mu, "full": bool(full), "geometry_wkt": part_wkt,
                   "evidence": stored, "note": note, "before": {"rectified_mu": current["rectified_mu"]},
                   "after": {"rectified_mu": current["rectified_mu"] + area_mu}}
        return apply_event(conn, patch, kind="rectified", on=on, user=user, payload=payload,
                           expected_version=expected_version, action_key=action_key)


#: A photo taken farther than this from its patch is marked (拍摄位置距图斑过远).
FAR_PHOTO_M = 100.0


def record_evidence(conn, store: Store, item, patch: dict) -> dict:
    """Keep an evidence file for the patch, with where it was taken and how far that is from the patch.

    ``item`` is a file, or a photo already uploaded (:mod:`.field_uploads`) given as a dict with its
    ``sha256`` and what the phone knew when it was taken (``taken_at``, ``lon``, ``lat``,
    ``accuracy_m``, ``heading``), which wins over the file's EXIF.
    """
    if isinstance(item, dict):
        return _cite_photo(conn, item, patch)
    stored = store_evidence(item, store.evidence_dir)
    evidence_repo.record(conn, stored.__dict__)
    return {"sha256": stored.sha256, "file_name": stored.file_name, "taken_at": stored.taken_at,
            "lon": stored.lon, "lat": stored.lat, "distance_to_patch_m": distance_to_patch(stored.lon, stored.lat, patch)}


def _cite_photo(conn, photo: dict, patch: dict) -> dict:
    row = evidence_repo.row(conn, str(photo.get("sha256") or ""))
    if row is None:
        raise InvalidValueError(msg("tracking.photo_not_uploaded", sha=photo.get("sha256"), label=patch["label"]),
                                field="photos")
    lon, lat = photo.get("lon", row["lon"]), photo.get("lat", row["lat"])
    distance = distance_to_patch(lon, lat, patch)
    return {"sha256": row["sha256"], "file_name": row["file_name"], "taken_at": photo.get("taken_at") or row["taken_at"],
            "lon": lon, "lat": lat, "accuracy_m": photo.get("accuracy_m"), "heading": photo.get("heading"),
            "distance_to_patch_m": distance, "far": distance is not None and distance > FAR_PHOTO_M}


def distance_to_patch(lon: float | None, lat: float | None, patch: dict) -> float | None:
    """Metres on the CGCS2000 ellipsoid from a place to the patch (0 inside it), None without a place."""
    if lon is None or lat is None:
        return None
    point = shapely.Point(lon, lat)
    if patch["geom"].contains(point):
        return 0.0
    (x0, y0), (x1, y1) = shapely.shortest_line(point, patch["geom"]).coords
    return float(CGCS2000_GEOD.inv(x0, y0, x1, y1)[2])


def evidence_path(store: Store, sha256: str) -> Path | None:
    """Where an evidence file is kept, when it is still there."""
    with store.engine.connect() as conn:
        stored = evidence_repo.stored_path(conn, sha256)
    return Path(stored) if stored and Path(stored).is_file() else None


def require_void_right(event_id: int, may: Callable[[str], bool]) -> None:
    """Who may void anything at all: those who track, and reviewers (for their own answers)."""
    if not (may("track") or may("review")):
        raise PermissionDeniedError(msg("tracking.void_role", event=event_id, action=msg("accounts.action.track")))


def void_event(store: Store, event_id: int, reason: str, *, user: str | None = None,
               may: Callable[[str], bool] | None = None) -> dict:
    """Void a mistaken lifecycle event by a new one that says why; the original stays. ``may``
    (an action -> allowed test of the caller's role) keeps the county's answers to reviewers and
    the township's records to the township: voiding needs the role that may take the step."""
    if may is not None:
        require_void_right(event_id, may)
    if not reason or not reason.strip():
        raise InvalidValueError(msg("tracking.void_reason"), field="reason")
    with store.transaction() as conn:
        target = repo.get_event(conn, event_id)
        if target is None:
            raise NotFoundError(msg("tracking.no_event", event=event_id))
        if target["voided_by"] is not None:
            raise ConflictError(msg("tracking.already_void", event=event_id, by=target["voided_by"]))
        if target["kind"] not in LIFECYCLE_EVENTS:
            raise ConflictError(msg("tracking.not_voidable", event=event_id, kind=target["kind"]))
        needed = "review" if target["kind"] in REVIEW_ANSWERS else "track"
        if may is not None and not may(needed):
            raise PermissionDeniedError(msg("tracking.void_role", event=event_id, action=msg(f"accounts.action.{needed}")))
        void_id = repo.insert_event(conn, kind="void", occurred_on=date.today(), actor=actor(user),
                                    payload={"target": event_id, "target_kind": target["kind"], "reason": reason},
                                    patch_id=target["patch_id"], batch_id=target["batch_id"],
                                    case_id=target["case_id"])
        repo.mark_voided(conn, event_id, void_id)
        if target["kind"] == "case_linked":
            repo.unlink_case(conn, target["case_id"], target["patch_id"])
        result = {"void_event_id": void_id, "voided": event_id, "kind": target["kind"]}
        if target["patch_id"] is not None:
            patch = repo.find_patch_by_lineage(conn, store, target["patch_id"])
            _validate(conn, patch)
            after = folded_state(conn, patch)
            repo.update_state(conn, patch, after)
            result.update(patch=patch["label"], status=after["status"])
        return result


def patch_history(store: Store, ref: str) -> list[dict]:
    """Every event of the patch (all versions), void ones included and marked."""
    with store.engine.connect() as conn:
        patch = repo.find_patch(conn, store, ref)
        events = repo.lineage_events(conn, [patch["lineage_id"]])
    out = []
    for row in events.itertuples():
        out.append({"id": int(row.id), "kind": row.kind, "occurred_on": row.occurred_on,
                    "recorded_at": row.recorded_at, "actor": row.actor, "payload": row.payload,
                    "voided_by": None if pd.isna(row.voided_by) else int(row.voided_by)})
    return out


def patch_state(store: Store, ref: str, as_of: date | None = None, known_at: datetime | None = None) -> dict:
    with store.engine.connect() as conn:
        patch = repo.find_patch(conn, store, ref)
        state = folded_state(conn, patch, as_of, known_at)
    state["patch"] = patch["label"]
    return state


# --- bulk verification ------------------------------------------------------------------

COLUMNS = {
    "patch": ("patch_code", "图斑编号", "监测编号", "图斑号", "JCBH", "code"),
    "result": ("result", "核查结果", "结果", "判定结果"),
    "date": ("date", "核查日期", "日期", "verified_on"),
    "note": ("note", "备注", "说明"),
    "cadre": ("cadre", "核查人", "村干部"),
}


def _read_table(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise InputFileError(msg("common.no_file", path=path))
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return pd.read_excel(path, dtype=str, engine="openpyxl").fillna("")
    text, _encoding = decode_text(path.read_bytes(), name=path.name)
    return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)


def _row_problem(row: int, code: str, problem):
    """One refused row of a returned table, its problem a catalogue message when it has one."""
    return msg("tracking.bulk_row", row=row, code=code, problem=problem)


def verify_from_file(store: Store, path: str | Path, *, batch: str | None = None, user: str | None = None) -> dict:
    """Record verifications returned by village cadres (xlsx or csv): all rows or none."""
    path = Path(path)
    table = _read_table(path)
    found = {}
    for key, names in COLUMNS.items():
        found[key] = next((c for c in table.columns if str(c).strip() in names), None)
    missing = [k for k in ("patch", "result", "date") if found[k] is None]
    if missing:
        raise FieldMappingError(msg("tracking.bulk_columns", file=path.name, missing=", ".join(missing),
                                    columns=", ".join(map(str, table.columns))))
    problems, done = [], []
    with store.transaction() as conn:
        for i, row in enumerate(table.to_dict("records"), start=2):
            code = str(row[found["patch"]] or "").strip()
            if not code:
                continue
            ref = f"{batch}/{code}" if batch else code
            try:
                day = pd.to_datetime(str(row[found["date"]]).strip()).date()
            except (ValueError, TypeError):
                problems.append(_row_problem(i, code, msg("tracking.bulk_bad_date", value=row[found["date"]])))
                continue
            result = RESULT_WORDS.get(str(row[found["result"]]).strip())
            if result is None:
                problems.append(_row_problem(i, code, msg("tracking.bulk_bad_result", value=row[found["result"]])))
                continue
            note = row.get(found["note"]) if found["note"] else None
            cadre = row.get(found["cadre"]) if found["cadre"] else None
            try:
                with conn.begin_nested():
                    done.append(_verify(conn, store, ref, result, day, note or None, cadre or None, user, None))
            except GeoTrackerError as e:
                problems.append(_row_problem(i, code, e.args[0] if e.args else str(e)))
        if problems:
            raise BatchImportError(msg("tracking.bulk_rejected", file=path.name, count=len(problems),
                                       problems=Listing(problems[:10])), [{"problem": str(p)} for p in problems])
    return {"file": path.name, "verified": len(done),
            "results": {r: sum(1 for d in done if d["status"] == r) for r in VERIFY_RESULTS}}



def set_deadline(store: Store, ref: str, deadline: date, *, user: str | None = None) -> dict:
    """Give one patch its own rectification deadline (overrides the batch's)."""
    with store.transaction() as conn:
        patch = repo.find_patch(conn, store, ref)
        repo.insert_event(conn, kind="deadline_set", occurred_on=date.today(), actor=actor(user),
                          patch_id=patch["lineage_id"], batch_id=patch["batch_id"],
                          payload={"before": str(patch["deadline"]) if patch["deadline"] else None,
                                   "after": str(deadline)})
        repo.set_deadline(conn, patch, deadline)
    return {"patch": patch["label"], "deadline": deadline}
