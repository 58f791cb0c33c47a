"""Importing a delivery from a page: a dry run that stages the upload and shows the diff, then
a confirmation (with the duplicates ticked off) that imports the staged file."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile

from ...catalogue import in_language
from ...core.sources import SOURCES
from ...errors import GeoTrackerError
from ...services.batches import ImportOptions, import_batch
from .. import uploads
from ..deps import Caller, need, required_date
from .render import error_text, language, render, words

router = APIRouter(include_in_schema=False)
importer = need("import")


def _options(form: dict, who: Caller, *, dry_run: bool = False, accept_duplicates: bool = False) -> ImportOptions:
    deadline = required_date(form["deadline"], "deadline") if form.get("deadline") else None
    options = ImportOptions(source=form["source"], batch=form["batch"],
                            issued_on=required_date(form["issued_on"], "issued_on"), deadline=deadline,
                            dry_run=dry_run, all_layers=bool(form.get("all_layers")),
                            accept_duplicates=accept_duplicates, user=who.username, villages=who.villages)
    options.validate()
    return options


def _form_again(request: Request, status_code: int, error: str, form: dict | None = None, problems=()):
    return render(request, "import.html", status_code=status_code, error=error,
                  problems=in_language(list(problems), language(request), "web"),
                  form=form, source_keys=SOURCES, today=date.today())


@router.get("/import")
def import_page(request: Request, who: Caller = Depends(importer)):
    return render(request, "import.html", source_keys=SOURCES, today=date.today())


@router.post("/import")
def import_check(request: Request, file: list[UploadFile] = File(default=[]), source: str = Form(""),
                 batch: str = Form(""), issued_on: str = Form(""), deadline: str = Form(""),
                 all_layers: str = Form(""), who: Caller = Depends(importer)):
    """Dry run: keep the upload in a private staging folder and show what would change."""
    form = {"source": source, "batch": batch.strip(), "issued_on": issued_on, "deadline": deadline,
            "all_layers": bool(all_layers)}
    token, files = uploads.new_staging(who.settings.upload_dir)
    try:
        dataset = uploads.save_all(file, files, "delivery")
        report = import_batch(who.store, dataset, _options(form, who, dry_run=True))
    except GeoTrackerError as e:
        uploads.drop_staging(who.settings.upload_dir, token)
        return _form_again(request, e.http_status, error_text(request, e), form, getattr(e, "problems", []))
    uploads.keep_staging(files, dataset, {"user": who.username, "form": form})
    return render(request, "import_diff.html", report=report.to_dict(lang=language(request), interface="web"),
                  token=token, form=form)


@router.post("/import/confirm")
def import_confirm(request: Request, token: str = Form(""), accept_duplicates: str = Form(""),
                   who: Caller = Depends(importer)):
    found = uploads.staged(who.settings.upload_dir, token, who.username)
    if found is None:
        return _form_again(request, 410, words(request)("import.expired"))
    dataset, meta = found
    try:
        report = import_batch(who.store, dataset, _options(meta["form"], who,
                                                           accept_duplicates=bool(accept_duplicates)))
    except GeoTrackerError as e:
        return _form_again(request, e.http_status, error_text(request, e), meta["form"], getattr(e, "problems", []))
    finally:
        uploads.drop_staging(who.settings.upload_dir, token)
    return render(request, "import_report.html", report=report.to_dict(lang=language(request), interface="web"))
