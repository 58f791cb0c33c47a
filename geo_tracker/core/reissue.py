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
    """Patch codes by what the new delivery does to them; filled chunk by chunk."""

    unchanged: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    withdrawn: list[str] = field(default_factory=list)
    new: list[str] = field(default_factory=list)

    def classify(self, stored: dict[str, str], codes, prints) -> np.ndarray:
        """Add incoming ``codes`` with their fingerprints; return which rows need writing."""
        write = np.zeros(len(codes), dtype=bool)
        for i, (code, fp) in enumerate(zip(codes, prints)):
            before = stored.get(code)
            if before is None:
                self.new.append(code)
                write[i] = True
            elif before == fp:
                self.unchanged.append(code)
            else:
                self.changed.append(code)
                write[i] = True
        return write

    def finish(self, stored: dict[str, str]) -> None:
        """Stored codes the delivery no longer has are withdrawn."""
        seen = set(self.unchanged) | set(self.changed) | set(self.new)
        self.withdrawn = [code for code in stored if code not in seen]

    def counts(self) -> dict[str, int]:
        return {k: len(v) for k, v in self.__dict__.items()}


def diff_by_code(stored: dict[str, str], incoming: dict[str, str]) -> ReissueDiff:
    """Classify codes given ``{patch_code: fingerprint}`` of the stored and the new delivery."""
    diff = ReissueDiff()
    diff.classify(stored, list(incoming), list(incoming.values()))
    diff.finish(stored)
    return diff
