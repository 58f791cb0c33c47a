"""Imagery (影像) use cases: import a GeoTIFF, COG, MBTiles or a delivery's image clips; list and
remove layers; serve their tiles to the users whose units they cover; pick a patch's before and
after images (前时相 / 后时相) and draw them for documents."""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Collection
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import shapely

from ..catalogue import in_language, msg
from ..core.crs import crs_label
from ..core.imagery import (AFTER_LABEL, BEFORE_LABEL, before_and_after, reference_date, tiles_covering,
                            visible_to)
from ..core.tiles import check_tile, tile_bounds_lonlat
from ..errors import InputFileError, InvalidValueError, NotFoundError
from ..io import imagery as files
from ..store import Store
from ..store import batches as batches_repo
from ..store import imagery as repo
from .tracking import actor

#: A layer's tiles; ``v`` (its content) tells a browser's or a phone's cached tiles of a removed
#: layer from those of a later one that was given the same id.
TILE_URL = "/imagery/{id}/tiles/{{z}}/{{x}}/{{y}}.{fmt}?v={version}"
FORMATS = ("png", "webp")


@dataclass
class ImageryImportReport:
    """What an import kept: the new layers, those whose content was already kept, and warnings."""

    file: str
    imported: list[dict] = field(default_factory=list)
    already: list[dict] = field(default_factory=list)
    warnings: list = field(default_factory=list)

    def to_dict(self, lang: str = "en") -> dict:
        return in_language({"file": self.file, "imported": self.imported, "already": self.already,
                            "warnings": self.warnings}, lang)


@dataclass(frozen=True)
class Wanted:
    """One image to keep: the file, its date and label, and the patch of a delivery's clip."""

    path: Path
    acquired_on: date
    label: str | None
    name: str
    patch_id: int | None = None
    patch: str | None = None


def import_imagery(store: Store, path: str | Path, *, acquired_on: date | None = None, label: str | None = None,
                   name: str | None = None, crs: str | None = None, batch: str | None = None,
                   user: str | None = None) -> ImageryImportReport:
    """Keep an image as a layer: a GeoTIFF or COG (converted once to a COG with overviews), an
    MBTiles (passed through), or a delivery (zip or folder) whose attributes name image clips of
    its patches (QSIMG/HSIMG), each kept beside its patch with the date of its 前时相/后时相.
    Everything is checked before anything is kept; a bad file changes nothing."""
    from .imagery_clips import delivery_clips, is_delivery

    path = Path(path)
    with store.engine.connect() as conn:
        reference = batches_repo.reference_geometry(conn, store)
    with ExitStack() as stack:
        if is_delivery(path):
            wanted = stack.enter_context(delivery_clips(store, path, acquired_on=acquired_on, batch=batch))
        elif not path.exists():
            raise InputFileError(msg("imagery.file_missing", path=path))
        elif acquired_on is None:
            raise InvalidValueError(msg("imagery.date_required", file=path.name), field="date")
        else:
            wanted = [Wanted(path, acquired_on, label, name or path.stem)]
        found = [files.inspect_imagery(w.path, crs=crs, reference=reference) for w in wanted]
        return _keep(store, path, list(zip(wanted, found)), user)


def _keep(store: Store, path: Path, pairs: list, user: str | None) -> ImageryImportReport:
    """Convert and keep the new files first (minutes for a large orthophoto, outside any
    transaction), then record them all in one; a failure removes what it kept."""
    report = ImageryImportReport(str(path))
    with store.engine.connect() as conn:
        todo = []
        for want, found in pairs:
            earlier = [e for e in repo.same_content(conn, found.sha256)
                       if e["patch_id"] == want.patch_id and e["label"] == want.label]
            if earlier:
                report.already.append({"id": earlier[0]["id"], "name": earlier[0]["name"],
                                       "date": earlier[0]["acquired_on"].isoformat(), "file": want.path.name})
            else:
                todo.append((want, found))
    kept: list[Path] = []
    try:
        for want, found in todo:
            kept.append(files.keep_imagery(found, store.imagery_dir))
        with store.transaction() as conn:
            for (want, found), stored in zip(todo, kept):
                values = _row(want, found, stored, user)
                values["id"] = repo.add(conn, store, values, shapely.MultiPolygon([found.footprint]))
                report.imported.append(_summary(values, found))
                report.warnings.extend(found.warnings)
    except BaseException:
        for stored in kept:
            _forget_file(store, stored)
        raise
    _LAYERS.clear()
    return report


