"""The dossier's location map (图斑位置示意图): the patch over its village and the neighbouring villages.

Drawn with matplotlib from the stored outlines alone (no tiles, no network), because the
dossier is printed in offices whose PCs have no internet. Everything is projected to a
local transverse Mercator on the CGCS2000 ellipsoid centred on the patch, so the map is in
metres: north is up and the scale bar is true at the patch. A patch too small to see at
village scale is ringed and drawn again, enlarged, in an inset with its own scale bar.
"""

from __future__ import annotations

import math
import threading
from io import BytesIO

import numpy as np
import shapely
from matplotlib import rc_context
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Circle, PathPatch, Polygon, Rectangle
from matplotlib.path import Path as MplPath
from pyproj import Transformer

from .charts import cjk_font

_DRAWING = threading.Lock()

#: Figure size (inches) and resolution: 156 mm wide on the page at 200 dpi is sharp in print.
FIGSIZE, DPI = (6.6, 4.4), 200
#: Below this share of the view's width the patch is ringed and shown enlarged in an inset.
SMALL_SHARE = 0.08
PATCH_FACE, PATCH_EDGE = "#e03131", "#a51111"
OWN_FACE, OWN_EDGE, OTHER_EDGE = "#fff4d6", "#1c3f95", "#7a7a7a"
#: Where the inset sits, and the corners the legend, scale bar and north arrow take (axes fractions
#: x0, y0, x1, y1): village names are placed outside them.
INSET = (0.015, 0.56, 0.355, 0.985)
RESERVED = ((0.0, 0.0, 0.2, 0.17), (0.74, 0.0, 1.0, 0.14), (0.88, 0.74, 1.0, 1.0))


def patch_map_png(patch, villages: list[dict], *, dpi: int = DPI) -> bytes:
    """The map as PNG bytes. ``patch`` is a (multi)polygon in EPSG:4490; ``villages`` are dicts
    with ``name``, ``geometry`` (EPSG:4490), ``own`` (the patch lies in it) and ``frames`` (the map
    shows it whole: its own villages, or the nearest one of a patch outside them all)."""
    to_metres = _projector(patch)
    shape = to_metres(patch)
    units = [{**v, "geometry": to_metres(v["geometry"])} for v in villages]
    # rcParams are global: one map at a time, as the service draws them in worker threads.
    with _DRAWING, rc_context({"font.sans-serif": [cjk_font(), "DejaVu Sans"], "font.family": "sans-serif",
                               "axes.unicode_minus": False}):
        fig = Figure(figsize=FIGSIZE, dpi=dpi)
        ax = fig.add_axes((0.005, 0.005, 0.99, 0.99))
        view = _view(shape, [u["geometry"] for u in units if u.get("frames", u["own"])], FIGSIZE[0] / FIGSIZE[1])
        small = (shape.bounds[2] - shape.bounds[0]) < SMALL_SHARE * (view[2] - view[0])
        _villages(ax, units, view, RESERVED + ((INSET,) if small else ()))
        _draw(ax, shape, facecolor=PATCH_FACE, edgecolor=PATCH_EDGE, linewidth=1.2, alpha=0.75, zorder=5)
        if small:
            _ring(ax, shape, view)
        _frame(ax, view)
        _scale_bar(ax, view)
        _north_arrow(ax)
        _legend(ax, any(u["own"] for u in units), any(not u["own"] for u in units))
        if small:
            _inset(ax, shape, units)
        out = BytesIO()
        fig.savefig(out, format="png", dpi=dpi, facecolor="white")
    return out.getvalue()


def local_crs(patch) -> str:
    """A transverse Mercator on the CGCS2000 ellipsoid centred on the patch: metres, north up."""
    centre = patch.centroid
    return (f"+proj=tmerc +lat_0={centre.y:.7f} +lon_0={centre.x:.7f} +k=1 +x_0=0 +y_0=0 "
            "+ellps=GRS80 +units=m +no_defs")


def _projector(patch):
    """A function projecting EPSG:4490 geometries to metres around the patch's centre."""
    transformer = Transformer.from_crs(4490, local_crs(patch), always_xy=True)

    def project(geometry):
        """The geometry in metres (vectorised over its coordinates)."""
        return shapely.transform(geometry, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])))
    return project


