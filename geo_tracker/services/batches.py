"""Listing and showing batches (批次); importing one lives in :mod:`.batch_import`."""

from __future__ import annotations

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
            raise BatchNotFoundError(
                f"no batch named {name!r}{f' from {source}' if source else ''}: "
                "`geo-tracker batches list` shows the batches"
            )
        if len(found) > 1:
            sources = ", ".join(r.source for r in found)
            raise InvalidValueError(f"batch {name!r} exists for several sources ({sources}): add --source")
        batch = dict(found[0]._mapping)
        summary = next((b for b in repo.list_batches(conn, villages) if b["id"] == batch["id"]), None)
        if summary is None:  # none of the user's patches: as unknown as a batch that does not exist
            raise BatchNotFoundError(f"no batch named {name!r}: `geo-tracker batches list` shows the batches")
        imports = repo.batch_imports_of(conn, batch["id"], villages)
        if villages is not None:
            imports = [{k: v for k, v in i.items() if k != "report"} for i in imports]
        return {**summary, "imports": imports, "patch_list": repo.patches_of(conn, batch["id"], villages)}
