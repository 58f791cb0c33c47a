"""The lifecycle table (生命周期表) read three ways agrees: the fold, validate_history, the statistics SQL.

Histories are random walks over :data:`STEPS` (fixed seeds), some then broken on
purpose; the statistics query runs on SpatiaLite and PostGIS.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import bureau_files as bf
import geopandas as gpd
import pandas as pd
import pytest
import sqlalchemy as sa

from geo_tracker.core.lifecycle import (
    ALLOWED,
    AREA_EPSILON_MU,
    OPEN_STATUSES,
    STATUSES,
    STEPS,
    TransitionError,
    fold,
    is_overdue,
    validate_history,
)
from geo_tracker.services.batches import ImportOptions, import_batch
from geo_tracker.services.patches import list_patches
from geo_tracker.services.stats import compute_stats
from geo_tracker.store import events as repo
from geo_tracker.store.stats import patch_state_sql

ISSUED = date(2023, 1, 2)
DEADLINE = date(2023, 4, 30)
AS_OF = (date(2023, 1, 20), date(2023, 3, 1), date(2023, 6, 1), date(2024, 6, 1))


# --- random histories -------------------------------------------------------------------

def _payload(rng: random.Random, step, left_mu: float, left_cult: float, n: int) -> dict:
    if step.event == "verified":
        return {"result": step.outcome}
    if step.event == "case_linked":
        return {"case_no": f"C-{n}"}
    if step.event == "rectified":
        share = 1.0 if step.outcome == "full" else rng.uniform(0.1, 0.6)
        return {"area_mu": left_mu * share, "cultivated_mu": left_cult * rng.choice([0.0, share])}
    if step.event == "submitted":
        return {"level": "county", "levels": ["county"]}
    if step.event == "review_returned":
        return {"level": "county", "from_status": step.outcome, "reason": "照片不清晰"}
    if step.event == "review_approved":
        return {"level": "county", "outcome": step.outcome}
    return {}


def _possible(steps, status: str, submitted_from: str | None) -> list:
    """The table's rows from ``status``; a return goes back only to where the submission came from."""
    return [s for s in steps if status in s.sources and (s.event != "review_returned" or s.outcome == submitted_from)]


def random_life(rng: random.Random, area: float, cultivated: float) -> tuple[list[tuple], list[str]]:
    """A random walk over the table from issued: events ``(kind, day, payload)`` and the status after each."""
    status, done, cult, day, submitted_from = "issued", 0.0, 0.0, ISSUED, None
    history, statuses = [], []
    for n in range(rng.randint(0, 10)):
        steps = _possible(STEPS, status, submitted_from)
        if not steps:
            break
        step = rng.choice(steps)
        submitted_from = status if step.event == "submitted" else submitted_from
        day += timedelta(days=rng.choice([0, 0, 3, 20, 45]))
        payload = _payload(rng, step, area - done, cultivated - cult, n)
        done += payload.get("area_mu", 0.0)
        cult += payload.get("cultivated_mu", 0.0)
        status = step.to or status
        history.append((step.event, day, payload))
        statuses.append(status)
    return history, statuses


def broken(rng: random.Random, history: list[tuple], area: float) -> list[tuple]:
    """The history with one random change: maybe still valid, usually not."""
    out = list(history)
    change = rng.choice(["add", "drop", "swap", "over"])
    if change == "drop" and out:
        out.pop(rng.randrange(len(out)))
    elif change == "swap" and len(out) > 1:
        i, j = rng.sample(range(len(out)), 2)
        (ki, di, pi), (kj, dj, pj) = out[i], out[j]
        out[i], out[j] = (kj, di, pj), (ki, dj, pi)
    elif change == "over":
        out.append(("rectified", ISSUED + timedelta(days=400), {"area_mu": area * 1.2, "cultivated_mu": 0.0}))
    else:
        out.append(random_event(rng, area))
        out.sort(key=lambda e: e[1])
    return out


def random_event(rng: random.Random, area: float) -> tuple:
    """Any one event of the table, on any day."""
    step = rng.choice(STEPS)
    return step.event, ISSUED + timedelta(days=rng.randint(0, 400)), _payload(rng, step, area * 0.5, 0.0, 99)