def _row(want: Wanted, found: files.ImageryFile, stored: Path, user: str | None) -> dict:
    """The layer's row; a kept file is named by its SHA-256."""
    return {"name": want.name, "label": want.label, "acquired_on": want.acquired_on, "kind": found.kind,
            "sha256": stored.stem, "source_sha256": found.sha256, "stored_path": str(stored),
            "file_name": want.path.name, "size_bytes": stored.stat().st_size, "crs": crs_label(found.crs.crs),
            "crs_reason": str(found.crs.reason),
            "resolution_m": round(found.resolution_m, 3), "min_zoom": found.min_zoom, "max_zoom": found.max_zoom,
            "tile_format": found.tile_format, "patch_id": want.patch_id, "warnings": [str(w) for w in found.warnings],
            "imported_by": actor(user)}


def _summary(values: dict, found: files.ImageryFile) -> dict:
    return {"id": values["id"], "name": values["name"], "date": values["acquired_on"].isoformat(),
            "label": values["label"], "kind": values["kind"], "crs": values["crs"], "crs_reason": found.crs.reason,
            "resolution_m": values["resolution_m"], "zooms": [values["min_zoom"], values["max_zoom"]],
            "size_bytes": values["size_bytes"], "converted": not found.kept_as_is,
            "bounds": [round(b, 7) for b in found.footprint.bounds]}


def _forget_file(store: Store, stored: Path) -> None:
    """Remove a kept file no row uses (an import that failed after keeping it)."""
    with store.engine.connect() as conn:
        used = repo.uses_of_file(conn, stored.stem)
    if not used:
        stored.unlink(missing_ok=True)


# --- layers --------------------------------------------------------------------------------

_LAYERS: dict = {}
#: Seconds a user's list of visible layers is kept between tile requests.
LAYERS_SECONDS = 5.0


def layer_json(row: dict) -> dict:
    """A layer as the CLI's JSON and the API show it."""
    return {"id": row["id"], "name": row["name"], "date": row["acquired_on"].isoformat(), "label": row["label"],
            "kind": row["kind"], "crs": row["crs"], "resolution_m": row["resolution_m"],
            "bounds": [round(b, 7) for b in row["footprint"].bounds], "min_zoom": row["min_zoom"],
            "max_zoom": row["max_zoom"], "size_bytes": row["size_bytes"], "file_name": row["file_name"],
            "patch": f"{row['batch']}/{row['patch_code']}" if row.get("patch_code") else None,
            "tiles": TILE_URL.format(id=row["id"], fmt="png", version=row["sha256"][:12]),
            "imported_by": row["imported_by"]}


def visible_layers(store: Store, villages: Collection[str] | None = None) -> list[dict]:
    """The layers whose footprint meets the user's units (every layer for a user of all units),
    newest first, whose files are there."""
    return _visible(store, villages)[0]


def _visible(store: Store, villages) -> tuple[list[dict], object]:
    """(layers, the user's area or None), kept a few seconds so a map's tiles do not each ask the
    database; an import or removal in this process drops what is kept."""
    key = (store.display_url, key_of(villages))
    cached = _LAYERS.get(key)
    if cached and cached[0] > time.monotonic():
        return cached[1], cached[2]
    with store.engine.connect() as conn:
        rows = repo.rows(conn, store)
        area = _scope_area(conn, store, villages)
    layers = [lay for lay in visible_to(rows, area) if Path(lay["stored_path"]).is_file()]
    _LAYERS[key] = (time.monotonic() + LAYERS_SECONDS, layers, area)
    return layers, area


def forget_layers() -> None:
    """Drop the kept lists of layers (another process imported or removed some)."""
    _LAYERS.clear()


def _scope_area(conn, store: Store, villages):
    if villages is None:
        return None
    outlines = repo.unit_geometries(conn, store, villages)
    return shapely.union_all(outlines) if outlines else shapely.Polygon()


def list_imagery(store: Store, villages: Collection[str] | None = None) -> list[dict]:
    return [layer_json(row) for row in visible_layers(store, villages)]


def remove_imagery(store: Store, imagery_id: int) -> dict:
    """Remove a layer; its file goes when no other layer keeps it (dossiers embed their images)."""
    with store.transaction() as conn:
        found = repo.rows(conn, store, ids=[imagery_id])
        if not found:
            raise NotFoundError(msg("imagery.not_found", id=imagery_id))
        repo.remove(conn, imagery_id)
        left = repo.uses_of_file(conn, found[0]["sha256"])
    if not left:
        Path(found[0]["stored_path"]).unlink(missing_ok=True)
    _LAYERS.clear()
    return layer_json(found[0])


