"""Service settings: defaults, then a TOML file, then environment variables (the last one wins).

The file is ``$GEO_TRACKER_CONFIG`` or ``--config FILE``; its ``[service]`` table
takes the names below in lower case, e.g. ``max_upload_mb = 500``. Each setting
also has an environment variable ``GEO_TRACKER_<NAME>``. Its ``[backup]`` table schedules
the service's own backups (``GEO_TRACKER_BACKUP_<NAME>``)::

    [backup]
    folder = "/srv/geo_tracker/backups"
    keep = 14
    at = "02:30"
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path

from .catalogue import msg
from .errors import ConfigurationError

CONFIG_ENV = "GEO_TRACKER_CONFIG"
#: The database when ``--db`` is not given, and the file when neither is.
DB_ENV_VAR = "GEO_TRACKER_DB"
DEFAULT_DB_FILE = "geo_tracker.sqlite"


@dataclass(frozen=True)
class BackupSettings:
    folder: str | None = None
    """Where the service writes a dated backup every day (none: no scheduled backups)."""
    keep: int = 7
    """How many dated backups stay in the folder."""
    at: str = "02:30"
    """The time of day (local, HH:MM) of the daily backup."""

    @property
    def hour_minute(self) -> tuple[int, int]:
        hour, _, minute = self.at.partition(":")
        return int(hour), int(minute)


@dataclass(frozen=True)
class ServiceSettings:
    max_upload_mb: float = 200.0
    """Largest accepted upload (a batch zip, boundaries, an evidence photo); 413 beyond it."""
    session_hours: float = 12.0
    """How long a login stays valid without a new login."""
    public_docs: bool = False
    """Serve the OpenAPI document and /api/docs without login."""
    cookie_secure: bool = False
    """Mark the session cookie Secure (set it when the service is behind HTTPS)."""
    upload_dir: str | None = None
    """Private folder for uploads in progress (default: the system temp folder)."""
    access_log: bool = True
    """One JSON line per request on stderr (method, path, status, ms, user)."""
    graceful_shutdown_s: float = 10.0
    """Seconds requests in flight get to finish after SIGTERM."""
    report_issuer: str | None = None
    """发文单位 printed at the end of the report (default: the township's 人民政府, if one is loaded)."""
    report_title_font: str = "方正小标宋简体"
    """The report title's face; Word falls back to Noto Serif CJK SC where it is missing."""
    report_body_font: str = "仿宋_GB2312"
    """The report body's face (fallback Noto Serif CJK SC)."""
    report_heading_font: str = "黑体"
    """The report headings' face (fallback Noto Sans CJK SC)."""

    read_database_url: tuple[str, ...] = ()
    """Streaming replicas of the PostGIS database that answer reads (tiles, OGC, lists, stats,
    pages): one URL, or several (a TOML list; in the environment, separated by commas)."""
    replica_wait_s: float = 0.5
    """How long a read after the asker's own write waits for a replica to replay it before the
    primary answers it instead."""

    backup: BackupSettings = BackupSettings()
    """The ``[backup]`` table."""

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)


def _coerce(name: str, kind, value):
    try:
        if kind in (bool, "bool"):
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                raise ValueError(value)
            return text in ("1", "true", "yes", "on")
        if kind in (float, "float"):
            number = float(value)
            if number <= 0:
                raise ValueError(value)
            return number
        if kind in (int, "int"):
            number = int(value)
            if number < 1 or isinstance(value, float):
                raise ValueError(value)
            return number
        if kind == "urls":
            found = value.split(",") if isinstance(value, str) else list(value)
            if not all(isinstance(url, str) for url in found):
                raise ValueError(value)
            return tuple(url.strip() for url in found if url.strip())
        if kind == "time":
            hour, sep, minute = str(value).partition(":")
            if not sep or not (0 <= int(hour) < 24 and 0 <= int(minute) < 60):
                raise ValueError(value)
            return f"{int(hour):02d}:{int(minute):02d}"
        return None if value in (None, "") else str(value)
    except (TypeError, ValueError):
        raise ConfigurationError(msg("config.setting_invalid", name=name, value=value,
                                     kind=getattr(kind, "__name__", kind)), field=name) from None


def load_settings(path: str | Path | None = None, environ: dict | None = None) -> ServiceSettings:
    """Settings from defaults, the TOML file and the environment."""
    environ = os.environ if environ is None else environ
    path = path or environ.get(CONFIG_ENV)
    if path:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigurationError(msg("config.file_missing", path=path)) from None
        except tomllib.TOMLDecodeError as e:
            raise ConfigurationError(msg("config.file_not_toml", path=path, reason=str(e))) from None
    else:
        data = {}
    values = _section(data, "service", ServiceSettings, path, environ, "GEO_TRACKER_")
    backup = _section(data, "backup", BackupSettings, path, environ, "GEO_TRACKER_BACKUP_")
    return replace(ServiceSettings(), **values, backup=replace(BackupSettings(), **backup))


#: Settings whose values are not what their annotation says to the coercion.
_KINDS = {"at": "time", "read_database_url": "urls"}


def _section(data: dict, name: str, cls, path, environ: dict, prefix: str) -> dict:
    """One table of the file, then its environment variables, coerced to the settings' types."""
    known = {f.name: f for f in fields(cls) if f.name != "backup"}
    section = data.get(name, {})
    unknown = sorted(set(section) - set(known))
    if unknown:
        raise ConfigurationError(msg("config.settings_unknown", path=path, unknown=", ".join(unknown),
                                     known=", ".join(sorted(known))), field=unknown[0])
    values = dict(section)
    for field_name in known:
        if f"{prefix}{field_name.upper()}" in environ:
            values[field_name] = environ[f"{prefix}{field_name.upper()}"]
    return {k: _coerce(k, _KINDS.get(k, known[k].type), v) for k, v in values.items()}