def _view(shape, own: list, aspect: float) -> tuple[float, float, float, float]:
    """The extent shown: the patch's villages (or the patch, widened, without them) with a margin, at
    the figure's aspect; centred on the patch instead when a corner (legend, scale bar, north arrow,
    inset) would cover it there."""
    x0, y0, x1, y1 = shapely.union_all([shape, *own]).bounds
    c = shape.centroid
    floor = max(x1 - x0, y1 - y0, 60.0) * (0.3 if own else 3) / 2
    view = _fit((x0 + x1) / 2, (y0 + y1) / 2, max((x1 - x0) / 2 * 1.12, floor), max((y1 - y0) / 2 * 1.12, floor),
                aspect)
    corners = [_in_view(_grown(box, 0.05), view) for box in (*RESERVED, INSET)]
    if any(box.contains(c) for box in corners):
        view = _fit(c.x, c.y, max(c.x - x0, x1 - c.x) * 1.1, max(c.y - y0, y1 - c.y) * 1.1, aspect)
    return view


def _fit(cx: float, cy: float, half_w: float, half_h: float, aspect: float) -> tuple[float, float, float, float]:
    """The box round (cx, cy) at least half_w × half_h, widened to ``aspect``."""
    if half_w / half_h < aspect:
        half_w = half_h * aspect
    else:
        half_h = half_w / aspect
    return cx - half_w, cy - half_h, cx + half_w, cy + half_h


def _grown(fractions, by: float):
    """A box in axes fractions, grown on every side (room for the ring round the patch)."""
    x0, y0, x1, y1 = fractions
    return x0 - by, y0 - by, x1 + by, y1 + by


def _draw(ax, geometry, **style) -> None:
    """A (multi)polygon with its holes, as one path patch per part."""
    for part in getattr(geometry, "geoms", [geometry]):
        if part.is_empty or part.geom_type != "Polygon":
            continue
        vertices, codes = [], []
        for ring in (part.exterior, *part.interiors):
            xy = np.asarray(ring.coords)
            vertices.extend(xy)
            codes.extend([MplPath.MOVETO] + [MplPath.LINETO] * (len(xy) - 2) + [MplPath.CLOSEPOLY])
        ax.add_patch(PathPatch(MplPath(np.asarray(vertices), codes), **style))


def _villages(ax, units: list[dict], view, reserved) -> None:
    """Village outlines, the patch's own filled; each named where it shows inside the view, clear of
    the ``reserved`` corners (axes fractions)."""
    box = shapely.box(*view)
    inner = shapely.box(*_shrunk(view, 0.06)).difference(shapely.union_all([_in_view(r, view) for r in reserved]))
    for unit in sorted(units, key=lambda u: u["own"]):
        own = unit["own"]
        _draw(ax, unit["geometry"], facecolor=OWN_FACE if own else "none", edgecolor=OWN_EDGE if own else OTHER_EDGE,
              linewidth=1.8 if own else 0.9, linestyle="-" if own else (0, (4, 2)), zorder=3 if own else 2)
        seen = shapely.intersection(unit["geometry"], inner)
        if seen.is_empty or seen.area < 0.01 * box.area or not unit.get("name"):
            continue
        spot = seen.representative_point() if not own else _label_spot(seen)
        ax.text(spot.x, spot.y, unit["name"], ha="center", va="center", zorder=6,
                fontsize=11 if own else 9, color=OWN_EDGE if own else "#555555",
                fontweight="bold" if own else "normal")


def _in_view(fractions, view):
    """A box given in axes fractions, in the map's metres."""
    x0, y0, x1, y1 = view
    fx0, fy0, fx1, fy1 = fractions
    return shapely.box(x0 + fx0 * (x1 - x0), y0 + fy0 * (y1 - y0), x0 + fx1 * (x1 - x0), y0 + fy1 * (y1 - y0))


def _label_spot(area):
    """Where the own village's name goes: its widest inner point, not its centroid (which may be outside)."""
    return shapely.point_on_surface(area) if area.geom_type != "Polygon" else \
        shapely.Point(*shapely.get_coordinates(shapely.maximum_inscribed_circle(area, 1.0))[0])


