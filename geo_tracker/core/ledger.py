"""Comparing two summaries of a ledger (台账): a backup's manifest against its copy, or a move's
source against its target. Pure: the summaries are plain dicts made by
:func:`geo_tracker.services.ledger.summary`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

#: Areas are compared to a millionth of a 亩: the same rows summed in another order or backend.
AREA_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Difference:
    """One thing that differs: ``what`` is ``ledger_id``, ``schema_revision``, ``count:<table>``
    or ``total:<figure>``."""

    what: str
    expected: object
    found: object


def differences(expected: dict, found: dict, *, revision: bool = True) -> list[Difference]:
    """Everything in which ``found`` differs from ``expected``: ledger id, schema revision (unless
    ``revision`` is False, as after an upgrade), row counts per table, and the stats totals."""
    out = [Difference("ledger_id", expected.get("ledger_id"), found.get("ledger_id"))]
    if revision:
        out.append(Difference("schema_revision", expected.get("schema_revision"), found.get("schema_revision")))
    out = [d for d in out if d.expected != d.found]
    counts, found_counts = expected.get("counts", {}), found.get("counts", {})
    out += [Difference(f"count:{t}", n, found_counts.get(t)) for t, n in sorted(counts.items())
            if found_counts.get(t) != n]
    totals, found_totals = expected.get("totals", {}), found.get("totals", {})
    out += [Difference(f"total:{k}", v, found_totals.get(k)) for k, v in sorted(totals.items())
            if not _same(v, found_totals.get(k))]
    return out


def _same(a, b) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return math.isclose(a, b, rel_tol=0, abs_tol=AREA_TOLERANCE)
    return a == b
