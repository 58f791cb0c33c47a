"""A QGIS project (.qgs) that opens the patches styled by status, with the Chinese legend.

Two kinds of source, the same styling:

- ``service``: the server's OGC API Features (QGIS provider ``OAPIF``), collections
  ``patches`` and ``villages``. No credentials are written: QGIS asks for the user name and
  password when the server answers 401 (HTTP Basic), or ``authcfg`` names an entry of the
  user's own QGIS authentication database (设置 › 选项 › 认证), which keeps the password
  encrypted on that machine. The layers fetch only what the map shows
  (``restrictToRequestBBOX``), page by page.
- the database itself (a township's SpatiaLite file or PostGIS): the view ``current_patches``
  and the current villages of ``admin_units``. A SpatiaLite file is referred to relative to
  the project, so the two can be moved together; a PostgreSQL password is never written
  (QGIS asks, or takes it from ``~/.pgpass`` or a ``PGSERVICE``).

Patches are coloured as on the web map (:data:`geo_tracker.maps.builder.COLORS`), one
category per status with its Chinese name (:data:`geo_tracker.core.lifecycle.STATUS_TABLE`)
in the legend, labelled with their code; villages are outlines labelled with their name.
Imagery (卫片) layers are added here once the database keeps imagery; it keeps none yet.

The file is written from a template (``reports/templates/qgis_project.qgs.j2``), not by
QGIS: nothing here needs QGIS installed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

import jinja2

from .. import __version__
from ..core.lifecycle import STATUS_TABLE
from ..maps.builder import COLORS
from ..store import Store
from .boundaries import village_units

TEMPLATE = Path(__file__).resolve().parents[1] / "reports" / "templates" / "qgis_project.qgs.j2"
#: The database's CRS; the OGC layers come as CRS84 (lon/lat on WGS 84), which QGIS 3.22 reads them in.
CGCS2000, CRS84 = 4490, 4326
#: CGCS2000's ellipsoid, so QGIS measures on the same ellipsoid as geo_tracker's areas.
ELLIPSOID = "EPSG:1024"
#: As on the web map: patches filled at 55 % in their status colour and outlined in it; villages dashed.
PATCH_FILL_ALPHA = 140
VILLAGE_OUTLINE = "#495057"
#: Patch codes are labelled from 1:50 000 in (a township on a screen); a county zoomed out shows colours only.
PATCH_LABEL_SCALE = 50_000
#: The villages valid today (as ``village_units`` picks them), as a filter QGIS passes to the database.
CURRENT_VILLAGES = ('"level" = \'village\' AND "valid_from" <= CURRENT_DATE '
                    'AND ("valid_to" IS NULL OR "valid_to" > CURRENT_DATE)')
#: QGIS's label font, then what a Chinese Windows, macOS or Debian (fonts-noto-cjk) has.
LABEL_FONTS = ("Noto Sans CJK SC", "Microsoft YaHei", "SimHei", "PingFang SC", "Source Han Sans SC")


@dataclass
class Layer:
    """One QGIS vector layer: where its features come from and how they are drawn."""

    id: str
    name: str
    provider: str
    source: str
    outline: str = VILLAGE_OUTLINE          # single symbol (no categories): an outline only
    outline_style: str = "solid"
    outline_width: float = 0.4              # mm
    categories: list[dict] = field(default_factory=list)   # {value, label, color}: categorized on ``attr``
    attr: str | None = None
    label_field: str | None = None
    label_size: float = 9.0
    label_scale: int = 0                    # labels only when zoomed in beyond 1:label_scale (0: always)
    epsg: int = CGCS2000


def write_qgis_project(output: str | Path, *, service: str | None = None, store: Store | None = None,
                       authcfg: str | None = None) -> dict:
    """Write the project; returns ``{"file", "mode", "layers": [{name, provider, source}]}``."""
    if service:
        layers, extent, mode = service_layers(service, authcfg), None, "service"
    elif store is not None:
        layers, extent, mode = database_layers(store, Path(output)), database_extent(store), "database"
    else:
        raise ValueError("a service URL or a store is needed")
    path = Path(output)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_project(layers, extent), encoding="utf-8")
    return {"file": str(path), "mode": mode,
            "layers": [{"name": la.name, "provider": la.provider, "source": la.source} for la in layers]}


def render_project(layers: list[Layer], extent: tuple[float, float, float, float] | None) -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATE.parent)), autoescape=True,
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    return env.get_template(TEMPLATE.name).render(
        title="图斑整改", project_crs=crs(CGCS2000), crs=crs, ellipsoid=ELLIPSOID, layers=layers, extent=extent,
        fonts=LABEL_FONTS, rgba=rgba, fill_alpha=PATCH_FILL_ALPHA, generator=f"geo_tracker {__version__}",
        created=datetime.now().replace(microsecond=0).isoformat())


def status_categories() -> list[dict]:
    """One category per status, in the order a life runs, with its Chinese name."""
    return [{"value": s.name, "label": s.label, "color": COLORS[s.name]} for s in STATUS_TABLE]


def patches_layer(provider: str, source: str, epsg: int = CGCS2000) -> Layer:
    return Layer("geo_tracker_patches", "图斑", provider, source, attr="status", categories=status_categories(),
                 label_field="patch_code", label_size=8.0, label_scale=PATCH_LABEL_SCALE, epsg=epsg)


def villages_layer(provider: str, source: str, epsg: int = CGCS2000) -> Layer:
    return Layer("geo_tracker_villages", "行政村", provider, source, outline_style="dash", outline_width=0.5,
                 label_field="name", label_size=10.0, epsg=epsg)


# --- sources -------------------------------------------------------------------------------

def ogc_url(service: str) -> str:
    """The OGC API Features landing page of a server given by its address (``/ogc`` added if missing)."""
    parts = urlsplit(service.strip())
    path = parts.path.rstrip("/")
    if not path.endswith("/ogc"):
        path += "/ogc"
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


def oapif_source(url: str, collection: str, authcfg: str | None = None) -> str:
    """The QGIS OAPIF (and WFS) provider's data source: key='value' pairs, as QGIS writes them."""
    pairs = {"pagingEnabled": "true", "preferCoordinatesForWfsT11": "false", "restrictToRequestBBOX": "1",
             "typename": collection, "url": url}
    if authcfg:
        pairs["authcfg"] = authcfg
    return " ".join(f"{key}='{quoted(value)}'" for key, value in pairs.items())


