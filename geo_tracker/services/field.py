"""The field kit (外业): work packages a phone takes out of signal, and the actions it brings back.

A **work package** is what an enforcer needs where there is no signal: the patches of some
villages (a batch, a source, statuses; by default every patch not yet closed) with their
attributes, state and history, the villages' boundaries, and a version. Asked again with
``since=<version>`` it holds only what changed, and names the patches that left it.

**Sync** applies the actions recorded offline, in order, through the same services as online
actions (the same rules, the same caps). Each action carries its key, the patch row and the
``row_version`` it was recorded against: a key already recorded answers ``done`` again
(a lost answer, a retry), a patch changed on the server meanwhile answers ``conflict`` with
the server's state beside the phone's action, and nothing is applied over it silently.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from datetime import date, datetime

import pandas as pd
import shapely

from ..catalogue import msg, text_of
from ..core.review import parse_levels
from ..core.sources import SOURCE_SHORT_LABELS, split_ref
from ..core.lifecycle import EVENT_LABELS, LIFECYCLE_EVENTS, STATUS_LABELS, STATUSES
from ..core.values import plain
from ..errors import GeoTrackerError, InvalidValueError, PermissionDeniedError, StaleRowError
from ..store import Store
from ..store import events as events_repo
from ..store import field as repo
from ..store import review as review_repo
from . import review, tracking
from .boundaries import village_units
from .patches import list_patches

#: The statuses a package holds unless asked: everything not closed (销号).
OPEN_FOR_FIELD = tuple(s for s in STATUSES if s != "closed")
#: Boundaries and patches are sent to about 0.1 m (7 decimals): plenty for a phone's GPS.
DECIMALS = 7
#: What a package says of each patch, beside its geometry, history, id and row_version.
FIELDS = ["patch_code", "batch", "source", "issued_on", "deadline", "area_mu", "cultivated_mu", "forest_mu",
          "village_code", "village_name", "status", "status_on", "rectified_mu", "rectified_cultivated_mu",
          "verified", "case_numbers", "overdue", "flags"]
ACTION_KINDS = ("verify", "rectify", "submit")
_VERSION = re.compile(r"^e(\d+)\.p(\d+)$")


def package_version(events_id: int, patch_id: int) -> str:
    return f"e{events_id}.p{patch_id}"


def parse_version(text: str) -> tuple[int, int]:
    found = _VERSION.match(str(text or "").strip())
    if not found:
        raise InvalidValueError(msg("sync.bad_version", version=text), field="since")
    return int(found.group(1)), int(found.group(2))


def work_package(store: Store, *, villages: Collection[str] | None = None, batch: str | None = None,
                 source: str | None = None, statuses: Collection[str] | None = None,
                 scope: Collection[str] | None = None, since: str | None = None) -> dict:
    """The package for ``villages`` (codes; None: all of ``scope``, the user's villages), limited to
    ``batch``, ``source`` and ``statuses``; with ``since`` only the patches changed after it, and
    ``removed``: those of the user's villages changed that are no longer in it (closed, withdrawn,
    out of the filter); a patch of other villages is never named."""
    statuses = _statuses(statuses)
    wanted = _villages_wanted(villages, scope)
    with store.engine.connect() as conn:
        version = repo.cursor(conn)
        changed = repo.changed_lineages(conn, *parse_version(since)) if since else None
    listed = list_patches(store, batch=batch, source=source, villages=wanted)
    listed = listed[listed["status"].isin(statuses)]
    if changed is not None:
        listed = listed[listed["lineage_id"].isin(changed)]
    present = {int(i) for i in listed["lineage_id"]}
    with store.engine.connect() as conn:
        events = events_repo.lineage_events(conn, sorted(present))
        removed = sorted(repo.lineages_in(conn, changed - present, wanted)) if changed is not None else []
    codes = sorted({c for c in listed["village_code"] if isinstance(c, str)} | set(villages or ()))
    return {"version": package_version(*version), "made_at": datetime.now().astimezone().isoformat(timespec="seconds"),
            "filters": {"villages": list(villages or []), "batch": batch, "source": source, "statuses": list(statuses)},
            "since": since, "patches": _patches(listed, _histories(events)),
            "villages": [] if since else _boundaries(store, codes),
            "removed": removed, "review_sources": _review_sources(store),
            "labels": {"status": dict(STATUS_LABELS), "event": {k: v[0] for k, v in EVENT_LABELS.items()}}}


def _review_sources(store: Store) -> list[str]:
    """Sources whose patches go to the county's review: only their patches offer 申请销号 on the phone."""
    with store.engine.connect() as conn:
        return sorted(p["source"] for p in review_repo.policies(conn) if parse_levels(p["levels"]))


