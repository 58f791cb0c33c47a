"""The ``geo-tracker`` command: parses input, calls one service, formats output.

Errors a user can fix (``GeoTrackerError``) print one ``Error: ...`` line on stderr
and exit 2; anything else is our bug and exits 1 (``--debug`` shows the traceback).
"""

from __future__ import annotations

from .app import cli, main

#: Each command (group): the modules that register it on ``cli``, imported only when it runs,
#: and the line ``geo-tracker --help`` shows for it (a test holds it to the command's own).
COMMANDS: dict[str, tuple[tuple[str, ...], str]] = {
    "backup": (("backup",), "Back up the database and its evidence files into one zip archive with a manifest."),
    "batches": (("batches",), "Batches of patches (批次) as the bureaus issue them."),
    "boundaries": (("boundaries",), "Administrative boundaries (县, 乡镇, 行政村) with their history."),
    "cases": (("cases",), "Enforcement cases (立案查处)."),
    "complaints": (("complaints",), "Complaints (投诉举报)."),
    "demo": (("demo",), "Build a demo database, import the shipped sample batches, and show the result."),
    "imagery": (("imagery",), "Imagery (影像: 前时相/后时相, DOM): GeoTIFF, COG, MBTiles or a delivery's image clips."),
    "info": (("database",), "Show the database, its backend, library versions and row counts."),
    "init": (("database",), "Create the database, or upgrade it to this version's schema (safe to repeat)."),
    "landuse": (("landuse",), "The 第三次国土调查 land-use layer (地类图斑, DLTB), for computed 耕地/林地 areas."),
    "map": (("maps",), "Write an interactive map of rectification progress that works offline."),
    "move": (("move",), "Move the whole ledger into another database, ids and history kept; login sessions stay "
                        "behind."),
    "patches": (("patches", "tracking"), "Patches (图斑): list, show, match to villages."),
    "patrols": (("patrols",), "Patrols (巡查): tracks, villages covered, findings that become patches."),
    "qgis-project": (("qgis",), "Write a QGIS project: patches coloured by status with the Chinese legend, and "
                                "the villages."),
    "report": (("stats",), "Write the report: narrative per source, per-village table, charts (md, html or docx)."),
    "review": (("review",), "The county's review before 销号: policies per source, the queue, returned patches."),
    "restore": (("backup",), "Restore a backup into an empty database, upgrading an older schema."),
    "serve": (("serve",), "Serve the JSON API (/api/v1), OGC API Features (/ogc), vector tiles and the map."),
    "serve-tiles": (("maps",), "Serve the patches as vector tiles, with a map page at / (for counties and "
                               "provinces)."),
    "stats": (("stats",), "Area statistics as of a date, by village, batch, source, status, violation or month."),
    "tokens": (("accounts",), "API tokens for scripts and GIS clients (Authorization: Bearer <token>)."),
    "users": (("accounts",), "Accounts of the service: role (viewer, enforcer, liaison, admin) and admin units."),
    "vocab": (("cases",), "The office's lists of violation types (违法类型) and acts (违法行为)."),
}
cli.lazy = COMMANDS

__all__ = ["cli", "main", "COMMANDS"]