@dataclass(frozen=True)
class Tile:
    """What answers a tile request: the bytes (None when the client's copy is current), the media
    type and the ETag (the image's content and the user's area: a kept image never changes)."""

    data: bytes | None
    media: str
    etag: str


def imagery_tile(store: Store, villages, imagery_id: int, z: int, x: int, y: int, fmt: str,
                 if_none_match: str | None = None) -> Tile:
    """A layer's Web Mercator tile; :class:`NotFoundError` for a tile outside the image or outside
    the user's units. Where a tile reaches beyond the user's units it is cut to them (at low zooms
    one tile spans a county); MBTiles tiles are otherwise passed through as stored."""
    if fmt not in FORMATS:
        raise NotFoundError(msg("imagery.tile_format", fmt=fmt))
    check_tile(z, x, y)
    layers, area = _visible(store, villages)
    layer = next((lay for lay in layers if lay["id"] == imagery_id), None)
    box = shapely.box(*tile_bounds_lonlat(z, x, y))
    if (layer is None or not layer["footprint"].intersects(box) or (area is not None and not area.intersects(box))
            or not Path(layer["stored_path"]).is_file()):
        raise NotFoundError(msg("imagery.no_tile", id=imagery_id, z=z, x=x, y=y))
    cut = area is not None and not area.contains(box)
    media = files.MEDIA_TYPES[fmt if layer["kind"] != "mbtiles" or cut else layer["tile_format"]]
    scope = "" if area is None else hashlib.sha1(repr(key_of(villages)).encode()).hexdigest()[:8]
    etag = f'"{layer["sha256"][:20]}-{fmt}{"-" + scope if cut else ""}"'
    if if_none_match == etag:
        return Tile(None, media, etag)
    data = _render(layer, z, x, y, fmt)
    if data is not None and cut:
        data = files.cut_tile(data, area, (z, x, y), fmt)
    if data is None:
        raise NotFoundError(msg("imagery.no_tile", id=imagery_id, z=z, x=x, y=y))
    return Tile(data, media, etag)


def _render(layer: dict, z: int, x: int, y: int, fmt: str) -> bytes | None:
    """A layer's tile as it is kept: read from an MBTiles as stored, or rendered from the COG as ``fmt``."""
    if layer["kind"] == "mbtiles":
        return files.mbtiles_tile(layer["stored_path"], z, x, y)
    return files.cog_tile(layer["stored_path"], z, x, y, fmt)


def key_of(villages) -> tuple | None:
    return None if villages is None else tuple(sorted(villages))


# --- a patch's before and after -------------------------------------------------------------


def patch_pair(store: Store, patch: dict, villages=None) -> dict:
    """The patch's before and after layers (dicts of :func:`layer_json`, or None) and the day that
    divides them. ``patch``: :func:`~.patches.show_patch`."""
    _outline, divide, chosen = _chosen(patch, visible_layers(store, villages))
    return {"divide": divide.isoformat() if divide else None,
            **{role: layer_json(layer) if layer else None for role, layer in chosen.items()}}


def _chosen(patch: dict, layers: list[dict]):
    """(outline, the dividing day, {"before", "after"}) of a patch among ``layers``."""
    outline = shapely.geometry.shape(patch["geometry"])
    divide = reference_date(patch.get("attrs") or {}, _day(patch.get("issued_on")))
    return outline, divide, before_and_after(layers, outline, patch.get("lineage_id"), divide)


def _day(value):
    return date.fromisoformat(value) if isinstance(value, str) else value


def pair_picture(store: Store, patch: dict, villages=None) -> bytes | None:
    """The before/after figure of a patch for the dossier and the report (None when no image covers it)."""
    from ..reports.dossier_map import before_after_png, local_crs, pair_view

    # Checked again here: the kept list may still name a layer another process removed a moment ago.
    present = [lay for lay in visible_layers(store, villages) if Path(lay["stored_path"]).is_file()]
    outline, _divide, chosen = _chosen(patch, present)
    if not any(chosen.values()):
        return None
    view, crs = pair_view(outline), local_crs(outline)
    panels = []
    for role, word in (("before", BEFORE_LABEL), ("after", AFTER_LABEL)):
        layer = chosen[role]
        rgba = files.image_part(layer["stored_path"], view, crs, width=640, height=640) if layer else None
        title = f"{word} {layer['acquired_on'].isoformat()}（{layer['name']}）" if layer else f"{word}：无影像"
        panels.append({"title": title, "rgba": rgba})
    return before_after_png(outline, panels)


