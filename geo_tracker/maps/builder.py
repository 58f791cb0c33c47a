"""Building the rectification map: folium for the page, our own small script for the layers.

Leaflet is vendored (``static/leaflet``, BSD-2-Clause) and copied next to the HTML,
so the page needs no network on a government intranet; basemaps are opt-in.
"""

from __future__ import annotations

import html
import json
import shutil
from pathlib import Path

import folium
import numpy as np
import shapely
from branca.element import Element, MacroElement
from jinja2 import Template

from ..catalogue import msg
from ..core.sources import SOURCE_SHORT_LABELS as SOURCE_LABELS
from ..core.lifecycle import STATUS_LABELS, STATUSES
from ..core.values import plain
from ..errors import InvalidValueError

STATIC = Path(__file__).parent / "static"
COLORS = {"issued": "#adb5bd", "legal": "#74c0fc", "no_change": "#a5d8ff", "illegal": "#e03131",
          "case_filed": "#f76707", "rectifying": "#fab005", "rectified": "#40c057", "submitted": "#7950f2",
          "closed": "#2b8a3e"}
BASEMAPS = {
    "osm": ("https://tile.openstreetmap.org/{z}/{x}/{y}.png", "© OpenStreetMap contributors"),
    "tianditu": ("https://t0.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=vec"
                 "&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILECOL={x}&TILEROW={y}&TILEMATRIX={z}&tk=%s",
                 "© 天地图"),
}
#: Coordinates are written with this many decimals (~0.1 m), enough for a map.
DECIMALS = 6


def _geometry(geom) -> dict:
    rounded = shapely.transform(geom, lambda xy: np.round(xy, DECIMALS))
    return json.loads(shapely.to_geojson(rounded))


#: Village outlines are simplified by this much (degrees, ~1 m): they are drawn at village scale.
VILLAGE_TOLERANCE = 1e-5


def simplify_coverage(geoms: np.ndarray, tolerance: float = VILLAGE_TOLERANCE) -> np.ndarray:
    """Simplify village outlines together, so neighbours keep sharing their edges (no slivers, no gaps)."""
    if not len(geoms):
        return geoms
    try:
        return shapely.coverage_simplify(geoms, tolerance)
    except shapely.errors.GEOSException:  # not a clean coverage (overlaps): fall back to each on its own
        return shapely.simplify(geoms, tolerance, preserve_topology=True)


def map_data(patches, villages, village_names: dict, village_rates: dict, attrs: dict, history: dict) -> dict:
    features = []
    for row in patches.itertuples():
        props = {k: plain(getattr(row, k)) for k in (
            "patch_code", "batch", "source", "issued_on", "area_mu", "issued_area_mu", "cultivated_mu",
            "rectified_mu", "rectified_cultivated_mu", "status", "status_on", "deadline", "overdue",
            "outside", "nearest_code", "nearest_distance_m")}
        props["village_shares"] = dict(row.village_shares)
        props["village_names"] = {c: village_names.get(c, c) for c in row.village_shares}
        props["nearest_name"] = village_names.get(row.nearest_code)
        props["case_numbers"] = list(row.case_numbers)
        props["relapse_of"] = list(row.relapse_of)
        props["attrs"] = {str(k): "" if v is None else str(v) for k, v in attrs.get(row.id, {}).items()}
        props["history"] = history.get(row.lineage_id, [])
        props["lineage_id"] = int(row.lineage_id)
        features.append({"type": "Feature", "geometry": _geometry(row.geometry), "properties": props})
    outlines = simplify_coverage(np.asarray(villages.geometry.values, dtype=object))
    village_features = [
        {"type": "Feature", "geometry": _geometry(outline),
         "properties": {"code": v.code, "name": v.name, "rate": village_rates.get(v.code)}}
        for v, outline in zip(villages.itertuples(), outlines)
    ]
    counts = {s: int((patches["status"] == s).sum()) for s in STATUSES}
    return {
        "patches": {"type": "FeatureCollection", "features": features},
        "villages": {"type": "FeatureCollection", "features": village_features},
        "statuses": [s for s in STATUSES if counts[s]] or ["issued"],
        "all_statuses": list(STATUSES),
        "counts": counts,
        "colors": COLORS,
        "labels": {"statuses": STATUS_LABELS, "sources": SOURCE_LABELS},
    }


def build_map(data: dict, *, title: str, basemap: str = "none", tianditu_key: str | None = None,
              lib: str = "lib") -> folium.Map:
    """The folium map with our layers; assets referenced under ``lib/`` next to the HTML.

    The script adds the zoom buttons' Chinese titles and a metric scale bar (folium's would
    show miles too).

    With ``data["tiles"]`` (a URL template) patches come from vector tiles instead of
    being embedded in the page.
    """
    m = folium.Map(location=[30, 105], zoom_start=12, tiles=None, prefer_canvas=True)
    m.default_js = [("leaflet", f"{lib}/leaflet/leaflet.js"), ("geo_tracker_pick", f"{lib}/geo_tracker_pick.js"),
                    ("geo_tracker_map", f"{lib}/geo_tracker_map.js")]
    if data.get("tiles"):
        m.default_js.append(("vectorgrid", f"{lib}/vectorgrid/Leaflet.VectorGrid.bundled.min.js"))
    m.default_css = [("leaflet_css", f"{lib}/leaflet/leaflet.css"), ("geo_tracker_css", f"{lib}/geo_tracker_map.css")]
    if basemap != "none":
        if basemap == "tianditu":
            if not tianditu_key:
                raise InvalidValueError(msg("maps.tianditu_key"))
            url, attribution = BASEMAPS["tianditu"]
            url = url % tianditu_key
        elif basemap in BASEMAPS:
            url, attribution = BASEMAPS[basemap]
        elif "{z}" in basemap and "{x}" in basemap and "{y}" in basemap:
            url, attribution = basemap, "basemap"
        else:
            raise InvalidValueError(msg("maps.bad_basemap", basemap=basemap))
        folium.TileLayer(url, attr=attribution, name="底图").add_to(m)
    m.get_root().header.add_child(Element(f"<title>{html.escape(title)}</title>"))
    init = MacroElement()
    entry = "geoTrackerTiles" if data.get("tiles") else "geoTrackerInit"
    init._template = Template(
        "{% macro script(this, kwargs) %}" + entry + "({{ this._parent.get_name() }}, "
        "JSON.parse(document.getElementById('gt-data').textContent));{% endmacro %}"
    )
    init.add_to(m)
    m._geo_tracker_data = data
    return m


def script_json(data) -> str:
    """JSON safe inside a <script> element: no <, > or & survives, so no imported text can end
    the element or open a comment (the escapes are plain JSON, JSON.parse reads them back)."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def render_page(m: folium.Map) -> str:
    """The HTML page, with the data as an inert JSON script element."""
    page = m.get_root().render()
    data = f'<script type="application/json" id="gt-data">{script_json(m._geo_tracker_data)}</script>\n'
    return page.replace("</body>", data + "</body>", 1)


def write_map(m: folium.Map, path: Path) -> dict:
    """Write the page and copy its assets into ``lib/`` beside it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(STATIC, path.parent / "lib", dirs_exist_ok=True)
    path.write_text(render_page(m), encoding="utf-8")
    return {"file": str(path), "bytes": path.stat().st_size, "patches": len(m._geo_tracker_data["patches"]["features"])}
