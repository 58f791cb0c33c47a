"""Listing and showing batches (批次); importing one lives in :mod:`.batch_import`."""

from __future__ import annotations

from ..catalogue import msg
from ..errors import BatchNotFoundError, InvalidValueError
from ..store import Store
from ..store import batches as repo
from .batch_import import SOURCE_LABELS, SOURCES, ImportOptions, ImportReport, import_batch

__all__ = ["SOURCES", "SOURCE_LABELS", "ImportOptions", "ImportReport", "import_batch", "list_batches", "show_batch"]


def list_batches(store: Store, *, villages=None) -> list[dict]:
    """Every batch; with ``villages`` (a user's scope) its counts and areas cover only those villages."""
    with store.engine.connect() as conn:
        return repo.list_batches(conn, villages)


def show_batch(store: Store, name: str, source: str | None = None, *, villages=None) -> dict:
    """One batch with its imports (and their reports) and its current patches.

    With ``villages`` (a user's scope): only those villages' patches, and the imports
    without their reports, which name every feature of the delivery.
    """
    with store.engine.connect() as conn:
        found = repo.find_batch(conn, source, name)
        if not found:
            raise BatchNotFoundError(msg("imports.batch_not_found_from", name=name, source=source) if source
                                     else msg("imports.batch_not_found", name=name))
        if len(found) > 1:
            sources = ", ".join(r.source for r in found)
            raise InvalidValueError(msg("imports.batch_several_sources", name=name, sources=sources))
        batch = dict(found[0]._mapping)
        summary = next((b for b in repo.list_batches(conn, villages) if b["id"] == batch["id"]), None)
        if summary is None:  # none of the user's patches: as unknown as a batch that does not exist
            raise BatchNotFoundError(msg("imports.batch_not_found", name=name))
        imports = repo.batch_imports_of(conn, batch["id"], villages)
        if villages is not None:
            imports = [{k: v for k, v in i.items() if k != "report"} for i in imports]
        return {**summary, "imports": imports, "patch_list": repo.patches_of(conn, batch["id"], villages)}


def batch_progress(store: Store, name: str, source: str | None = None, *, as_of=None, villages=None) -> dict:
    """A batch's progress (批次进度): the figures of ``stats --batch NAME``, in total and by village,
    and the patches due in the next 14 days."""
    from .patches import DUE_SOON_DAYS, due_soon
    from .stats import compute_stats

    batch = show_batch(store, name, source, villages=villages)
    stats = compute_stats(store, as_of=as_of, batch=name, source=batch["source"], villages=villages,
                          by=["village"])
    soon = due_soon(store, as_of=as_of, batch=name, source=batch["source"], villages=villages)
    return {"batch": {k: batch[k] for k in ("name", "source", "issued_on", "deadline")},
            "as_of": stats["as_of"], "total": stats["total"], "villages": stats["groups"],
            "due_soon": len(soon), "due_soon_days": DUE_SOON_DAYS,
            "due_soon_patches": soon.drop(columns="geometry").to_dict("records")}
