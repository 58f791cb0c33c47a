"""The command group, its global options and the error boundary."""

from __future__ import annotations

import importlib
import json
import sys
from dataclasses import dataclass

from typing import TYPE_CHECKING

import click

from .. import __version__
from ..config import DB_ENV_VAR
from ..errors import GeoTrackerError

if TYPE_CHECKING:  # the store (SQLAlchemy) and rich load when a command needs them, not for --help
    from rich.console import Console

    from ..store import Store


class CommandError(click.ClickException):
    """A GeoTrackerError shown the click way: ``Error: ...`` on stderr, its own exit code."""

    def __init__(self, error: GeoTrackerError, lang: str = "en"):
        super().__init__(error.text(lang, "cli"))
        self.exit_code = error.exit_code
        self.lang = lang

    def show(self, file=None) -> None:
        if self.lang != "zh":
            return super().show(file)
        click.echo(f"错误：{self.format_message()}", file=file or sys.stderr, err=True)


@dataclass
class AppContext:
    db_url: str | None
    debug: bool
    lang: str = "en"

    def open_store(self) -> Store:
        from ..store import open_store

        return open_store(self.db_url)


def _language(ctx: click.Context) -> str:
    return ctx.obj.lang if isinstance(ctx.obj, AppContext) else "en"