#: Pairs a report's annex holds at most (each is drawn from the images: a county's thousands would
#: keep a request waiting for minutes); the annex says how many more there were.
REPORT_PAIRS = 100


def report_pairs(store: Store, *, year: int | None = None, villages=None) -> tuple[list[dict], int]:
    """The before/after figures of the current patches (issued in ``year``) that imagery covers, for
    the report's annex: (``{"label", "village", "png"}`` in patch order, how many were left out)."""
    from .patches import list_patches, with_attributes

    layers = visible_layers(store, villages)
    if not layers:
        return [], 0
    frame = list_patches(store, villages=None if villages is None else sorted(villages))
    if year is not None:
        frame = frame[[_day(d).year == year for d in frame["issued_on"]]]
    covered = shapely.union_all([lay["footprint"] for lay in layers])
    frame = frame[frame.geometry.intersects(covered)]
    pairs = []
    for row in with_attributes(store, frame.iloc[:REPORT_PAIRS]).itertuples():
        patch = {"geometry": shapely.geometry.mapping(row.geometry), "attrs": row.attrs, "issued_on": row.issued_on,
                 "lineage_id": int(row.lineage_id)}
        png = pair_picture(store, patch, villages)
        if png:
            pairs.append({"label": f"{row.batch}/{row.patch_code}", "village": row.village_name, "png": png})
    return pairs, max(0, len(frame) - REPORT_PAIRS)


# --- imagery for the field kit ----------------------------------------------------------------

#: Tiles of a package start at this zoom (a township at 12 is a few tiles) and reach round each
#: patch by this margin (metres), so the ground beside it shows too.
FIELD_MIN_ZOOM, FIELD_MARGIN_M = 12, 80.0
MAX_FIELD_ZOOM = 20
#: Tiles rendered per layer to estimate a package's imagery size.
SAMPLED_TILES = 6


def field_tiles(store: Store, outlines: list, villages, max_zoom: int) -> dict:
    """The imagery tiles a work package takes out of signal: for each layer over its patches, the
    tiles round each patch from zoom 12 up to ``max_zoom`` (no finer than the image), with their
    count and a size measured on a sample of them. Tiles are webp."""
    if not FIELD_MIN_ZOOM <= max_zoom <= MAX_FIELD_ZOOM:
        raise InvalidValueError(msg("imagery.field_zoom", low=FIELD_MIN_ZOOM, high=MAX_FIELD_ZOOM, zoom=max_zoom),
                                field="max_zoom")
    boxes = [shapely.box(*_grown(o.bounds)) for o in outlines]
    layers, tiles, total = [], [], 0
    for layer in visible_layers(store, villages):
        near = [b.intersection(layer["footprint"]) for b in boxes if b.intersects(layer["footprint"])]
        top = min(max_zoom, layer["max_zoom"])
        found = sorted({t for b in near if not b.is_empty
                        for t in tiles_covering(b.bounds, max(FIELD_MIN_ZOOM, layer["min_zoom"]), top)})
        if not found:
            continue
        size = _estimated_bytes(layer, found)
        layers.append({**layer_json(layer), "tiles": TILE_URL.format(id=layer["id"], fmt="webp",
                                                                      version=layer["sha256"][:12]),
                       "count": len(found), "bytes": size})
        tiles.extend([layer["id"], z, x, y] for z, x, y in found)
        total += size
    return {"max_zoom": max_zoom, "layers": layers, "tiles": tiles, "count": len(tiles), "bytes": total}



def _grown(bounds) -> tuple[float, float, float, float]:
    west, south, east, north = bounds
    dlat = FIELD_MARGIN_M / 111_320.0
    dlon = dlat / max(0.2, math.cos(math.radians((south + north) / 2)))
    return west - dlon, south - dlat, east + dlon, north + dlat


def _estimated_bytes(layer: dict, found: list) -> int:
    """Mean size of a few of the finest tiles (they are most of them) times their count."""
    finest = [t for t in found if t[0] == found[-1][0]] if found else []
    picked = finest[:: max(1, len(finest) // SAMPLED_TILES)][:SAMPLED_TILES]
    sizes = []
    for z, x, y in picked:
        sizes.append(len(_render(layer, z, x, y, "webp") or b""))
    return int(sum(sizes) / max(1, len(sizes)) * len(found))