def table_allows(history: list[tuple], area: float, cultivated: float) -> bool:
    """The table read directly: every event is a row allowed from the status then, no over-rectification."""
    status, done, cult, submitted_from = "issued", 0.0, 0.0, None
    for kind, _day, payload in sorted(history, key=lambda e: e[1]):
        done += payload.get("area_mu", 0.0) if kind == "rectified" else 0.0
        cult += payload.get("cultivated_mu", 0.0) if kind == "rectified" else 0.0
        outcome = {"verified": payload.get("result"), "rectified": "full" if done >= area - AREA_EPSILON_MU else "part",
                   "review_returned": payload.get("from_status"), "review_approved": payload.get("outcome")}.get(kind)
        rows = [s for s in _possible(STEPS, status, submitted_from) if (s.event, s.outcome) == (kind, outcome)]
        if not rows or done > area + AREA_EPSILON_MU or cult > cultivated + AREA_EPSILON_MU:
            return False
        submitted_from = status if kind == "submitted" else submitted_from
        status = rows[0].to or status
    return True


def as_frame(history: list[tuple], patch: int = 1, noise: list[tuple] = ()) -> pd.DataFrame:
    """Events as :func:`repo.lineage_events` returns them; ``noise`` events are voided."""
    at = datetime(2024, 1, 1, tzinfo=UTC)
    rows = [{"id": n, "patch": patch, "kind": k, "occurred_on": d, "recorded_at": at + timedelta(seconds=n),
             "payload": p, "voided_by": None, "voided_at": None} for n, (k, d, p) in enumerate(history)]
    rows += [{"id": 1000 + n, "patch": patch, "kind": k, "occurred_on": d, "recorded_at": at, "payload": p,
              "voided_by": 2000 + n, "voided_at": at} for n, (k, d, p) in enumerate(noise)]
    columns = ["id", "patch", "kind", "occurred_on", "recorded_at", "payload", "voided_by", "voided_at"]
    return pd.DataFrame(rows, columns=columns)


# --- the table itself -------------------------------------------------------------------

def test_the_table_reads_as_the_documented_lifecycle():
    """What the module docstring draws; steps only move forward, which the SQL closed form needs, but for
    a review's return, which goes back to where the submission came from (the SQL counts submissions
    against returns for it)."""
    assert ALLOWED == {"verify": {"issued"}, "link_case": {"illegal", "case_filed", "rectifying", "rectified"},
                       "rectify": {"illegal", "case_filed", "rectifying"},
                       "close": {"legal", "no_change", "rectified"}, "submit": {"legal", "no_change", "rectified"},
                       "review": {"submitted"}}
    assert OPEN_STATUSES == ("issued", "illegal", "case_filed", "rectifying")
    for step in STEPS:
        for source in step.sources:
            backward = step.event == "review_returned" and step.to == step.outcome
            assert backward or step.to in (None, source) or STATUSES.index(step.to) > STATUSES.index(source), step


# --- Python: validate_history and the fold ----------------------------------------------

@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_validate_history_accepts_exactly_what_the_table_allows(seed):
    rng = random.Random(seed)
    verdicts = {True: 0, False: 0}
    for n in range(100):
        area, cultivated = rng.uniform(0.5, 20), rng.uniform(0, 5)
        history, _ = random_life(rng, area, cultivated)
        if n % 2:
            history = broken(rng, history, area)
        noise = [random_event(rng, area)] if rng.random() < 0.3 else []
        allowed = table_allows(history, area, cultivated)
        verdicts[allowed] += 1
        try:
            validate_history(as_frame(history, noise=noise), area, cultivated, f"seed{seed}/{n}")
        except TransitionError:
            assert not allowed, history
        else:
            assert allowed, history
    assert min(verdicts.values()) >= 20, verdicts