def package_choices(store: Store, *, scope: Collection[str] | None = None) -> dict:
    """What a package may be cut by, within the user's villages: each village with its open
    patches, the batches (with source) and the statuses, so the phone offers only real choices."""
    listed = list_patches(store, villages=None if scope is None else sorted(scope))
    listed = listed[listed["status"].isin(OPEN_FOR_FIELD)]
    names = listed.dropna(subset=["village_code"]).groupby(["village_code", "village_name"]).size()
    batches = listed.groupby(["batch", "source"]).size()
    return {"villages": [{"code": c, "name": n, "patches": int(k)} for (c, n), k in names.items()],
            "batches": [{"batch": b, "source": s, "patches": int(k)} for (b, s), k in batches.items()],
            "sources": {s: SOURCE_SHORT_LABELS.get(s, s) for s in sorted(set(listed["source"]))},
            "statuses": {s: STATUS_LABELS[s] for s in OPEN_FOR_FIELD}, "default_statuses": list(OPEN_FOR_FIELD)}


def _statuses(statuses) -> tuple[str, ...]:
    chosen = tuple(statuses or OPEN_FOR_FIELD)
    wrong = [s for s in chosen if s not in STATUSES]
    if wrong:
        raise InvalidValueError(msg("patch.bad_status", status=", ".join(wrong), choices=", ".join(STATUSES)),
                                field="status")
    return chosen


def _villages_wanted(villages, scope) -> list[str] | None:
    """The villages asked for, within the user's scope (None: no limit)."""
    if not villages:
        return None if scope is None else sorted(scope)
    return sorted(set(villages) if scope is None else set(villages) & set(scope))


def _histories(events: pd.DataFrame) -> dict[int, list[dict]]:
    shown = events[events["kind"].isin(LIFECYCLE_EVENTS) & events["voided_by"].isna()] if len(events) else events
    out: dict[int, list[dict]] = {}
    for row in shown.itertuples():
        out.setdefault(int(row.patch), []).append(
            {"id": int(row.id), "kind": row.kind, "label": EVENT_LABELS.get(row.kind, (row.kind,))[0],
             "on": row.occurred_on.isoformat(), "actor": row.actor, "note": (row.payload or {}).get("note"),
             "area_mu": (row.payload or {}).get("area_mu"), "result": (row.payload or {}).get("result")})
    return out


def _patches(listed, histories: dict[int, list[dict]]) -> list[dict]:
    geometries = shapely.to_geojson(shapely.set_precision(listed.geometry.values, 10 ** -DECIMALS)) \
        if len(listed) else []
    out = []
    for (_, row), geometry in zip(listed.iterrows(), geometries):
        item = {"id": int(row["id"]), "lineage_id": int(row["lineage_id"]), "row_version": int(row["row_version"]),
                "ref": f"{row['batch']}/{row['patch_code']}", **plain({k: row[k] for k in FIELDS}, text=True),
                "history": histories.get(int(row["lineage_id"]), []), "geometry": geometry}
        out.append(item)
    return out


def _boundaries(store: Store, codes: list[str]) -> list[dict]:
    units = village_units(store, codes=codes) if codes else None
    if units is None or not len(units):
        return []
    simplified = shapely.set_precision(shapely.simplify(units.geometry.values, 0.00002, preserve_topology=True),
                                       10 ** -DECIMALS)
    return [{"code": u.code, "name": u.name, "geometry": g}
            for u, g in zip(units.itertuples(), shapely.to_geojson(simplified))]


# --- sync -------------------------------------------------------------------------------

def sync_actions(store: Store, actions: list[dict], *, user: str, may: Callable[[str], bool],
                 in_scope: Callable[[str], str], lang: str = "zh") -> list[dict]:
    """Apply the phone's actions in their order; one answer per action (``done``, ``conflict`` or
    ``refused`` with the reason), each action in its own transaction. ``in_scope`` turns a ref into
    the patch's ``BATCH/CODE`` or raises (outside the user's units); ``may`` tells the user's rights."""
    return [_sync_one(store, action, user, may, in_scope, lang) for action in actions]


