"""``backup`` (and ``backup verify``) and ``restore``: the ledger kept safe and brought back."""

from __future__ import annotations

from pathlib import Path

import click

from ..services import backup as backups
from .app import AppContext, cli, echo_json, say


def _progress(label: str):
    """A progress bar on stderr, shown once there is more than 50 MB to go through."""
    state = {"bar": None}

    def update(done: int, total: int) -> None:
        if total < 50 * 1024 * 1024:
            return
        if state["bar"] is None:
            state["bar"] = click.progressbar(length=total, label=label, file=click.get_text_stream("stderr"))
            state["bar"].__enter__()
        state["bar"].update(done - state["bar"].pos)
        if done >= total:
            state["bar"].__exit__(None, None, None)

    return update


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{n / 1024:.0f} KB"


@cli.group(invoke_without_command=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write the archive here.")
@click.option("--to-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Write a dated archive into this folder (geo_tracker-backup-YYYYMMDD-HHMMSS.zip).")
@click.option("--keep", type=click.IntRange(min=1), default=7, show_default=True,
              help="With --to-dir: how many dated archives stay in the folder.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a line.")
@click.pass_context
def backup(ctx: click.Context, output: Path | None, to_dir: Path | None, keep: int, as_json: bool):
    """Back up the database and its evidence files into one zip archive with a manifest.

    Consistent while the service writes (SpatiaLite: SQLite's online backup; PostGIS: pg_dump of a snapshot).

    Examples:

        geo-tracker backup -o 台账备份.zip

        geo-tracker backup --to-dir /srv/backups --keep 14

        geo-tracker backup verify 台账备份.zip
    """
    if ctx.invoked_subcommand is not None:
        return
    if (output is None) == (to_dir is None):
        raise click.UsageError(say("backup.one_target"))
    app: AppContext = ctx.obj
    with app.open_store() as store:
        progress = _progress(say("backup.writing"))
        result = (backups.backup(store, output, progress=progress) if output else
                  backups.backup_to_folder(store, to_dir, keep=keep, progress=progress))
    if as_json:
        echo_json({"path": str(result.path), "size_bytes": result.size_bytes, "sha256": result.sha256,
                   "seconds": round(result.seconds, 3), "files": len(result.manifest["files"]),
                   "missing_files": result.missing, "counts": result.manifest["summary"]["counts"]})
        return
    counts, members = result.manifest["summary"]["counts"], result.manifest["files"]
    click.echo(say("backup.done", path=result.path, size=_size(result.size_bytes), patches=counts["patches"],
                   events=counts["events"], files=sum(m.startswith("evidence/") for m in members),
                   images=sum(m.startswith("imagery/") for m in members), seconds=f"{result.seconds:.1f}"))
    for missing in result.missing:
        click.echo(say("backup.missing_file", path=missing), err=True)


@backup.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--scratch-db", help="A PostgreSQL server where a PostGIS backup may be loaded into a temporary "
                                   "database for the check (default: --db when it is PostgreSQL).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a line.")
@click.pass_obj
def verify(app: AppContext, file: Path, scratch_db: str | None, as_json: bool):
    """Check a backup: every checksum, then its database's counts and totals against the manifest.

    Exit 2 with what differs when the archive is truncated, altered or incomplete.

    Example:

        geo-tracker backup verify 台账备份.zip
    """
    result = backups.verify(file, scratch_url=scratch_db or app.db_url, progress=_progress(say("backup.checking")))
    summary = result.manifest["summary"]
    if as_json:
        echo_json({"ok": True, "files": result.files_checked, "content_checked": result.content_checked,
                   "schema_revision": summary["schema_revision"], "ledger_id": summary["ledger_id"],
                   "counts": summary["counts"], "totals": summary["totals"]})
        return
    click.echo(say("backup.verified", path=file, files=result.files_checked, patches=summary["counts"]["patches"],
                   events=summary["counts"]["events"], revision=summary["schema_revision"],
                   created=result.manifest["created_at"]))
    if not result.content_checked:
        click.echo(say("backup.checksums_only"))


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--db", "target", help="The database to restore into (default: the global --db).")
@click.option("--replace", is_flag=True, help="Replace a database that holds data (it is backed up first).")
@click.option("--backup-dir", type=click.Path(file_okay=False, path_type=Path),
              help="With --replace: where the backup of what is replaced goes (default: beside FILE).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of lines.")
@click.pass_obj
def restore(app: AppContext, file: Path, target: str | None, replace: bool, backup_dir: Path | None, as_json: bool):
    """Restore a backup into an empty database, upgrading an older schema.

    Example:

        geo-tracker restore 台账备份.zip --db sqlite:///恢复.sqlite
    """
    from ..store.url import resolve_url

    url = resolve_url(target or app.db_url)
    result = backups.restore(file, url, replace=replace, backup_dir=backup_dir,
                             progress=_progress(say("backup.checking")))
    if as_json:
        echo_json({"url": result.url, "from_revision": result.from_revision, "to_revision": result.to_revision,
                   "counts": result.counts, "files": result.files,
                   "replaced_backup": str(result.replaced_backup) if result.replaced_backup else None})
        return
    if result.replaced_backup:
        click.echo(say("restore.replaced", path=result.replaced_backup))
    click.echo(say("restore.done", url=result.url, patches=result.counts["patches"], events=result.counts["events"],
                   files=result.files))
    if result.from_revision != result.to_revision:
        click.echo(say("restore.upgraded", before=result.from_revision, after=result.to_revision))