def _shrunk(view, share: float) -> tuple[float, float, float, float]:
    """The view less a margin: labels there would be cut by the frame."""
    x0, y0, x1, y1 = view
    dx, dy = (x1 - x0) * share, (y1 - y0) * share
    return x0 + dx, y0 + dy, x1 - dx, y1 - dy


def _ring(ax, shape, view) -> None:
    """A red ring round a patch too small to see at this scale."""
    c = shape.centroid
    radius = 0.035 * (view[2] - view[0])
    ax.add_patch(Circle((c.x, c.y), radius, fill=False, edgecolor=PATCH_EDGE, linewidth=1.6, zorder=7))


def _frame(ax, view) -> None:
    """Limits, equal scale in x and y (metres), no ticks: a map, not a chart."""
    ax.set_xlim(view[0], view[2])
    ax.set_ylim(view[1], view[3])
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_linewidth(1.0)


def nice_length(width_m: float) -> float:
    """A round scale-bar length (1, 2 or 5 × 10ⁿ metres) near a fifth of ``width_m``."""
    target = max(width_m / 5, 1e-3)
    power = 10 ** math.floor(math.log10(target))
    return max((m * power for m in (1, 2, 5, 10) if m * power <= target), default=power)


def _metres(value: float) -> str:
    """A scale-bar figure without trailing zeros (50, 2.5)."""
    return f"{value:g}" if value < 1e6 else f"{value:.0f}"


def _scale_bar(ax, view, *, fontsize: float = 8.5, corner: str = "right") -> None:
    """A two-segment black-and-white bar in metres, lower right (lower left for the inset)."""
    x0, y0, x1, y1 = view
    length = nice_length(x1 - x0)
    height = (y1 - y0) * 0.014
    left = x1 - (x1 - x0) * 0.07 - length if corner == "right" else x0 + (x1 - x0) * 0.06
    bottom = y0 + (y1 - y0) * 0.06
    for i, colour in enumerate(("black", "white")):
        ax.add_patch(Rectangle((left + i * length / 2, bottom), length / 2, height, facecolor=colour,
                               edgecolor="black", linewidth=0.8, zorder=9))
    ticks = (0, 2) if corner == "left" else (0, 1, 2)     # the inset's bar is too short for three labels
    label = {"ha": "center", "va": "bottom", "fontsize": fontsize, "zorder": 9,
             "bbox": {"facecolor": "white", "edgecolor": "none", "pad": 0.5, "alpha": 0.7}}
    for i in ticks:
        ax.text(left + i * length / 2, bottom + height * 1.6, _metres(i * length / 2), **label)
    ax.text(left + length + (x1 - x0) * 0.008, bottom + height / 2, "米", **{**label, "ha": "left", "va": "center"})


def _north_arrow(ax) -> None:
    """A half-filled arrow with 北 over it, upper right (in axes coordinates, so it is always upright)."""
    x, y, w, h = 0.94, 0.80, 0.022, 0.10
    transform = ax.transAxes
    ax.add_patch(Polygon([(x - w, y), (x, y + h), (x, y + h * 0.28)], closed=True, facecolor="black",
                         edgecolor="black", linewidth=0.8, transform=transform, zorder=9))
    ax.add_patch(Polygon([(x + w, y), (x, y + h), (x, y + h * 0.28)], closed=True, facecolor="white",
                         edgecolor="black", linewidth=0.8, transform=transform, zorder=9))
    ax.text(x, y + h + 0.012, "北", transform=transform, ha="center", va="bottom", fontsize=12,
            fontweight="bold", zorder=9)


def _legend(ax, own: bool, neighbours: bool) -> None:
    """The legend, lower left, with the entries the map draws."""
    handles = [Rectangle((0, 0), 1, 1, facecolor=PATCH_FACE, edgecolor=PATCH_EDGE, alpha=0.75, label="图斑范围")]
    if own:
        handles.append(Line2D([], [], color=OWN_EDGE, linewidth=1.8, label="所在村界"))
    if neighbours:
        handles.append(Line2D([], [], color=OTHER_EDGE, linewidth=0.9, linestyle=(0, (4, 2)), label="相邻村界"))
    ax.legend(handles=handles, loc="lower left", fontsize=8.5, framealpha=0.9, edgecolor="#444444",
              fancybox=False, borderpad=0.6).set_zorder(10)


