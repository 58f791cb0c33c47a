"""The JSON API (/api/v1): each route checks who asks, parses, calls one service function, formats.

No rule lives here: imports, tracking, cases, figures and files come from
``geo_tracker.services`` exactly as the CLI uses them. A user's admin units limit
every patch they read or change (a patch outside them answers 404, as if absent).
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date
from pathlib import Path as FilePath
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field

from ..errors import FieldMappingError, InputFileError, PermissionDeniedError
from ..io.readers import MAIN_SUFFIXES
from ..reports.render import FORMATS as REPORT_FORMATS
from ..services import accounts, cases, tracking
from ..services.accounts import Principal
from ..services.batches import ImportOptions, import_batch, list_batches, show_batch
from ..services.boundaries import BoundaryOptions, import_boundaries, list_boundaries
from ..services.exports import FORMATS as EXPORT_FORMATS
from ..services.exports import export_patches
from ..services.patches import list_patches, patches_geojson, show_patch
from ..services.report import write_report
from ..services.stats import compute_stats
from . import uploads
from .auth import need

MAX_ID = 2**31 - 1
MEDIA = {"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
         "html": "text/html; charset=utf-8", "md": "text/markdown; charset=utf-8",
         "gpkg": "application/geopackage+sqlite3", "geojson": "application/geo+json",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "shp": "application/zip"}


def plain(data):
    """Dates, numpy numbers and the like as JSON values."""
    return json.loads(json.dumps(data, default=str, ensure_ascii=False))


def download(content: bytes, name: str, media: str) -> Response:
    return Response(content, media_type=media,
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})


class VerifyBody(BaseModel):
    result: str = Field(description="legal | no_change | illegal (合法/伪变化/违法)")
    on: date
    note: str | None = None
    cadre: str | None = None
    expected_version: int | None = Field(None, ge=0, le=MAX_ID,
                                         description="row_version read with the patch; 409 if it moved")


class CloseBody(BaseModel):
    on: date
    note: str | None = None
    expected_version: int | None = Field(None, ge=0, le=MAX_ID)


class VoidBody(BaseModel):
    reason: str


class CaseBody(BaseModel):
    case_no: str
    opened_on: date
    patches: list[str] = []
    violation: str | None = None
    act: str | None = None
    fine_yuan: float | None = None
    category: str | None = None
    note: str | None = None


class LinkBody(BaseModel):
    patches: list[str]
    on: date


class DecisionBody(BaseModel):
    on: date
    fine_yuan: float | None = None
    outcome: str | None = None
    note: str | None = None


class CaseCloseBody(BaseModel):
    on: date
    note: str | None = None


class UserBody(BaseModel):
    username: str
    password: str
    role: str
    units: list[str]
    display_name: str | None = None


def drawn_part(text: str | None) -> dict | None:
    """The rectified part sketched on a map, sent as GeoJSON text (a geometry or a Feature)."""
    if not text:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        raise FieldMappingError("the drawn part is not GeoJSON", field="drawn") from None
    if isinstance(data, dict) and data.get("type") == "Feature":
        data = data.get("geometry")
    if not isinstance(data, dict):
        raise FieldMappingError("the drawn part is not a GeoJSON geometry", field="drawn")
    return data


def main_file(paths: list[FilePath]) -> FilePath:
    """The dataset among uploaded files (a zip, or a .shp with its .dbf/.shx/.prj/.cpg beside it)."""
    if len(paths) == 1:
        return paths[0]
    for suffix in MAIN_SUFFIXES:
        found = [p for p in paths if p.suffix.lower() == suffix]
        if len(found) == 1:
            return found[0]
        if len(found) > 1 and suffix != ".zip" and len({p.parent for p in paths}) == 1:
            return found[0].parent  # several datasets (坐标txt files, shapefiles): one delivery folder
    names = ", ".join(p.name for p in paths)
    raise InputFileError(f"cannot tell which of the uploaded files ({names}) is the dataset: upload one zip, "
                         "or one .shp with its .dbf, .shx, .prj and .cpg", field="file")


def router() -> APIRouter:
    api = APIRouter(prefix="/api/v1")
    read, track, importer, admin = need("read"), need("track"), need("import"), need("admin")

    def store_of(request: Request):
        return request.app.state.store

    def scope(request: Request, user: Principal):
        return accounts.scope_villages(store_of(request), user)

    # --- batches -----------------------------------------------------------------------
    @api.get("/batches", tags=["batches"])
    def batches(request: Request, user: Principal = Depends(read)):
        return plain(list_batches(store_of(request), villages=scope(request, user)))

    @api.get("/batches/{name}", tags=["batches"])
    def batch(request: Request, name: str, source: str | None = None, user: Principal = Depends(read)):
        """A batch with its imports and their reports (问题 by feature)."""
        return plain(show_batch(store_of(request), name, source, villages=scope(request, user)))

    @api.post("/batches", tags=["batches"])
    def import_upload(request: Request, file: list[UploadFile] = File(..., description="zip, gpkg, shp set, kml, txt"),
                      source: str = Form(...), batch: str = Form(...), issued_on: date = Form(...),
                      deadline: date | None = Form(None), layer: str | None = Form(None),
                      encoding: str | None = Form(None), crs: str | None = Form(None),
                      profile: str | None = Form(None), id_field: str | None = Form(None),
                      area_field: str | None = Form(None), area_unit: str | None = Form(None),
                      cultivated_field: str | None = Form(None), central_meridian: int | None = Form(None),
                      skip_invalid: bool = Form(False), dry_run: bool = Form(False),
                      all_layers: bool = Form(False), accept_duplicates: bool = Form(False),
                      user: Principal = Depends(importer)):
        """Import a delivery (the same checks as `geo-tracker batches import`); ``dry_run`` shows the diff only.

        The same delivery, or patches other batches hold, answer 409 ``duplicate_delivery``
        unless ``accept_duplicates``; the dry run lists them (``duplicates``, ``duplicate_of``)."""
        options = ImportOptions(source=source, batch=batch, issued_on=issued_on, deadline=deadline, layer=layer,
                                encoding=encoding, crs=crs, profile=profile, id_field=id_field,
                                area_field=area_field, area_unit=area_unit, cultivated_field=cultivated_field,
                                central_meridian=central_meridian, skip_invalid=skip_invalid, dry_run=dry_run,
                                all_layers=all_layers, accept_duplicates=accept_duplicates, user=user.username,
                                villages=scope(request, user))
        options.validate()
        with uploads.private_folder(request.app.state.settings.upload_dir) as folder:
            paths = [uploads.save(f, folder, "delivery") for f in file]
            report = import_batch(store_of(request), main_file(paths), options)
        return plain(report.to_dict())

    # --- patches -----------------------------------------------------------------------
    @api.get("/patches", tags=["patches"])
    def patches(request: Request, batch: str | None = None, village: str | None = None, status: str | None = None,
                source: str | None = None, as_of: date | None = None,
                limit: int | None = Query(None, ge=1, le=100_000), offset: int = Query(0, ge=0, le=MAX_ID),
                user: Principal = Depends(read)):
        """The patches the user may see, as GeoJSON (EPSG:4490), with their state as of a date; ``limit`` and
        ``offset`` page them (ordered by batch date, batch, code)."""
        frame = list_patches(store_of(request), batch=batch, village=village, status=status, source=source,
                             as_of=as_of, villages=scope(request, user), limit=limit, offset=offset)
        return patches_geojson(frame)

    @api.get("/patches/{ref:path}", tags=["patches"])
    def patch(request: Request, ref: str, as_of: date | None = None, user: Principal = Depends(read)):
        """One patch (CODE or BATCH/CODE): state, shares, versions, and its events (history)."""
        store = store_of(request)
        data = show_patch(store, ref, as_of, villages=scope(request, user))
        data["events"] = tracking.patch_history(store, f"{data['batch']}/{data['patch_code']}")
        return plain(data)

    @api.post("/patches/{ref:path}/verify", tags=["tracking"])
    def verify(request: Request, ref: str, body: VerifyBody, user: Principal = Depends(track)):
        """核查: legal, no_change (伪变化) or illegal."""
        ref = accounts.patch_in_scope(store_of(request), user, ref)
        return plain(tracking.verify_patch(store_of(request), ref, body.result, body.on, note=body.note,
                                           cadre=body.cadre, user=user.username,
                                           expected_version=body.expected_version))

    @api.post("/patches/{ref:path}/rectify", tags=["tracking"])
    def rectify(request: Request, ref: str, on: date = Form(...), measure: str = Form(...),
                area_mu: float | None = Form(None), full: bool = Form(False), cultivated_mu: float | None = Form(None),
                note: str | None = Form(None), expected_version: int | None = Form(None, ge=0, le=MAX_ID),
                evidence: list[UploadFile] = File(default=[]), geometry: UploadFile | None = File(None),
                drawn: str | None = Form(None, description="GeoJSON polygon of the part, lon/lat, clipped to it"),
                user: Principal = Depends(track)):
        """整改登记: an area, everything left (full), a part in a file (geometry) or sketched on a map (drawn),
        with photos or scans."""
        store = store_of(request)
        ref = accounts.patch_in_scope(store, user, ref)
        with uploads.rectification_files(request.app.state.settings.upload_dir, evidence, geometry) as (photos, part):
            return plain(tracking.rectify_patch(store, ref, on, measure, area_mu=area_mu, full=full or None,
                                                geometry=part, drawn=drawn_part(drawn), cultivated_mu=cultivated_mu,
                                                evidence=photos, note=note, user=user.username,
                                                expected_version=expected_version))

    @api.post("/patches/{ref:path}/close", tags=["tracking"])
    def close(request: Request, ref: str, body: CloseBody, user: Principal = Depends(track)):
        """销号."""
        ref = accounts.patch_in_scope(store_of(request), user, ref)
        return plain(tracking.close_patch(store_of(request), ref, body.on, note=body.note, user=user.username,
                                          expected_version=body.expected_version))

    @api.post("/events/{event_id}/void", tags=["tracking"])
    def void(request: Request, body: VoidBody, event_id: int = Path(ge=1, le=MAX_ID),
             user: Principal = Depends(track)):
        """Void a mistaken event by a new one that says why; the original stays in the history."""
        accounts.check_event_scope(store_of(request), user, event_id)
        return plain(tracking.void_event(store_of(request), event_id, body.reason, user=user.username))

    # --- cases -------------------------------------------------------------------------
    @api.get("/cases", tags=["cases"])
    def case_list(request: Request, as_of: date | None = None, user: Principal = Depends(read)):
        return plain(cases.list_cases(store_of(request), as_of, villages=scope(request, user)))

    @api.get("/cases/{case_no:path}", tags=["cases"])
    def case(request: Request, case_no: str, user: Principal = Depends(read)):
        return plain(cases.show_case(store_of(request), case_no, villages=scope(request, user)))

    def _refs_in_scope(request, user, refs) -> list[str]:
        return [accounts.patch_in_scope(store_of(request), user, ref) for ref in refs]

    @api.post("/cases", tags=["cases"], status_code=201)
    def case_open(request: Request, body: CaseBody, user: Principal = Depends(track)):
        """立案, linking the illegal patches it covers (a unit-scoped user must link at least one)."""
        if not user.sees_all and not body.patches:
            raise FieldMappingError("link at least one of your patches to the case", field="patches")
        refs = _refs_in_scope(request, user, body.patches)
        return plain(cases.open_case(store_of(request), body.case_no, body.opened_on, patches_refs=refs,
                                     violation=body.violation, act=body.act, fine_yuan=body.fine_yuan,
                                     note=body.note, category=body.category, user=user.username))

    def _case_in_scope(request, user, case_no):
        cases.show_case(store_of(request), case_no, villages=scope(request, user))

    @api.post("/cases/{case_no:path}/links", tags=["cases"])
    def case_link(request: Request, case_no: str, body: LinkBody, user: Principal = Depends(track)):
        _case_in_scope(request, user, case_no)
        refs = _refs_in_scope(request, user, body.patches)
        return plain(cases.link_case(store_of(request), case_no, refs, body.on, user=user.username))

    @api.post("/cases/{case_no:path}/decision", tags=["cases"])
    def case_decide(request: Request, case_no: str, body: DecisionBody, user: Principal = Depends(track)):
        """处罚决定."""
        _case_in_scope(request, user, case_no)
        return plain(cases.decide_case(store_of(request), case_no, body.on, fine_yuan=body.fine_yuan,
                                       outcome=body.outcome, note=body.note, user=user.username))

    @api.post("/cases/{case_no:path}/close", tags=["cases"])
    def case_close(request: Request, case_no: str, body: CaseCloseBody, user: Principal = Depends(track)):
        """结案."""
        _case_in_scope(request, user, case_no)
        return plain(cases.close_case(store_of(request), case_no, body.on, note=body.note, user=user.username))

    # --- boundaries --------------------------------------------------------------------
    @api.get("/boundaries", tags=["boundaries"])
    def boundaries(request: Request, level: str | None = None, as_of: date | None = None,
                   user: Principal = Depends(read)):
        return plain(list_boundaries(store_of(request), level, as_of))

    @api.post("/boundaries", tags=["boundaries"])
    def boundaries_upload(request: Request, file: list[UploadFile] = File(...), level: str = Form(...),
                          code_field: str | None = Form(None), name_field: str | None = Form(None),
                          parent_field: str | None = Form(None), parent_code: str | None = Form(None),
                          valid_from: date | None = Form(None), encoding: str | None = Form(None),
                          crs: str | None = Form(None), layer: str | None = Form(None),
                          user: Principal = Depends(importer)):
        """Import village, township or county boundaries (行政区划), as `geo-tracker boundaries import`."""
        options = BoundaryOptions(level=level, code_field=code_field, name_field=name_field,
                                  parent_field=parent_field, parent_code=parent_code, valid_from=valid_from,
                                  encoding=encoding, crs=crs, layer=layer)
        options.validate()
        units = accounts.scope_units(store_of(request), user)
        options.units = None if units is None else units.codes
        with uploads.private_folder(request.app.state.settings.upload_dir) as folder:
            paths = [uploads.save(f, folder, "boundaries") for f in file]
            return plain(import_boundaries(store_of(request), main_file(paths), options).to_dict())

    # --- figures and files --------------------------------------------------------------
    @api.get("/stats", tags=["figures"])
    def stats(request: Request, as_of: date | None = None, year: int | None = None, source: str | None = None,
              batch: str | None = None, village: str | None = None, by: list[str] = Query(default=[]),
              user: Principal = Depends(read)):
        """The figures of `geo-tracker stats --json`, limited to the user's villages."""
        return plain(compute_stats(store_of(request), as_of=as_of, year=year, source=source, batch=batch,
                                   village=village, by=by, villages=scope(request, user)))

    @api.get("/report", tags=["figures"])
    def report(request: Request, format: str = Query("docx", pattern="^(docx|html|md)$"), year: int | None = None,
               as_of: date | None = None, user: Principal = Depends(read)):
        """The report as a file: docx (charts embedded), html (charts inlined) or md (text only)."""
        if format not in REPORT_FORMATS:
            raise FieldMappingError(f"format {format!r} is not one of {', '.join(REPORT_FORMATS)}", field="format")
        with uploads.private_folder(request.app.state.settings.upload_dir) as folder:
            path = folder / f"report.{format}"
            context = write_report(store_of(request), path, format, year=year, as_of=as_of,
                                   charts=format != "md", villages=scope(request, user))
            return download(path.read_bytes(), f"{context['title']}.{format}", MEDIA[format])

    @api.get("/exports/patches.{fmt}", tags=["figures"])
    def export(request: Request, fmt: str, as_of: date | None = None, batch: str | None = None,
               source: str | None = None, user: Principal = Depends(read)):
        """The patches with their state: gpkg, shp (zipped, GBK), geojson or xlsx."""
        if f".{fmt}" not in EXPORT_FORMATS:
            raise FieldMappingError(f"export format {fmt!r} is not one of "
                                    f"{', '.join(s.lstrip('.') for s in EXPORT_FORMATS)}", field="fmt")
        with uploads.private_folder(request.app.state.settings.upload_dir) as folder:
            path = folder / f"patches.{fmt}"
            export_patches(store_of(request), path, as_of=as_of, batch=batch, source=source,
                           villages=scope(request, user))
            if fmt == "shp":
                buffer = io.BytesIO()
                with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
                    for member in sorted(folder.glob("patches.*")):
                        z.write(member, member.name)
                content = buffer.getvalue()
                name = "patches.zip"
            else:
                content, name = path.read_bytes(), path.name
        return download(content, name, MEDIA[fmt])

    # --- users (admin) ------------------------------------------------------------------
    def county_admin(user: Principal = Depends(admin)) -> Principal:
        """Users are managed by admins of every unit: a township admin could otherwise widen anyone's scope."""
        if not user.sees_all:
            raise PermissionDeniedError(f"user {user.username} administers some units only: users are managed by "
                                        "an admin of all units (*)")
        return user

    @api.get("/users", tags=["accounts"])
    def users(request: Request, user: Principal = Depends(county_admin)):
        return accounts.list_users(store_of(request))

    @api.get("/users/lockouts", tags=["accounts"])
    def lockouts(request: Request, user: Principal = Depends(county_admin)):
        """Accounts locked by failed logins (newest first), with the seconds still to wait."""
        return plain(accounts.locked_accounts(store_of(request)))

    @api.post("/users", tags=["accounts"], status_code=201)
    def user_add(request: Request, body: UserBody, user: Principal = Depends(county_admin)):
        return accounts.add_user(store_of(request), body.username, body.password, body.role, body.units,
                                 display_name=body.display_name)

    @api.post("/users/{username}/disable", tags=["accounts"])
    def user_disable(request: Request, username: str, user: Principal = Depends(county_admin)):
        return accounts.disable_user(store_of(request), username)

    @api.post("/users/{username}/enable", tags=["accounts"])
    def user_enable(request: Request, username: str, user: Principal = Depends(county_admin)):
        return accounts.disable_user(store_of(request), username, disabled=False)

    return api