@pytest.mark.parametrize("seed", [5, 6, 7])
def test_fold_follows_the_table_step_by_step(seed):
    rng = random.Random(seed)
    for n in range(100):
        area, cultivated = rng.uniform(0.5, 20), rng.uniform(0, 5)
        history, statuses = random_life(rng, area, cultivated)
        patches = pd.DataFrame([{"patch": 1, "area_mu": area, "issued_on": ISSUED}])
        for i, (_kind, day, _payload) in enumerate(history):
            if i + 1 < len(history) and history[i + 1][1] == day:
                continue  # the fold sees a whole day at once
            got = fold(as_frame(history), patches, as_of=day).iloc[0]["status"]
            assert got == statuses[i], (history[: i + 1], got)


# --- SQL on both backends ---------------------------------------------------------------

def _grid(tmp_path, n: int):
    """``n`` small separate squares, one 卫片 patch each."""
    frame = bf.canonical_patches().iloc[[0] * n].reset_index(drop=True)
    frame["JCBH"] = [f"500109{i:04d}" for i in range(1, n + 1)]
    frame = gpd.GeoDataFrame(frame.drop(columns="geometry"), crs=4490, geometry=[
        bf._square(bf.LON0 + (i % 15) * 1.2 * bf.D, bf.LAT0 + (i // 15) * 1.2 * bf.D, (0.3 + 0.05 * (i % 7)) * bf.D)
        for i in range(n)])
    path = tmp_path / "grid.geojson"
    frame.to_file(path, driver="GeoJSON")
    return path


@pytest.fixture
def lived(store, tmp_path):
    """150 patches, each with a random valid life (and voided noise) written straight into events."""
    import_batch(store, _grid(tmp_path, 150), ImportOptions(source="natural-resources", batch="随机", issued_on=ISSUED,
                                                            deadline=DEADLINE))
    rng = random.Random(11)
    with store.transaction() as conn:
        rows = conn.execute(sa.text("SELECT id, lineage_id, batch_id, area_mu, coalesce(cultivated_mu, 0) AS cult "
                                    "FROM patches WHERE is_current")).mappings().all()
        for row in rows:
            history, _ = random_life(rng, row["area_mu"], row["cult"])
            for kind, day, payload in history:
                _insert(conn, row, kind, day, payload)
            if rng.random() < 0.3:
                noise = _insert(conn, row, *random_event(rng, row["area_mu"]))
                void = _insert(conn, row, "void", ISSUED, {"target": noise})
                repo.mark_voided(conn, noise, void)
            if rng.random() < 0.3:
                conn.execute(sa.text("UPDATE patches SET deadline = :d WHERE id = :i"),
                             {"d": ISSUED + timedelta(days=rng.randint(10, 400)), "i": row["id"]})
    return store


def _insert(conn, row, kind, day, payload) -> int:
    """An event written as is: no transition check, so the SQL sees exactly the generated history."""
    return repo.insert_event(conn, kind=kind, occurred_on=day, actor="test", payload=payload,
                             patch_id=row["lineage_id"], batch_id=row["batch_id"])


def _sql_statuses(store, as_of: date) -> dict[str, str]:
    base, params = patch_state_sql(store, known_at=None, filters="")
    sql = base + ("SELECT pt.patch_code, p.status FROM p "
                  "JOIN patches pt ON pt.lineage_id = p.lineage_id AND pt.is_current")
    with store.engine.connect() as conn:
        return dict(conn.execute(sa.text(sql), {**params, "as_of": as_of}).all())


@pytest.mark.parametrize("as_of", AS_OF)
def test_sql_status_and_overdue_agree_with_the_fold(lived, as_of):
    folded = list_patches(lived, as_of=as_of)
    assert len(folded) == 150
    assert _sql_statuses(lived, as_of) == dict(zip(folded["patch_code"], folded["status"]))
    groups = {g["key"]["status"]: g for g in compute_stats(lived, as_of=as_of, by=["status"])["groups"]}
    assert set(groups) == set(folded["status"])
    for status, g in folded.groupby("status"):
        overdue = sum(is_overdue(s, d, as_of) for s, d in zip(g["status"], g["deadline"]))
        assert (groups[status]["patches"], groups[status]["overdue"]) == (len(g), overdue), status
    if as_of == AS_OF[-1]:
        seen = set().union(*(_sql_statuses(lived, day).values() for day in AS_OF))
        assert seen == set(STATUSES), "the walks should pass through every status"
        assert 0 < folded["overdue"].sum() < 150