def _inset(ax, shape, units: list[dict]) -> None:
    """The patch enlarged in the upper left, with the village lines that cross it and its own scale bar."""
    inset = ax.inset_axes((INSET[0], INSET[1], INSET[2] - INSET[0], INSET[3] - INSET[1]))
    inset.set_zorder(20)                                   # over the main map's labels
    x0, y0, x1, y1 = shape.bounds
    side = max(x1 - x0, y1 - y0, 10.0) * 1.5
    aspect = (INSET[2] - INSET[0]) * FIGSIZE[0] / ((INSET[3] - INSET[1]) * FIGSIZE[1])
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    width, height = (side * aspect, side) if aspect >= 1 else (side, side / aspect)
    view = (cx - width / 2, cy - height / 2, cx + width / 2, cy + height / 2)
    for unit in units:
        _draw(inset, unit["geometry"], facecolor=OWN_FACE if unit["own"] else "white",
              edgecolor=OWN_EDGE if unit["own"] else OTHER_EDGE, linewidth=1.2, zorder=2)
    _draw(inset, shape, facecolor=PATCH_FACE, edgecolor=PATCH_EDGE, linewidth=1.2, alpha=0.75, zorder=5)
    _frame(inset, view)
    inset.set_facecolor("white")
    for spine in inset.spines.values():
        spine.set_edgecolor(PATCH_EDGE)
        spine.set_linewidth(1.2)
    inset.text(0.5, 0.965, "图斑放大", transform=inset.transAxes, ha="center", va="top", fontsize=9,
               zorder=9, bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.0, "alpha": 0.8})
    _scale_bar(inset, view, fontsize=7.5, corner="left")


#: The before/after figure: two panels side by side, each square, and the outline's colour on imagery.
PAIR_FIGSIZE, PAIR_EDGE = (6.6, 3.55), "#ffd43b"


def pair_view(patch) -> tuple[float, float, float, float]:
    """The square extent (metres in :func:`local_crs`) each before/after panel shows: the patch
    with a margin, at least 80 m across."""
    x0, y0, x1, y1 = _projector(patch)(patch).bounds
    half = max(x1 - x0, y1 - y0, 80.0) * 0.75
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return cx - half, cy - half, cx + half, cy + half


def before_after_png(patch, panels: list[dict], *, dpi: int = DPI) -> bytes:
    """The patch on its before and after images (前时相 / 后时相), side by side with the outline,
    a scale bar, north and each image's date. ``panels``: dicts with ``title`` (e.g. "前时相
    2023-03-01") and ``rgba`` (the image over :func:`pair_view`, or None: 无影像)."""
    shape = _projector(patch)(patch)
    view = pair_view(patch)
    with _DRAWING, rc_context({"font.sans-serif": [cjk_font(), "DejaVu Sans"], "font.family": "sans-serif",
                               "axes.unicode_minus": False}):
        fig = Figure(figsize=PAIR_FIGSIZE, dpi=dpi)
        for i, panel in enumerate(panels[:2]):
            ax = fig.add_axes((0.01 + i * 0.5, 0.09, 0.48, 0.89))
            if panel.get("rgba") is not None:
                ax.imshow(panel["rgba"], extent=(view[0], view[2], view[1], view[3]), origin="upper",
                          interpolation="bilinear", zorder=1)
            else:
                ax.set_facecolor("#eeeeee")
                ax.text(0.5, 0.5, "无影像", transform=ax.transAxes, ha="center", va="center", fontsize=12,
                        color="#666666")
            _draw(ax, shape, facecolor="none", edgecolor=PAIR_EDGE, linewidth=1.8, zorder=5)
            _frame(ax, view)
            _scale_bar(ax, view)
            _north_arrow(ax)
            fig.text(0.01 + i * 0.5 + 0.24, 0.035, panel["title"], ha="center", va="center", fontsize=10)
        out = BytesIO()
        fig.savefig(out, format="png", dpi=dpi, facecolor="white")
    return out.getvalue()
