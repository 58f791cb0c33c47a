"""The ``geo-tracker`` command: parses input, calls one service, formats output.

Errors a user can fix (``GeoTrackerError``) print one ``Error: ...`` line on stderr
and exit 2; anything else is our bug and exits 1 (``--debug`` shows the traceback).
"""

from __future__ import annotations

from .app import cli, main

#: Each command (group) and the modules that register it on ``cli``, imported when it runs.
COMMAND_MODULES: dict[str, tuple[str, ...]] = {
    "batches": ("batches",), "boundaries": ("boundaries",), "cases": ("cases",), "vocab": ("cases",),
    "complaints": ("complaints",), "demo": ("demo",), "info": ("database",), "init": ("database",),
    "landuse": ("landuse",), "map": ("maps",), "serve-tiles": ("maps",), "patches": ("patches", "tracking"),
    "patrols": ("patrols",), "report": ("stats",), "stats": ("stats",), "serve": ("serve",),
    "tokens": ("accounts",), "users": ("accounts",),
}
cli.lazy = COMMAND_MODULES

__all__ = ["cli", "main", "COMMAND_MODULES"]