def service_layers(service: str, authcfg: str | None = None) -> list[Layer]:
    url = ogc_url(service)
    return [villages_layer("OAPIF", oapif_source(url, "villages", authcfg), CRS84),
            patches_layer("OAPIF", oapif_source(url, "patches", authcfg), CRS84)]


def spatialite_source(url, table: str, project: Path, sql: str | None = None) -> str:
    """``dbname='…' table="…" (geom)``; the file relative to the project (``./…``) as QGIS keeps it."""
    source = f"dbname='{quoted(relative_to_project(Path(url.database), project))}' table=\"{table}\" (geom)"
    return f"{source} sql={sql}" if sql else source


def postgres_source(url, table: str, project: Path | None = None, sql: str | None = None) -> str:
    """``dbname=… host=… table="schema"."table" (geom)``: no password (QGIS asks, or ~/.pgpass)."""
    parts = [f"dbname='{quoted(url.database)}'"]
    if url.host:
        parts.append(f"host={url.host}")
    if url.port:
        parts.append(f"port={url.port}")
    if url.username:
        parts.append(f"user='{quoted(url.username)}'")
    parts += ["key='id'", "checkPrimaryKeyUnicity='0'", "srid=4490", "type=MultiPolygon",
              f'table="{postgres_schema(url)}"."{table}" (geom)']
    if sql:
        parts.append(f"sql={sql}")
    return " ".join(parts)


def postgres_schema(url) -> str:
    """The first schema of the URL's ``options=-csearch_path=…``, else ``public``."""
    options = unquote(str(url.query.get("options", "")))
    for option in options.split():
        if option.startswith("-csearch_path="):
            return option.split("=", 1)[1].split(",")[0].strip() or "public"
    return "public"


#: Per backend: the QGIS provider, and the data source of one of the database's tables.
DATABASE_SOURCES = {"spatialite": ("spatialite", spatialite_source), "postgis": ("postgres", postgres_source)}


def database_layers(store: Store, project: Path) -> list[Layer]:
    store.check_schema()
    provider, source = DATABASE_SOURCES[store.backend]
    return [villages_layer(provider, source(store.url, "admin_units", project, CURRENT_VILLAGES)),
            patches_layer(provider, source(store.url, "current_patches", project))]


def database_extent(store: Store) -> tuple[float, float, float, float] | None:
    """Where the map opens: the villages of today, with a margin (none loaded: QGIS's own default)."""
    villages = village_units(store)
    if not len(villages):
        return None
    xmin, ymin, xmax, ymax = (float(v) for v in villages.total_bounds)
    dx, dy = (xmax - xmin) * 0.05 or 0.01, (ymax - ymin) * 0.05 or 0.01
    return xmin - dx, ymin - dy, xmax + dx, ymax + dy


# --- small helpers -------------------------------------------------------------------------

def quoted(value: str) -> str:
    """A value inside '…' of a QGIS data source (QgsDataSourceUri escapes \\ and ')."""
    return str(value).replace("\\", "\\\\").replace("'", "\\'")


def relative_to_project(path: Path, project: Path) -> str:
    """``./…`` or ``../…`` from the project's folder, as QGIS stores relative paths; else absolute."""
    target, folder = Path(path).resolve(), Path(project).resolve().parent
    try:
        relative = os.path.relpath(target, folder)
    except ValueError:      # another drive (Windows)
        return target.as_posix()
    relative = Path(relative).as_posix()
    return relative if relative.startswith("../") else f"./{relative}"


def crs(epsg: int) -> dict:
    """A CRS as the project file keeps it; QGIS 3.22 goes by the WKT (``authid`` alone needs QGIS's own id)."""
    import pyproj

    return {"authid": f"EPSG:{epsg}", "srid": epsg, "wkt": pyproj.CRS.from_epsg(epsg).to_wkt()}


def rgba(color: str, alpha: int = 255) -> str:
    """``#rrggbb`` as QGIS writes a colour: ``r,g,b,a``."""
    value = color.lstrip("#")
    return ",".join(str(int(value[i:i + 2], 16)) for i in (0, 2, 4)) + f",{alpha}"
