"""Batches (下发批次) and boundaries (行政区划): listing them and importing deliveries."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, File, Form, UploadFile

from ...services import accounts
from ...services.batches import ImportOptions, import_batch, list_batches, show_batch
from ...services.boundaries import BoundaryOptions, import_boundaries, list_boundaries
from .. import uploads
from ..deps import Caller, need
from ..responses import plain

router = APIRouter()
reader, importer = need("read"), need("import")


@router.get("/batches", tags=["batches"])
def batches(who: Caller = Depends(reader)):
    return plain(list_batches(who.store, villages=who.villages))


@router.get("/batches/{name}", tags=["batches"])
def batch(name: str, source: str | None = None, who: Caller = Depends(reader)):
    """A batch with its imports and their reports (问题 by feature)."""
    return plain(show_batch(who.store, name, source, villages=who.villages))


@router.post("/batches", tags=["batches"])
def import_upload(file: list[UploadFile] = File(..., description="zip, gpkg, shp set, kml, txt"),
                  source: str = Form(...), batch: str = Form(...), issued_on: date = Form(...),
                  deadline: date | None = Form(None), layer: str | None = Form(None),
                  encoding: str | None = Form(None), crs: str | None = Form(None),
                  profile: str | None = Form(None), id_field: str | None = Form(None),
                  area_field: str | None = Form(None), area_unit: str | None = Form(None),
                  cultivated_field: str | None = Form(None), central_meridian: int | None = Form(None),
                  skip_invalid: bool = Form(False), dry_run: bool = Form(False),
                  all_layers: bool = Form(False), accept_duplicates: bool = Form(False),
                  who: Caller = Depends(importer)):
    """Import a delivery (the same checks as `geo-tracker batches import`); ``dry_run`` shows the diff only.

    The same delivery, or patches other batches hold, answer 409 ``duplicate_delivery``
    unless ``accept_duplicates``; the dry run lists them (``duplicates``, ``duplicate_of``)."""
    options = ImportOptions(source=source, batch=batch, issued_on=issued_on, deadline=deadline, layer=layer,
                            encoding=encoding, crs=crs, profile=profile, id_field=id_field,
                            area_field=area_field, area_unit=area_unit, cultivated_field=cultivated_field,
                            central_meridian=central_meridian, skip_invalid=skip_invalid, dry_run=dry_run,
                            all_layers=all_layers, accept_duplicates=accept_duplicates, user=who.username,
                            villages=who.villages)
    options.validate()
    with uploads.private_folder(who.settings.upload_dir) as folder:
        report = import_batch(who.store, uploads.save_all(file, folder, "delivery"), options)
    return plain(report.to_dict())


@router.get("/boundaries", tags=["boundaries"])
def boundaries(level: str | None = None, as_of: date | None = None, who: Caller = Depends(reader)):
    return plain(list_boundaries(who.store, level, as_of))


@router.post("/boundaries", tags=["boundaries"])
def boundaries_upload(file: list[UploadFile] = File(...), level: str = Form(...),
                      code_field: str | None = Form(None), name_field: str | None = Form(None),
                      parent_field: str | None = Form(None), parent_code: str | None = Form(None),
                      valid_from: date | None = Form(None), encoding: str | None = Form(None),
                      crs: str | None = Form(None), layer: str | None = Form(None),
                      who: Caller = Depends(importer)):
    """Import village, township or county boundaries (行政区划), as `geo-tracker boundaries import`."""
    options = BoundaryOptions(level=level, code_field=code_field, name_field=name_field,
                              parent_field=parent_field, parent_code=parent_code, valid_from=valid_from,
                              encoding=encoding, crs=crs, layer=layer)
    options.validate()
    units = accounts.scope_units(who.store, who.user)
    options.units = None if units is None else units.codes
    with uploads.private_folder(who.settings.upload_dir) as folder:
        return plain(import_boundaries(who.store, uploads.save_all(file, folder, "boundaries"), options).to_dict())
