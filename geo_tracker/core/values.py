"""Plain values: what ``json.dumps`` and the database drivers take, out of numpy and pandas."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd


def plain(value, *, text: bool = False):
    """``value`` as plain Python, for JSON answers and for the database drivers.

    numpy numbers become Python numbers; NaN, infinities, NA and NaT become None; dicts,
    lists and tuples are converted item by item (tuples into lists). A Series or an array
    becomes the list of its values, numbers as Python numbers and missing ones as None (its
    other values kept as they are, at column speed). Anything else (strings, dates,
    geometries) is kept; with ``text`` it is written as its ``str()`` and the whole made
    JSON (keys as strings too), so any service answer can be sent as it is.
    """
    if text:
        return json.loads(json.dumps(plain(value), default=str, ensure_ascii=False))
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (float, np.floating)):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, dict):
        return {(k.item() if isinstance(k, np.generic) else k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (pd.Series, np.ndarray)):
        return _column(pd.Series(value, copy=False) if isinstance(value, np.ndarray) else value)
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def _column(series: pd.Series) -> list:
    kind = series.dtype.kind
    if kind == "f":
        values = series.to_numpy(dtype=float)
        out = values.astype(object)
        out[~np.isfinite(values)] = None
        return out.tolist()
    if kind in "iub" and not series.hasnans:
        return series.to_numpy().tolist()
    values = series.astype(object)
    return values.where(series.notna(), None).tolist()
