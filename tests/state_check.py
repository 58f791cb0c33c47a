"""The invariant migration 0011 introduced: each patch row's stored state is the fold of its events."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from geo_tracker.core.lifecycle import STATE_COLUMNS
from geo_tracker.services.patches import list_patches

#: What is compared: the stored state of every current patch against its events folded as of today.
COMPARED = [*STATE_COLUMNS, "overdue"]


def assert_stored_state_is_the_fold(store) -> int:
    """Every current patch listed from its columns equals the same patch folded from its events;
    returns how many were compared (so a caller can tell the check saw something)."""
    stored = list_patches(store).set_index("id").sort_index()
    folded = list_patches(store, as_of=date.today()).set_index("id").sort_index()
    folded = folded[~folded.index.duplicated()].reindex(stored.index)
    assert len(stored), "no patches to compare"
    for column in COMPARED:
        mine, theirs = [_plain(v) for v in stored[column]], [_plain(v) for v in folded[column]]
        if column in ("rectified_mu", "rectified_cultivated_mu"):
            assert mine == pytest.approx(theirs, abs=1e-9), column
        else:
            differing = [(i, a, b) for i, a, b in zip(stored.index, mine, theirs) if a != b]
            assert not differing, f"{column} (id, stored, folded): {differing[:5]}"
    return len(stored)


def _plain(value):
    """None for a missing value, lists as lists: so that stored and folded compare by ``!=``."""
    if isinstance(value, (list, tuple)):
        return list(value)
    return None if pd.isna(value) else value
