"""Comparing a re-issued batch with what is stored, patch code by patch code.

Bureaus re-issue corrected batches: some patches unchanged, some changed, some
withdrawn, some added. A patch's fingerprint covers its normalised geometry and
its original attributes, so "unchanged" means exactly that.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import shapely


def fingerprints(geometries, attrs_json: list[str]) -> list[str]:
    """SHA-256 over each geometry's WKB and its attributes' JSON text."""
    wkbs = shapely.to_wkb(np.asarray(geometries, dtype=object))
    return [hashlib.sha256(w + a.encode()).hexdigest() for w, a in zip(wkbs, attrs_json)]


@dataclass
class ReissueDiff:
    """Patch codes by what the new delivery does to them."""

    unchanged: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    withdrawn: list[str] = field(default_factory=list)
    new: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {k: len(v) for k, v in self.__dict__.items()}


def diff_by_code(stored: dict[str, str], incoming: dict[str, str]) -> ReissueDiff:
    """Classify codes given ``{patch_code: fingerprint}`` of the stored and the new delivery."""
    diff = ReissueDiff()
    for code, fp in incoming.items():
        if code not in stored:
            diff.new.append(code)
        elif stored[code] == fp:
            diff.unchanged.append(code)
        else:
            diff.changed.append(code)
    diff.withdrawn = [code for code in stored if code not in incoming]
    return diff
