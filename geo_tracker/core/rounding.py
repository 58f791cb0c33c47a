"""Printing figures: parts that add up to their printed total (largest remainder), and
never more than their printed whole (a village's 已整改 ≤ its 面积)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

#: Tolerance for "exactly equal" in scaled units (float noise of summed areas).
EPS = 1e-9


def round_parts(values, decimals: int = 2, total: float | None = None, caps=None) -> list[float]:
    """Round ``values`` so that the rounded parts sum to the rounded total.

    Each part is rounded down, then the units still missing go one at a time to the
    part furthest below its exact value (Hamilton's method). ``caps`` (already printed
    values, ``None`` for none) bound each part from above, so a part never prints more
    than its whole; a unit goes past a cap only if the caps cannot hold the total.
    ``total`` defaults to the exact sum.
    """
    values = np.asarray(values, dtype=float)
    if not len(values):
        return []
    scale = 10 ** decimals
    target = round((values.sum() if total is None else total) * scale)
    scaled = values * scale
    limit = np.full(len(values), np.inf) if caps is None else np.array(
        [np.inf if c is None else round(c * scale) for c in caps], dtype=float)
    units = np.minimum(np.floor(scaled + EPS), limit)
    missing = int(target - units.sum())
    while missing > 0:
        room = units < limit
        if not room.any():
            room[:] = True          # the caps cannot hold the total: the total wins
        _bump(units, scaled, room, +1)
        missing -= 1
    while missing < 0:
        _bump(units, scaled, np.ones(len(values), dtype=bool), -1)
        missing += 1
    return [float(v) / scale for v in units]


def _bump(units: np.ndarray, scaled: np.ndarray, allowed: np.ndarray, step: int) -> None:
    """Move one unit on the allowed part whose printed value is furthest from its exact one (first on ties)."""
    gap = (scaled - units) * step
    gap[~allowed] = -np.inf
    units[int(np.argmax(gap))] += step


def round_table(rows: Sequence[Mapping[str, float]], totals: Mapping[str, float], names: Sequence[str],
                wholes: Mapping[str, Sequence[str]], decimals: int = 2) -> list[dict[str, float]]:
    """Printed values of ``names`` for each row: each figure's parts add up to its rounded
    total, and no part is above the printed parts of its ``wholes`` (figures rounded earlier
    in ``names``) where the exact part is not above the exact whole."""
    printed: list[dict[str, float]] = [{} for _ in rows]
    for name in names:
        earlier = [w for w in wholes.get(name, ()) if rows and w in printed[0]]
        caps = _caps(rows, printed, name, earlier)
        if caps is not None and sum(math.inf if c is None else c for c in caps) < round(totals[name], decimals) - EPS:
            caps = _caps(rows, printed, name, earlier[:1])   # several wholes cannot all hold: keep the first
        for row, value in zip(printed, round_parts([r[name] for r in rows], decimals, totals[name], caps)):
            row[name] = value
    return printed


def _caps(rows, printed, name: str, wholes: list[str]) -> list[float | None] | None:
    """Per row, the smallest printed whole that the exact part does not exceed."""
    if not wholes:
        return None
    caps = []
    for row, done in zip(rows, printed):
        bounds = [done[w] for w in wholes if row[name] <= row[w] + EPS]
        caps.append(min(bounds) if bounds else None)
    return caps


def fmt(value: float | None, decimals: int = 2) -> str:
    """A figure as reports print it: fixed decimals, no scientific notation."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.{decimals}f}"


def wan(yuan: float) -> str:
    """元 as reports print 万元: 78000 -> "7.80"."""
    return fmt(yuan / 10000)


def format_rate(part: float, whole: float, decimals: int = 2) -> str:
    """A rate as reports print it: "98.62%"; "100%" only when every one is done.

    A rate that rounds to 100 but is not complete prints as 99.99%, so a report
    never claims 全部 for 508 of 509.
    """
    if not whole:
        return "-"
    if part >= whole:
        return "100%"
    text = f"{part / whole * 100:.{decimals}f}"
    if float(text) >= 100:
        text = f"{100 - 10 ** -decimals:.{decimals}f}"
    return text + "%"
