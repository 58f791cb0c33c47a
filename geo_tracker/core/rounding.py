"""Printing figures: parts that add up to their printed total (largest remainder)."""

from __future__ import annotations

import math

import numpy as np


def round_parts(values, decimals: int = 2, total: float | None = None) -> list[float]:
    """Round ``values`` so that the rounded parts sum to the rounded total.

    Each part is rounded down, then the units still missing go to the parts with
    the largest remainders (Hamilton's method). ``total`` defaults to the exact sum.
    """
    values = np.asarray(values, dtype=float)
    if not len(values):
        return []
    scale = 10 ** decimals
    target = round((values.sum() if total is None else total) * scale)
    scaled = values * scale
    floors = np.floor(scaled + 1e-9)
    missing = int(target - floors.sum())
    order = np.argsort(-(scaled - floors), kind="stable")
    if missing > 0:
        floors[order[:missing]] += 1
    elif missing < 0:
        floors[order[::-1][:-missing]] -= 1
    return [float(v) / scale for v in floors]


def fmt(value: float | None, decimals: int = 2) -> str:
    """A figure as reports print it: fixed decimals, no scientific notation."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.{decimals}f}"


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
