"""The web pages: server-rendered Chinese pages over the same services as the JSON API and the CLI.

Each page checks who asks (the session cookie; a form carries the CSRF token),
calls service functions and renders a template from ``templates/`` with words from
``messages.py``. Jinja2 escapes every value, so a bureau's attribute never becomes
markup. A failed action re-renders its page with the reason; a success redirects
(POST, redirect, GET) so reloading never repeats it.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import math
import os
import re
import secrets
import shutil
import tempfile
import time
from datetime import date
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

import shapely
from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape

from ..core.lifecycle import ALLOWED, MEASURE_LABELS, MEASURES, STATUS_LABELS, STATUSES, VERIFY_RESULTS
from ..errors import (
    AuthenticationError, ConfigurationError, CSRFError, GeoTrackerError, InputFileError, NotFoundError,
    TooManyAttemptsError,
)
from ..maps.builder import build_map, render_page, script_json
from ..reports.render import inline_images
from ..services import accounts, cases, tracking
from ..services.accounts import Principal
from ..services.batches import SOURCE_LABELS, SOURCES, ImportOptions, import_batch, list_batches
from ..services.maps import map_page_data
from ..services.patches import count_patches, list_patches, show_patch
from ..services.report import report_context
from ..services.tiles import tile_page
from ..store import admin_units as units_repo
from ..api import uploads
from ..api.errors import error_code
from ..api.auth import COOKIE, client_address, close_session, open_session, principal, refuse_cross_site
from ..services.logins import TARPIT_S
from starlette.concurrency import run_in_threadpool
from ..api.v1 import drawn_part, main_file
from .messages import LANGUAGES, translator

STATIC = Path(__file__).with_name("static")
PAGE_SIZE = 50
#: Beyond this many patches the map page loads vector tiles instead of embedding GeoJSON.
EMBED_LIMIT = 20_000
STAGING_HOURS = 2
STAGING_TOKEN = re.compile(r"[A-Za-z0-9_-]{22}")
SORTABLE = ("patch_code", "batch", "village_name", "area_mu", "status", "rectified_mu", "deadline", "issued_on")

env = Environment(loader=PackageLoader("geo_tracker.web", "templates"), autoescape=select_autoescape(default=True),
                  trim_blocks=True, lstrip_blocks=True)
env.filters["mu"] = lambda v, d=2: "-" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{d}f}"
env.filters["pct"] = lambda v: "-" if v is None else f"{v * 100:.2f}%"
env.filters["urlpart"] = lambda v: quote(str(v), safe="")


def language(request: Request) -> str:
    lang = request.query_params.get("lang") or request.cookies.get("gt_lang") or "zh"
    return lang if lang in LANGUAGES else "zh"


def render(request: Request, template: str, status_code: int = 200, **context) -> HTMLResponse:
    lang = language(request)
    page = env.get_template(template).render(
        _=translator(lang), lang=lang, request=request, user=getattr(request.state, "principal", None),
        csrf=getattr(request.state, "csrf", ""), statuses=STATUS_LABELS, sources=SOURCE_LABELS,
        measures=MEASURE_LABELS, flash=_flash(request, lang), **context)
    response = HTMLResponse(page, status_code=status_code)
    if request.query_params.get("lang") in LANGUAGES:
        response.set_cookie("gt_lang", lang, max_age=365 * 86400, samesite="lax", httponly=True)
    return response


def _flash(request: Request, lang: str) -> tuple[str, str] | None:
    msg = request.query_params.get("msg")
    return ("ok", translator(lang)(msg)) if msg in ("act.done", "account.changed") else None


_INLINE_SCRIPT = re.compile(r"<script(?=[\s>])")


def with_nonce(html: str, nonce: str) -> str:
    """Mark the map page's own inline scripts (folium writes them) with the request's CSP nonce."""
    return _INLINE_SCRIPT.sub(f'<script nonce="{nonce}"', html)


def back(path: str, msg: str = "act.done") -> RedirectResponse:
    return RedirectResponse(f"{path}?msg={msg}", status_code=303)


def html_error(request: Request, error: GeoTrackerError) -> Response:
    """How a page shows our errors: a login redirect, or the error page with the reason."""
    if isinstance(error, AuthenticationError):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.method != "GET":  # a form sent after the session ended: come back to the page it was on
            referer = urlsplit(request.headers.get("referer", ""))
            same_site = referer.netloc == request.url.netloc
            target = (referer.path + (f"?{referer.query}" if referer.query else "")) if same_site else "/dashboard"
        return RedirectResponse(f"/login?{urlencode({'next': target})}", status_code=303)
    return render(request, "error.html", status_code=error.http_status, message=str(error), code=error_code(error))


def _safe_next(value: str | None) -> str:
    return value if value and value.startswith("/") and not value.startswith("//") else "/dashboard"


def _store(request: Request):
    return request.app.state.store


def _scope(request: Request, user: Principal):
    return accounts.scope_villages(_store(request), user)


LOGIN_COOKIE = "gt_login"


def _login_form(request: Request, *, status_code: int = 200, **context):
    """The login page with a fresh form token, set as a cookie too (double submit)."""
    token = secrets.token_urlsafe(16)
    response = render(request, "login.html", status_code=status_code, login_token=token, **context)
    response.set_cookie(LOGIN_COOKIE, token, max_age=7200, httponly=True, samesite="strict", path="/login",
                        secure=request.app.state.settings.cookie_secure)
    return response


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def router() -> APIRouter:
    pages = APIRouter(include_in_schema=False)
    user_dep = Depends(principal)

    # --- login and account -----------------------------------------------------------
    @pages.get("/login")
    def login_page(request: Request, next: str | None = None):
        return _login_form(request, next=_safe_next(next))

    @pages.post("/login")
    async def login(request: Request, username: str = Form(""), password: str = Form(""),
                    next: str = Form("/dashboard"), login_token: str = Form("")):
        """Log in. The form carries a token matching a cookie set with the form (no login CSRF)."""
        expected = request.cookies.get(LOGIN_COOKIE, "")
        try:
            refuse_cross_site(request)
            if not expected or not hmac.compare_digest(login_token.encode(), expected.encode()):
                raise CSRFError("the login form has expired")
        except CSRFError:
            return _login_form(request, status_code=403, next=_safe_next(next), error_key="login.expired",
                               username=username)
        try:
            user = await run_in_threadpool(accounts.authenticate, _store(request), username, password,
                                           address=client_address(request))
        except TooManyAttemptsError as e:
            await asyncio.sleep(min(e.retry_after, TARPIT_S))  # hold the guesser, not the server
            response = _login_form(request, status_code=429, next=_safe_next(next), username=username,
                                   error_key="login.throttled", wait=e.retry_after)
            response.headers["Retry-After"] = str(e.retry_after)
            return response
        except AuthenticationError:
            return _login_form(request, status_code=401, next=_safe_next(next), error_key="login.failed",
                               username=username)
        response = RedirectResponse(_safe_next(next), status_code=303)
        response.delete_cookie(LOGIN_COOKIE, path="/login")
        open_session(request, response, user)
        return response

    @pages.post("/logout")
    def logout(request: Request, user: Principal = user_dep):
        response = RedirectResponse("/login", status_code=303)
        close_session(request, response)
        return response

    @pages.get("/account")
    def account(request: Request, user: Principal = user_dep):
        return render(request, "account.html")

    @pages.post("/account/password")
    def password(request: Request, old_password: str = Form(""), new_password: str = Form(""),
                 user: Principal = user_dep):
        try:
            accounts.change_password(_store(request), user.username, new_password, old_password,
                                     address=client_address(request))
        except GeoTrackerError as e:
            return render(request, "account.html", status_code=e.http_status, error=str(e))
        response = RedirectResponse("/login?msg=account.changed", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response

    # --- dashboard -------------------------------------------------------------------
    @pages.get("/dashboard")
    def dashboard(request: Request, as_of: str | None = None, year: str | None = None, user: Principal = user_dep):
        day = _date(as_of)
        year_value = int(year) if year and year.isascii() and year.isdigit() else None
        folder = Path(tempfile.mkdtemp(prefix="geo_tracker_charts_"))
        try:
            context = inline_images(report_context(_store(request), year=year_value, as_of=day, chart_dir=folder,
                                                   villages=_scope(request, user)))
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return render(request, "dashboard.html", report=context, as_of=context["as_of"], year=year_value)

    # --- map -------------------------------------------------------------------------
    def _map_filters(request: Request) -> dict:
        q = request.query_params
        return {k: q.get(k) or None for k in ("batch", "source", "status", "village", "as_of")}

    @pages.get("/map")
    def map_page(request: Request, user: Principal = user_dep):
        filters = _map_filters(request)
        query = urlencode({k: v for k, v in filters.items() if v})
        return render(request, "map.html", filters=filters, frame=f"/map/frame?{query}",
                      batches=list_batches(_store(request), villages=_scope(request, user)), status_keys=STATUSES, source_keys=SOURCES)

    @pages.get("/map/frame")
    def map_frame(request: Request, user: Principal = user_dep):
        store, scope = _store(request), _scope(request, user)
        f = _map_filters(request)
        link = {"base": "/patches/", "text": translator(language(request))("map.open")}
        if count_patches(store, villages=scope) > EMBED_LIMIT:
            return HTMLResponse(with_nonce(tile_page(store, patch_link=link), request.state.csp_nonce))
        data, title = map_page_data(store, batches=[f["batch"]] if f["batch"] else [], source=f["source"],
                                    village=f["village"], status=f["status"], as_of=_date(f["as_of"]),
                                    villages=scope)
        data["patch_link"] = link
        return HTMLResponse(with_nonce(render_page(build_map(data, title=title, lib="/lib")), request.state.csp_nonce))

    # --- patches ---------------------------------------------------------------------
    @pages.get("/patches")
    def patch_list(request: Request, batch: str | None = None, source: str | None = None, status: str | None = None,
                   village: str | None = None, as_of: str | None = None, sort: str = "patch_code",
                   order: str = "asc", page: int = 1, user: Principal = user_dep):
        frame = list_patches(_store(request), batch=batch or None, source=source or None,
                             status=status if status in STATUSES else None, village=village or None,
                             as_of=_date(as_of), villages=_scope(request, user))
        sort = sort if sort in SORTABLE else "patch_code"
        frame = frame.sort_values(sort, ascending=order != "desc", na_position="last", kind="stable")
        pages_total = max(1, math.ceil(len(frame) / PAGE_SIZE))
        page = min(max(page, 1), pages_total)
        rows = frame.iloc[(page - 1) * PAGE_SIZE: page * PAGE_SIZE].to_dict("records")
        filters = {"batch": batch, "source": source, "status": status, "village": village, "as_of": as_of}
        base = {k: v for k, v in filters.items() if v}
        return render(request, "patches.html", rows=rows, total=len(frame), page=page, pages=pages_total,
                      sort=sort, order=order, filters=filters, query=base, batches=list_batches(_store(request), villages=_scope(request, user)),
                      status_keys=STATUSES, source_keys=SOURCES, urlencode=urlencode)

    def _patch_context(request: Request, user: Principal, ref: str) -> dict:
        store = _store(request)
        scope = _scope(request, user)
        patch = show_patch(store, ref, villages=scope)
        label = f"{patch['batch']}/{patch['patch_code']}"
        events = tracking.patch_history(store, label)
        with store.engine.connect() as conn:
            codes = [v["village_code"] for v in patch["villages"]] or ([patch["nearest_code"]]
                                                                       if patch.get("nearest_code") else [])
            units = units_repo.load_units(conn, store, level="village", codes=codes, valid_on=date.today()) \
                if codes else None
        shape = {"patch": {"type": "Feature", "geometry": patch["geometry"], "properties": {}},
                 "villages": {"type": "FeatureCollection", "features": [
                     {"type": "Feature", "geometry": shapely.geometry.mapping(u.geometry),
                      "properties": {"code": u.code, "name": u.name}}
                     for u in (units.itertuples() if units is not None else [])]}}
        may_track = user.can("track")
        status = patch["status"]
        href = f"/patches/{quote(patch['batch'], safe='')}/{quote(patch['patch_code'], safe='')}"
        return {"patch": patch, "label": label, "href": href, "events": events, "shape": script_json(shape),
                "can_verify": may_track and status in ALLOWED["verify"],
                "can_rectify": may_track and status in ALLOWED["rectify"],
                "can_close": may_track and status in ALLOWED["close"],
                "results": VERIFY_RESULTS, "measure_keys": MEASURES,
                "remaining": max(patch["area_mu"] - (patch["rectified_mu"] or 0), 0), "today": date.today()}

    @pages.get("/patches/{ref:path}/evidence/{sha256}")
    def evidence(request: Request, ref: str, sha256: str, user: Principal = user_dep):
        """An evidence file, only through a patch the user may see and whose records cite it."""
        store = _store(request)
        ref = accounts.patch_in_scope(store, user, ref)
        for event in tracking.patch_history(store, ref):
            for item in (event["payload"] or {}).get("evidence") or []:
                if item.get("sha256") == sha256:
                    path = tracking.evidence_path(store, sha256)
                    if path is not None:
                        try:
                            media = uploads.evidence_type(path)
                        except GeoTrackerError:
                            media = "application/octet-stream"
                        return FileResponse(path, media_type=media, filename=item.get("file_name") or sha256,
                                            content_disposition_type="inline" if media.startswith("image/")
                                            else "attachment")
        raise NotFoundError(f"no evidence {sha256} on patch {ref}")

    @pages.get("/patches/{ref:path}")
    def patch_page(request: Request, ref: str, user: Principal = user_dep):
        return render(request, "patch.html", **_patch_context(request, user, ref))

    def _patch_action(request: Request, user: Principal, ref: str, action) -> Response:
        user.require("track")
        store = _store(request)
        ref = accounts.patch_in_scope(store, user, ref)
        try:
            action(store, ref)
        except GeoTrackerError as e:
            if isinstance(e, NotFoundError):
                raise
            return render(request, "patch.html", status_code=e.http_status, error=str(e),
                          **_patch_context(request, user, ref))
        return back(f"/patches/{quote(ref)}")

    @pages.post("/patches/{ref:path}/verify")
    def verify(request: Request, ref: str, result: str = Form(""), on: str = Form(""), note: str = Form(""),
               cadre: str = Form(""), user: Principal = user_dep):
        return _patch_action(request, user, ref, lambda store, ref: tracking.verify_patch(
            store, ref, result, _required_date(on), note=note or None, cadre=cadre or None, user=user.username))

    @pages.post("/patches/{ref:path}/rectify")
    def rectify(request: Request, ref: str, on: str = Form(""), measure: str = Form(""), area_mu: str = Form(""),
                full: str = Form(""), cultivated_mu: str = Form(""), note: str = Form(""),
                evidence: list[UploadFile] = File(default=[]), geometry: UploadFile | None = File(None),
                drawn: str = Form(""), user: Principal = user_dep):
        def act(store, ref):
            upload_dir = request.app.state.settings.upload_dir
            with uploads.rectification_files(upload_dir, evidence, geometry) as (photos, part):
                sketch = drawn_part(drawn)
                tracking.rectify_patch(store, ref, _required_date(on), measure,
                                       area_mu=None if full or part or sketch else _number(area_mu, "area_mu"),
                                       full=bool(full) or None, geometry=part, drawn=sketch,
                                       cultivated_mu=_number(cultivated_mu, "cultivated_mu") if cultivated_mu else None,
                                       evidence=photos, note=note or None, user=user.username)
        return _patch_action(request, user, ref, act)

    @pages.post("/patches/{ref:path}/close")
    def close(request: Request, ref: str, on: str = Form(""), note: str = Form(""), user: Principal = user_dep):
        return _patch_action(request, user, ref, lambda store, ref: tracking.close_patch(
            store, ref, _required_date(on), note=note or None, user=user.username))

    # --- batch import (liaison) ---------------------------------------------------------
    def _staging_root(request: Request) -> Path:
        """The private folder of staged imports: ours alone (refused if someone else made it)."""
        root = Path(request.app.state.settings.upload_dir or tempfile.gettempdir()) / "geo_tracker_staging"
        root.mkdir(mode=0o700, exist_ok=True)
        info = root.lstat()
        if root.is_symlink() or info.st_uid != os.getuid() or info.st_mode & 0o077:
            raise ConfigurationError(f"staging folder {root} is not private to this service (owner, mode 700): "
                                     "remove it or set upload_dir", field="upload_dir")
        for old in root.iterdir():
            if old.stat().st_mtime < time.time() - STAGING_HOURS * 3600:
                shutil.rmtree(old, ignore_errors=True)
        return root

    @pages.get("/import")
    def import_page(request: Request, user: Principal = user_dep):
        user.require("import")
        return render(request, "import.html", source_keys=SOURCES, today=date.today())

    @pages.post("/import")
    def import_check(request: Request, file: list[UploadFile] = File(default=[]), source: str = Form(""),
                     batch: str = Form(""), issued_on: str = Form(""), deadline: str = Form(""),
                     all_layers: str = Form(""), user: Principal = user_dep):
        """Dry run: keep the upload in a private staging folder and show what would change."""
        user.require("import")
        token = secrets.token_urlsafe(16)
        folder = _staging_root(request) / token
        folder.mkdir(mode=0o700)
        form = {"source": source, "batch": batch.strip(), "issued_on": issued_on, "deadline": deadline,
                "all_layers": bool(all_layers)}
        files = folder / "files"
        files.mkdir(mode=0o700)
        try:
            if not [f for f in file if f.filename]:
                raise InputFileError("choose the file the bureau sent (zip, gpkg, shp set, kml, txt)", field="file")
            dataset = main_file([uploads.save(f, files, "delivery") for f in file if f.filename])
            report = import_batch(_store(request), dataset, _import_options(
                form, user.username, _scope(request, user), dry_run=True))
        except GeoTrackerError as e:
            shutil.rmtree(folder, ignore_errors=True)
            return render(request, "import.html", status_code=e.http_status, error=str(e),
                          problems=getattr(e, "problems", []), form=form, source_keys=SOURCES, today=date.today())
        (folder / "staged.json").write_text(json.dumps({"user": user.username, "form": form,
                                                       "file": str(dataset.relative_to(folder))}), encoding="utf-8")
        return render(request, "import_diff.html", report=report.to_dict(), token=token, form=form)

    @pages.post("/import/confirm")
    def import_confirm(request: Request, token: str = Form(""), accept_duplicates: str = Form(""),
                       user: Principal = user_dep):
        user.require("import")
        valid = STAGING_TOKEN.fullmatch(token or "") is not None
        folder = _staging_root(request) / (token if valid else "-")
        staged = folder / "staged.json"
        if not valid or not staged.is_file():
            return render(request, "import.html", status_code=410, error=translator(language(request))(
                "import.expired"), source_keys=SOURCES, today=date.today())
        meta = json.loads(staged.read_text(encoding="utf-8"))
        if meta["user"] != user.username:
            raise NotFoundError("no such staged import")
        try:
            report = import_batch(_store(request), folder / meta["file"], _import_options(
                meta["form"], user.username, _scope(request, user), accept_duplicates=bool(accept_duplicates)))
        except GeoTrackerError as e:
            return render(request, "import.html", status_code=e.http_status, error=str(e),
                          problems=getattr(e, "problems", []), form=meta["form"], source_keys=SOURCES,
                          today=date.today())
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return render(request, "import_report.html", report=report.to_dict())

    # --- cases -----------------------------------------------------------------------
    @pages.get("/cases")
    def case_list(request: Request, user: Principal = user_dep):
        return render(request, "cases.html", rows=cases.list_cases(_store(request), villages=_scope(request, user)),
                      today=date.today())

    @pages.post("/cases")
    def case_open(request: Request, case_no: str = Form(""), opened_on: str = Form(""), violation: str = Form(""),
                  category: str = Form(""), refs: str = Form(""), user: Principal = user_dep):
        user.require("track")
        store = _store(request)
        patch_refs = [r.strip() for r in refs.splitlines() if r.strip()]
        try:
            if not user.sees_all and not patch_refs:
                raise InputFileError("link at least one of your patches to the case", field="refs")
            refs = [accounts.patch_in_scope(store, user, ref) for ref in patch_refs]
            cases.open_case(store, case_no.strip(), _required_date(opened_on), patches_refs=refs,
                            violation=violation or None, category=category or None, user=user.username)
        except GeoTrackerError as e:
            return render(request, "cases.html", status_code=e.http_status, error=str(e), today=date.today(),
                          rows=cases.list_cases(store, villages=_scope(request, user)))
        return back(f"/cases/{quote(case_no.strip())}")

    def _case_context(request, user, case_no):
        store = _store(request)
        return {"case": cases.show_case(store, case_no, villages=_scope(request, user)), "today": date.today(),
                "vocab": cases.list_vocabulary(store)}

    def _case_action(request, user, case_no, action):
        user.require("track")
        context = _case_context(request, user, case_no)
        try:
            action(_store(request))
        except GeoTrackerError as e:
            return render(request, "case.html", status_code=e.http_status, error=str(e), **context)
        return back(f"/cases/{quote(case_no)}")

    @pages.post("/cases/{case_no:path}/link")
    def case_link(request: Request, case_no: str, refs: str = Form(""), on: str = Form(""),
                  user: Principal = user_dep):
        patch_refs = [r.strip() for r in refs.splitlines() if r.strip()]

        def act(store):
            refs = [accounts.patch_in_scope(store, user, ref) for ref in patch_refs]
            cases.link_case(store, case_no, refs, _required_date(on), user=user.username)
        return _case_action(request, user, case_no, act)

    @pages.post("/cases/{case_no:path}/decision")
    def case_decide(request: Request, case_no: str, on: str = Form(""), fine_yuan: str = Form(""),
                    outcome: str = Form(""), user: Principal = user_dep):
        return _case_action(request, user, case_no, lambda store: cases.decide_case(
            store, case_no, _required_date(on), fine_yuan=_number(fine_yuan, "fine_yuan") if fine_yuan else None,
            outcome=outcome or None, user=user.username))

    @pages.post("/cases/{case_no:path}/close")
    def case_close(request: Request, case_no: str, on: str = Form(""), user: Principal = user_dep):
        return _case_action(request, user, case_no, lambda store: cases.close_case(
            store, case_no, _required_date(on), user=user.username))

    @pages.get("/cases/{case_no:path}")
    def case_page(request: Request, case_no: str, user: Principal = user_dep):
        return render(request, "case.html", **_case_context(request, user, case_no))

    # --- reports ---------------------------------------------------------------------
    @pages.get("/reports")
    def reports(request: Request, year: str | None = None, as_of: str | None = None, user: Principal = user_dep):
        query = {k: v for k, v in {"year": year, "as_of": as_of}.items() if v}
        return render(request, "reports.html", query=urlencode(query), year=year or "", as_of=as_of or "",
                      as_of_query=urlencode({"as_of": as_of} if as_of else {}))

    return pages


def _required_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise InputFileError(f"date {value!r} is not a date (YYYY-MM-DD)", field="on") from None


def _number(value: str, field: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputFileError(f"{field} {value!r} is not a number", field=field) from None
    if not math.isfinite(number):
        raise InputFileError(f"{field} {value!r} is not a finite number", field=field)
    return number


def _import_options(form: dict, username: str, villages, *, dry_run: bool = False,
                    accept_duplicates: bool = False) -> ImportOptions:
    issued = _required_date(form["issued_on"])
    deadline = _required_date(form["deadline"]) if form.get("deadline") else None
    options = ImportOptions(source=form["source"], batch=form["batch"], issued_on=issued, deadline=deadline,
                            dry_run=dry_run, all_layers=bool(form.get("all_layers")),
                            accept_duplicates=accept_duplicates, user=username, villages=villages)
    options.validate()
    return options

