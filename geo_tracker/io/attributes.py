"""A delivery's own attributes as JSON text, one line per feature, kept verbatim."""

from __future__ import annotations

import pandas as pd


def attributes_json(frame: pd.DataFrame) -> list[str]:
    """Each feature's original attributes as JSON text, field order and values kept."""
    attrs = frame.drop(columns=[frame.geometry.name])
    if attrs.shape[1] == 0:
        return ["{}"] * len(frame)
    text = attrs.to_json(orient="records", lines=True, force_ascii=False, date_format="iso",
                         double_precision=15, default_handler=str)
    return text.splitlines() if len(frame) else []
