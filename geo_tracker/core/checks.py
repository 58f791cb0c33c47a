"""Per-patch checks that become flags: area deviations, slivers, impossible figures."""

from __future__ import annotations

import numpy as np

from ..catalogue import note
from ..units import M2_PER_MU

#: Issued and computed areas may differ by this fraction or this many 亩 before a flag.
AREA_TOLERANCE_REL = 0.01
AREA_TOLERANCE_MU = 0.1
SLIVER_MU = 1.0 / M2_PER_MU


def stated_area_basis(area_mu: np.ndarray, issued_mu: np.ndarray, planar_mu: np.ndarray | None) -> np.ndarray:
    """Per patch, which computed area its stated figure matches: ``ellipsoidal``, ``planar``
    (Gauss-Krüger), ``either`` where the two are closer together than the figure tells
    apart, or ``""`` where no figure is stated."""
    issued_mu = np.asarray(issued_mu, dtype=float)
    basis = np.where(np.isfinite(issued_mu), "ellipsoidal", "").astype(object)
    if planar_mu is None:
        return basis
    to_planar, to_ellipsoidal = np.abs(planar_mu - issued_mu), np.abs(area_mu - issued_mu)
    apart = np.abs(planar_mu - area_mu) > 2 * np.minimum(to_planar, to_ellipsoidal)
    stated = np.isfinite(issued_mu)
    basis[stated & ~apart] = "either"
    basis[stated & apart & (to_planar < to_ellipsoidal)] = "planar"
    return basis


def area_flags(area_mu: np.ndarray, issued_mu: np.ndarray, cultivated_mu: np.ndarray,
               planar_mu: np.ndarray | None = None) -> list[dict[str, str]]:
    """Flags per patch from its computed, issued and cultivated areas (亩; NaN = not given).

    The stated area is compared with the nearer of the ellipsoidal and the planar
    Gauss-Krüger area (``planar_mu``): a writer that states the planar figure is right
    by its own rule, and a 300 亩 parcel must not be flagged for the 4e-4 between them.
    """
    flags: list[dict[str, str]] = [{} for _ in range(len(area_mu))]
    deviation = np.abs(area_mu - issued_mu)
    if planar_mu is not None:
        deviation = np.fmin(deviation, np.abs(planar_mu - issued_mu))
    limit = np.maximum(AREA_TOLERANCE_REL * np.abs(issued_mu), AREA_TOLERANCE_MU)
    for i in np.flatnonzero(np.isfinite(issued_mu) & (deviation > limit)):
        rel = (area_mu[i] - issued_mu[i]) / issued_mu[i] * 100 if issued_mu[i] else float("inf")
        flags[i]["area_deviation"] = note("imports.flag_area_deviation", computed=f"{area_mu[i]:.4f}",
                                          issued=f"{issued_mu[i]:.4f}", rel=f"{rel:+.1f}")
    for i in np.flatnonzero(area_mu < SLIVER_MU):
        flags[i]["sliver"] = note("imports.flag_sliver", m2=f"{area_mu[i] * M2_PER_MU:.3f}")
    base = np.where(np.isfinite(issued_mu), np.maximum(issued_mu, area_mu), area_mu)
    for i in np.flatnonzero(np.isfinite(cultivated_mu) & (cultivated_mu > base * 1.01 + 0.01)):
        flags[i]["cultivated_exceeds_area"] = note("imports.flag_cultivated_exceeds", cultivated=f"{cultivated_mu[i]:.4f}",
                                                   area=f"{base[i]:.4f}")
    return flags


def duplicate_codes(codes) -> dict[str, list[int]]:
    """Codes that occur more than once, with the 0-based positions where they do."""
    positions: dict[str, list[int]] = {}
    for i, code in enumerate(codes):
        positions.setdefault(code, []).append(i)
    return {c: p for c, p in positions.items() if len(p) > 1}
