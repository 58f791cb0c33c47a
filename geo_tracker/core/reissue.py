"""Comparing a re-issued batch with what is stored, patch code by patch code.

Bureaus re-issue corrected batches. What matters to the township is what really
changed: a patch whose remark (备注) was edited keeps its verification, case and
rectification as they are; a patch whose shape or issued area moved must be
checked again. So a stored patch is one of five things to the new delivery:
unchanged, attributes_changed, changed, withdrawn, or it is new.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import shapely

from .overlap import same_shape

#: Issued areas (亩) closer than this are the same figure written again.
ISSUED_AREA_EPSILON_MU = 1e-4
KINDS = ("unchanged", "attributes_changed", "changed", "withdrawn", "new")


def fingerprints(geometries, attrs_json: list[str]) -> list[str]:
    """SHA-256 over each geometry's WKB and its attributes' JSON text: equal means unchanged."""
    wkbs = shapely.to_wkb(np.asarray(geometries, dtype=object))
    return [hashlib.sha256(w + a.encode()).hexdigest() for w, a in zip(wkbs, attrs_json)]


def same_issue(new_geoms, old_geoms, new_issued_mu, old_issued_mu) -> np.ndarray:
    """Whether each re-issued patch keeps its shape (within 1 mm) and its issued area."""
    new_issued = np.asarray(new_issued_mu, dtype=float)
    old_issued = np.asarray(old_issued_mu, dtype=float)
    both_missing = np.isnan(new_issued) & np.isnan(old_issued)
    close = np.abs(new_issued - old_issued) <= ISSUED_AREA_EPSILON_MU
    return same_shape(new_geoms, old_geoms) & (both_missing | close)


@dataclass
class ReissueDiff:
    """Patch codes by what the new delivery does to them; filled chunk by chunk."""

    unchanged: list[str] = field(default_factory=list)
    attributes_changed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    withdrawn: list[str] = field(default_factory=list)
    new: list[str] = field(default_factory=list)

    def classify(self, stored: dict[str, str], codes, prints, same: np.ndarray | None = None) -> np.ndarray:
        """Add incoming ``codes`` with their fingerprints; return which rows need writing.

        ``same[i]`` says whether row ``i`` keeps its stored shape and issued area (see
        :func:`same_issue`); it decides attributes_changed against changed.
        """
        write = np.zeros(len(codes), dtype=bool)
        for i, (code, fp) in enumerate(zip(codes, prints)):
            before = stored.get(code)
            if before is None:
                self.new.append(code)
                write[i] = True
            elif before == fp:
                self.unchanged.append(code)
            else:
                (self.attributes_changed if same is not None and same[i] else self.changed).append(code)
                write[i] = True
        return write

    def finish(self, stored: dict[str, str], kept=()) -> None:
        """Stored codes the delivery no longer has are withdrawn; ``kept`` codes (features
        the delivery has but that could not be imported) stay as they are."""
        seen = set(self.unchanged) | set(self.attributes_changed) | set(self.changed) | set(self.new)
        seen.update(kept)
        self.withdrawn = [code for code in stored if code not in seen]

    def counts(self) -> dict[str, int]:
        return {k: len(getattr(self, k)) for k in KINDS}

    def codes(self) -> dict[str, list[str]]:
        return {k: list(getattr(self, k)) for k in KINDS if k != "unchanged"}


def diff_by_code(stored: dict[str, str], incoming: dict[str, str]) -> ReissueDiff:
    """Classify codes given ``{patch_code: fingerprint}`` of the stored and the new delivery."""
    diff = ReissueDiff()
    diff.classify(stored, list(incoming), list(incoming.values()))
    diff.finish(stored)
    return diff