def _sync_one(store: Store, action: dict, user: str, may, in_scope, lang: str) -> dict:
    key = str(action.get("key") or "")
    answer = {"key": key, "ref": action.get("ref"), "kind": action.get("kind")}
    try:
        _check_action(action)
        with store.engine.connect() as conn:
            recorded = repo.recorded_event(conn, key)
        if recorded is not None:
            return {**answer, "outcome": "done", "event_id": recorded, "again": True}
        ref = in_scope(str(action["ref"]))
        theirs = _theirs(store, ref)
        if (theirs["id"], theirs["row_version"]) != (int(action["patch_id"]), int(action["row_version"])):
            return {**answer, "outcome": "conflict", "theirs": theirs, "mine": action}
        done = _apply(store, ref, action, user, may)
        return {**answer, "outcome": "done", "event_id": done["event_id"], "status": done["status"],
                "rectified_mu": done["rectified_mu"], "patch": _theirs(store, ref)}
    except StaleRowError:
        return {**answer, "outcome": "conflict", "theirs": _theirs(store, action["ref"]), "mine": action}
    except GeoTrackerError as error:
        return {**answer, "outcome": "refused", "message": text_of(error, lang, "web")}


def _check_action(action: dict) -> None:
    if not re.fullmatch(r"[A-Za-z0-9_-]{8,64}", str(action.get("key") or "")):
        raise InvalidValueError(msg("sync.bad_key", record=action.get("key")), field="key")
    if action.get("kind") not in ACTION_KINDS:
        raise InvalidValueError(msg("sync.bad_kind", kind=action.get("kind"), choices=", ".join(ACTION_KINDS)),
                                field="kind")
    for name in ("ref", "patch_id", "row_version", "on"):
        if action.get(name) in (None, ""):
            raise InvalidValueError(msg("sync.missing", name=name, record=action.get("key")), field=name)
    for name in ("patch_id", "row_version"):
        if not isinstance(action[name], int) or isinstance(action[name], bool):
            raise InvalidValueError(msg("sync.not_whole", name=name, value=action[name]), field=name)
    try:
        date.fromisoformat(str(action["on"]))
    except ValueError:
        raise InvalidValueError(msg("sync.bad_day", value=action["on"]), field="on") from None
    photos = action.get("photos") or []
    if not isinstance(photos, list) or not all(isinstance(p, dict) for p in photos):
        raise InvalidValueError(msg("sync.bad_photos", record=action["key"]), field="photos")


def _theirs(store: Store, ref: str) -> dict:
    """The patch as the server has it now: what a conflict shows beside the phone's action."""
    batch, code = split_ref(ref)
    row = list_patches(store, codes=[code], batch=batch)
    if not len(row):
        return {"id": None, "row_version": None}
    listed = row.iloc[[0]]
    with store.engine.connect() as conn:
        events = events_repo.lineage_events(conn, [int(listed.iloc[0]["lineage_id"])])
    return _patches(listed, _histories(events))[0]


def _apply(store: Store, ref: str, action: dict, user: str, may) -> dict:
    """The action through the service an online action uses, on the day it was taken."""
    on = date.fromisoformat(str(action["on"]))
    common = {"user": user, "expected_version": int(action["row_version"]), "action_key": action["key"],
              "note": action.get("note") or None, "evidence": [dict(p) for p in action.get("photos") or []]}
    if not may("track"):
        raise PermissionDeniedError(msg("sync.may_not", action=action["kind"]))
    if action["kind"] == "verify":
        return tracking.verify_patch(store, ref, str(action.get("result") or ""), on, cadre=action.get("cadre"),
                                     **common)
    if action["kind"] == "rectify":
        return tracking.rectify_patch(store, ref, on, str(action.get("measure") or ""),
                                      area_mu=_number(action.get("area_mu")), full=bool(action.get("full")),
                                      drawn=action.get("drawn"), cultivated_mu=_number(action.get("cultivated_mu")),
                                      **common)
    return review.submit_patch(store, ref, on, **common)


def _number(value) -> float | None:
    if value in (None, ""):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise InvalidValueError(msg("sync.not_number", value=value), field="area_mu") from None