class GeoTrackerGroup(click.Group):
    """Turns our exceptions into clean CLI errors at the one outermost place, and imports a
    command's module only when that command runs (``lazy``: command name -> (modules, summary)),
    so `patches verify` does not first load the web server, Word and matplotlib, and
    `geo-tracker --help` loads none of them."""

    lazy: dict[str, tuple[tuple[str, ...], str]] = {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(self.commands) | set(self.lazy))

    def get_command(self, ctx: click.Context, name: str):
        if name not in self.commands:
            for module in self.lazy.get(name, ((), ""))[0]:
                importlib.import_module(f"{__package__}.{module}")
        return super().get_command(ctx, name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = [(name, self.commands[name].get_short_help_str(limit) if name in self.commands
                 else click.Command(name, help=self.lazy[name][1]).get_short_help_str(limit)) for name in names]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except GeoTrackerError as e:
            raise CommandError(e, _language(ctx)) from e
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as e:
            from ..store.failures import translate
            from ..store.url import mask, resolve_url

            app = ctx.obj
            known = translate(e, f"the database {mask(resolve_url(app.db_url if app else None))}")
            if known is not None:
                raise CommandError(known, _language(ctx)) from e
            if app is not None and app.debug:
                raise
            click.echo(say("internal_error", kind=type(e).__name__, error=e), err=True)
            ctx.exit(1)


@click.group(cls=GeoTrackerGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    "db_url",
    envvar=DB_ENV_VAR,
    metavar="URL",
    help="sqlite:///FILE (SpatiaLite) or postgresql://HOST/DB (PostGIS). "
    f"Default: ${DB_ENV_VAR}, else ./geo_tracker.sqlite.",
)
@click.option("--debug", is_flag=True, help="Show tracebacks of internal errors.")
@click.option("--lang", type=click.Choice(["zh", "en"]), help="Language of messages (default: zh for a zh_* "
              "locale in LC_ALL, LC_MESSAGES or LANG, else en).")
@click.version_option(__version__, prog_name="geo-tracker")
@click.pass_context
def cli(ctx: click.Context, db_url: str | None, debug: bool, lang: str | None):
    """Track land and forest violation patches (图斑) from issue to closure.

    Example:

        geo-tracker --db sqlite:///office.sqlite init
    """
    from ..catalogue import cli_language

    ctx.obj = AppContext(db_url=db_url, debug=debug, lang=cli_language(lang))


def console(*, stderr: bool = False) -> Console:
    """A rich console; wide when writing to a file or pipe so tables are not cut."""
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    return Console(file=stream, soft_wrap=True, width=None if stream.isatty() else 200,
                   stderr=stderr)


#: Dates on the command line, as reports write them.
DATE = click.DateTime(formats=["%Y-%m-%d"])


def lonlat(value: str | None) -> tuple[float, float] | None:
    """A place given as LON,LAT (a Chinese comma too), for --point and --location."""
    if value is None:
        return None
    try:
        lon, lat = (float(v) for v in value.replace("，", ",").split(","))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not LON,LAT (e.g. 106.4321,29.8312)") from None
    return lon, lat


def reader_options(func):
    """--layer, --encoding and --crs: how to read a delivery, for every command that imports one."""
    func = click.option("--crs", help="CRS of the coordinates, e.g. EPSG:4527 (default: the file's own, else inferred).")(func)
    func = click.option("--encoding", help="Attribute encoding, e.g. GBK or UTF-8 (default: .cpg, else detected).")(func)
    func = click.option("--layer", help="Layer (GeoPackage/GDB) or dataset (folder/zip) to read.")(func)
    return func


#: --user: who acts (recorded with what they do).
USER = click.option("--user", envvar="GEO_TRACKER_USER", help="Who records this (default: $GEO_TRACKER_USER, OS user).")


def language() -> str:
    """The language of the command running now: ``--lang``, else the locale."""
    ctx = click.get_current_context(silent=True)
    app = ctx.find_object(AppContext) if ctx else None
    return app.lang if app else "en"


def say(key: str, /, **values) -> str:
    """A line of output (:mod:`.words`) in the command's language; catalogue messages among
    ``values`` (import decisions, problems) render in it too."""
    from ..catalogue import in_language
    from .words import WORDS

    lang = language()
    template = WORDS[key][0 if lang == "zh" else 1]
    return template.format(**{k: in_language(v, lang) for k, v in values.items()})


def say_value(value) -> str:
    """A value that may be a catalogue note (an import decision, a problem) in the command's language."""
    from ..catalogue import in_language

    return str(in_language(value, language()))


def joined(values) -> str:
    """Items of a list as the language writes them (、 or ", ")."""
    from .words import SEPARATORS

    return SEPARATORS[language()].join(str(v) for v in values)


def table(*columns: str, **options):
    """A rich table headed by :mod:`.words` keys ``col.NAME``."""
    from rich.table import Table

    return Table(*(say(f"col.{c}") for c in columns), **options)


def status_word(status: str | None) -> str:
    """A patch status as the reader reads it: 已整改 in Chinese, the code (``rectified``) in English."""
    from ..core.lifecycle import STATUS_LABELS

    if status is None:
        return ""
    return STATUS_LABELS.get(status, status) if language() == "zh" else status


def source_word(source: str | None) -> str:
    """A batch source: 自然资源 in Chinese, its code in English."""
    from ..core.sources import SOURCE_LABELS

    if source is None:
        return ""
    return SOURCE_LABELS.get(source, source) if language() == "zh" else source


def role_word(role: str) -> str:
    """An account role: 执法队员 in Chinese, ``enforcer`` in English."""
    return say(f"role.{role}") if f"role.{role}" in _words() else role


def figure_word(name: str) -> str:
    """The header of a figure (``patrols``, ``response_rate`` …); a figure without one shows its key."""
    return say(f"figure.{name}") if f"figure.{name}" in _words() else name


def _words() -> dict:
    from .words import WORDS

    return WORDS


def event_word(kind: str) -> str:
    """A kind of event in a patch's history: 核查 in Chinese, ``verified`` in English."""
    from ..core.lifecycle import EVENT_LABELS

    return EVENT_LABELS[kind][0] if language() == "zh" and kind in EVENT_LABELS else kind


def level_word(level: str) -> str:
    """A boundary level: 行政村 in Chinese, ``village`` in English."""
    return say(f"level.{level}")


def echo_json(data) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def main() -> None:
    cli(prog_name="geo-tracker")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
