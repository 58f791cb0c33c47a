"""QGIS out of the box: the OGC layers in QGIS with a Basic login, and the project `qgis-project` writes.

Every QGIS test runs under two QGIS versions, because what the server is asked depends on it:
Debian 12's QGIS 3.22 (`qgis3.22`) evaluates a layer's filter itself and types properties from
the first items page, while QGIS >= 3.32 sends the filter to the server (Part 1 query
parameters, Part 3 CQL2), reads /conformance and /queryables and asks OPTIONS; Debian 13's
QGIS 3.40 (`qgis3.40`) tests that side.

QGIS's Python bindings are Debian's (python3-qgis) and belong to Debian's /usr/bin/python3,
not to the test interpreter: every QGIS step runs :data:`DRIVER` there, headless
(QT_QPA_PLATFORM=offscreen), reading a JSON request and writing a JSON answer. QGIS 3.22 is
the host's (apt-get install python3-qgis qgis-providers); QGIS 3.40 needs Debian 13's glibc,
so it lives in a Debian 13 root that scripts/qgis_root.sh builds (bootstrap.sh test does) and
runs through chroot, in a private mount namespace that shows it /proc, /dev and pytest's
temporary folder at the same path as outside (requests, answers, projects, SpatiaLite files).
A chroot shares the network, so both reach the service on 127.0.0.1. On a laptop without a
QGIS its tests are skipped; under CI=true they fail.

The service runs in this process (uvicorn in a thread) behind a recorder of every request,
so a test can read which query parameters QGIS sent.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from conftest import IN_CI

from geo_tracker.cli import cli
from geo_tracker.core.lifecycle import STATUS_TABLE
from geo_tracker.maps.builder import COLORS
from geo_tracker.services import qgis_project
from geo_tracker.store import open_store

QGIS_PYTHON = "/usr/bin/python3"           # Debian's, in the host and in the root
#: Debian 13's root with QGIS 3.40 (scripts/qgis_root.sh; its marker says the build completed).
QGIS_ROOT = Path(os.environ.get("GEO_TRACKER_QGIS_ROOT") or Path.home() / ".cache/geo_tracker/qgis-debian13")
QGIS_ROOT_MARKER = ".geo_tracker-qgis-root"
PASSWORD = "qgis-tests-Pa55"
AUTHCFG = "gtbasic"                  # QGIS authentication config ids are 7 characters
QVARIANT_DOUBLE = 6                  # QVariant.Double: QGIS's Real
#: QGIS 3.32 sends a subset string to the server (Part 1 query parameters, Part 3 CQL2-text: changelog
#: entry 2464); Debian 12's 3.22 evaluates it itself and types properties from the first items page.
QGIS_WITH_SERVER_FILTERS = 33200

#: Runs under Debian's /usr/bin/python3 with QGIS: ``driver.py REQUEST.json ANSWER.json``.
DRIVER = r'''
import json
import os
import sys

request = json.load(open(sys.argv[1], encoding="utf-8"))
os.environ["QGIS_AUTH_DB_DIR_PATH"] = request["auth_dir"]
from qgis.core import (Qgis, QgsApplication, QgsAuthMethodConfig, QgsNetworkAccessManager, QgsProject,
                       QgsVectorLayer)
from qgis.PyQt.QtCore import QEventLoop, QTimer, QUrl
from qgis.PyQt.QtNetwork import QNetworkRequest

app = QgsApplication([], False)
app.initQgis()
answer = {"version": Qgis.QGIS_VERSION_INT, "messages": []}
QgsApplication.messageLog().messageReceived.connect(lambda m, tag, level: answer["messages"].append(f"{tag}: {m}"))

if request.get("basic"):            # a Basic entry in a fresh authentication database
    manager = QgsApplication.authManager()
    manager.setMasterPassword("geo_tracker-tests", True)
    config = QgsAuthMethodConfig("Basic")
    config.setId(request["basic"]["id"])
    config.setName("geo_tracker")
    config.setConfig("username", request["basic"]["username"])
    config.setConfig("password", request["basic"]["password"])
    answer["auth_stored"] = bool(manager.storeAuthenticationConfig(config)[0])


def ask(spec):
    """What QGIS does on a 401 without credentials: its network manager asks for them, then retries."""
    manager, asked = QgsNetworkAccessManager.instance(), []

    def fill_in(reply, authenticator):
        asked.append(authenticator.realm())
        if len(asked) == 1:
            authenticator.setUser(spec["username"])
            authenticator.setPassword(spec["password"])

    manager.authenticationRequired.connect(fill_in)
    reply = manager.get(QNetworkRequest(QUrl(spec["url"])))
    loop = QEventLoop()
    reply.finished.connect(loop.quit)
    QTimer.singleShot(60000, loop.quit)
    loop.exec_()
    manager.authenticationRequired.disconnect(fill_in)
    return {"asked": asked, "status": reply.attribute(QNetworkRequest.HttpStatusCodeAttribute)}


def describe(layer):
    out = {"name": layer.name(), "valid": layer.isValid(), "provider": layer.providerType(),
           "crs": layer.crs().authid()}
    if not layer.isValid():          # (layer.error() of an invalid layer crashes QGIS 3.22: the log says why)
        return out
    out["types"] = {f.name(): int(f.type()) for f in layer.fields()}
    out["count"] = layer.featureCount()
    out["fetched"] = sum(1 for _ in layer.getFeatures())
    renderer = layer.renderer()
    out["renderer"] = renderer.type()
    if renderer.type() == "categorizedSymbol":
        out["attr"] = renderer.classAttribute()
        out["legend"] = [[c.value(), c.label(), c.symbol().color().name()] for c in renderer.categories()]
    labels = layer.labeling().settings() if layer.labelsEnabled() and layer.labeling() else None
    out["label_field"] = labels.fieldName if labels else None
    out["label_from_scale"] = labels.minimumScale if labels and labels.scaleVisibility else None
    out["read_only"] = layer.readOnly()
    return out


def open_layer(spec):
    layer = QgsVectorLayer(spec["source"], spec["name"], spec["provider"])
    out = describe(layer)
    if layer.isValid() and spec.get("subset"):
        out["subset_set"] = layer.setSubsetString(spec["subset"])
        out["subset_statuses"] = [f["status"] for f in layer.getFeatures()]
    del layer
    return out


def open_project(path):
    project = QgsProject.instance()
    out = {"read": project.read(path), "title": project.title(), "crs": project.crs().authid(),
           "ellipsoid": project.ellipsoid(), "tree": [n.name() for n in project.layerTreeRoot().findLayers()]}
    extent = project.viewSettings().defaultViewExtent()
    out["extent"] = None if extent.isNull() else [extent.xMinimum(), extent.yMinimum(), extent.xMaximum(),
                                                   extent.yMaximum()]
    out["layers"] = {layer.name(): describe(layer) for layer in project.mapLayers().values()}
    project.clear()
    return out


if request.get("ask"):
    answer["ask"] = ask(request["ask"])
answer["layers"] = [open_layer(spec) for spec in request.get("layers", [])]
if request.get("project"):
    answer["project"] = open_project(request["project"])
with open(sys.argv[2], "w", encoding="utf-8") as out:
    json.dump(answer, out, ensure_ascii=False)
app.exitQgis()
'''


@dataclass(frozen=True)
class QgisInstall:
    """One installed QGIS: ``command(*args)`` runs Debian's /usr/bin/python3 with its bindings."""
    version: str                     # "3.22": what the test id promises
    root: Path | None                # None: the host's own; else a Debian root run through chroot
    install: str                     # how to get it, for the failure in CI

    def command(self, *args: str, cwd: Path, shared: Path) -> list[str]:
        if self.root is None:
            return [QGIS_PYTHON, *args]
        # a private mount namespace (nothing left mounted after the run): /proc, /dev, an empty /tmp
        # and `shared` (pytest's temporary folder) at its own path in the root; then chroot, cd `cwd`
        mounts = ('mount -t proc proc "$0/proc" && mount --rbind /dev "$0/dev" && mount -t tmpfs tmpfs "$0/tmp" && '
                  'mkdir -p "$0$1" && mount --bind "$1" "$0$1" && root=$0 && shift && exec chroot "$root" "$@"')
        return ["unshare", "--mount", "--fork", "--", "sh", "-c", mounts, str(self.root), str(shared),
                "/usr/bin/env", f"--chdir={cwd}", QGIS_PYTHON, *args]

    def missing(self, shared: Path) -> str | None:
        if self.root is not None and os.geteuid() != 0:
            return f"running QGIS in {self.root} needs root (chroot)"
        if self.root is not None and not (self.root / QGIS_ROOT_MARKER).is_file():
            return f"no complete Debian 13 root with QGIS in {self.root} (bash scripts/qgis_root.sh builds it)"
        if self.root is None and not os.path.exists(QGIS_PYTHON):
            return f"{QGIS_PYTHON} is missing"
        probe = subprocess.run(self.command("-c", "from qgis.core import Qgis; print(Qgis.QGIS_VERSION)",
                                            cwd=shared, shared=shared),
                               capture_output=True, text=True, check=False, env=_qgis_env(), timeout=120)
        if probe.returncode != 0:
            return f"Debian's QGIS does not start ({probe.stderr.strip()[-200:]})"
        found = probe.stdout.strip().splitlines()[-1]
        if not found.startswith(f"{self.version}."):
            return f"QGIS {found} where QGIS {self.version} was expected"
        return None


QGIS_VERSIONS = {
    "qgis3.22": QgisInstall("3.22", None, "Debian 12's apt-get install python3-qgis qgis-providers"),
    "qgis3.40": QgisInstall("3.40", QGIS_ROOT, "as root, bash scripts/qgis_root.sh"),
}


def _qgis_env(runtime_dir: Path | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["QT_QPA_PLATFORM"] = "offscreen"
    if runtime_dir is not None:
        env["XDG_RUNTIME_DIR"] = str(runtime_dir)
        env["HOME"] = str(runtime_dir)          # QGIS's profile and settings go here, not into ~
    return env


@pytest.fixture(scope="session", params=list(QGIS_VERSIONS), ids=list(QGIS_VERSIONS))
def qgis(request, tmp_path_factory):
    """``qgis(request) -> answer``: one run of :data:`DRIVER` in each QGIS (both required in CI)."""
    installed = QGIS_VERSIONS[request.param]
    shared = tmp_path_factory.getbasetemp()
    missing = installed.missing(shared)
    if missing:
        if IN_CI:
            pytest.fail(f"QGIS {installed.version} is required in CI ({installed.install}): {missing}",
                        pytrace=False)
        pytest.skip(missing)
    driver = tmp_path_factory.mktemp("qgis_driver") / "driver.py"
    driver.write_text(DRIVER, encoding="utf-8")

    def run(request: dict) -> dict:
        work = tmp_path_factory.mktemp("qgis")
        runtime = work / "runtime"
        runtime.mkdir(mode=0o700)
        (work / "auth").mkdir()
        (work / "request.json").write_text(json.dumps({"auth_dir": str(work / "auth"), **request}), encoding="utf-8")
        done = subprocess.run(installed.command(str(driver), str(work / "request.json"), str(work / "answer.json"),
                                                cwd=work, shared=shared),
                              capture_output=True, text=True, check=False, timeout=300, env=_qgis_env(runtime),
                              cwd=work)
        assert done.returncode == 0, (f"QGIS {installed.version} exited with {done.returncode}:\n"
                                      f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        return json.loads((work / "answer.json").read_text(encoding="utf-8"))

    return run


# --- the demo, served with a recorder of every request ---------------------------------------

@dataclass
class Demo:
    url: str
    patches: int
    closed: int
    villages: int


@pytest.fixture(scope="module", params=["spatialite", pytest.param("postgis", marks=pytest.mark.postgis)])
def demo(request, tmp_path_factory):
    """The demo database on each backend, with a county-wide GIS account ``gis``."""
    from geo_tracker.services.accounts import add_user
    from geo_tracker.services.boundaries import village_units
    from geo_tracker.services.demo import run_demo

    folder = tmp_path_factory.mktemp(f"demo_{request.param}")
    schema = None
    if request.param == "spatialite":
        url = f"sqlite:///{folder / 'demo.sqlite'}"
    else:
        server = request.getfixturevalue("pg_database")
        schema = f"t_{uuid.uuid4().hex[:12]}"
        with sa.create_engine(server).begin() as conn:
            conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
        url = f"{server}?options=-csearch_path%3D{schema},public"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GEO_TRACKER_EVIDENCE_DIR", str(folder / "evidence"))
        result = run_demo(url)
        with open_store(url) as store:
            add_user(store, "gis", PASSWORD, "viewer", ["*"])
            villages = len(village_units(store))
        yield Demo(url, len(result.patches), int((result.patches["status"] == "closed").sum()), villages)
    if schema:
        engine = sa.create_engine(request.getfixturevalue("pg_database"))
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        engine.dispose()


class Recorder:
    """ASGI wrapper: every request's method, path, query, status and Allow header, in order (the server's log)."""

    def __init__(self, app):
        self.app, self.requests = app, []

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        entry = {"method": scope["method"], "path": scope["path"], "query": scope["query_string"].decode("latin-1"),
                 "status": None, "allow": None}
        self.requests.append(entry)

        async def sending(message):
            if message["type"] == "http.response.start":
                entry["status"] = message["status"]
                entry["allow"] = dict(message.get("headers") or []).get(b"allow", b"").decode("latin-1") or None
            await send(message)

        await self.app(scope, receive, sending)

    def items(self, collection: str, since: int = 0) -> list[dict]:
        return [r for r in self.requests[since:] if r["path"] == f"/ogc/collections/{collection}/items"]


@pytest.fixture(scope="module")
def served(demo):
    """(demo, base URL, recorder): the service on the demo database, in this process."""
    import uvicorn
    from live_server import free_port

    from geo_tracker.server.app import create_app

    store = open_store(demo.url)
    recorder = Recorder(create_app(store))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(recorder, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the service did not start"
        time.sleep(0.05)
    assert httpx.get(f"{base}/healthz").status_code == 200
    yield demo, base, recorder
    server.should_exit = True
    thread.join(timeout=30)
    store.close()


def oapif(base: str, collection: str = "patches", authcfg: str = AUTHCFG) -> dict:
    """A layer as a user adds it: the whole collection (no view extent), the Basic entry as authcfg."""
    source = (f"pagingEnabled='true' preferCoordinatesForWfsT11='false' restrictToRequestBBOX='0' "
              f"typename='{collection}' url='{base}/ogc' authcfg='{authcfg}'")
    return {"name": collection, "provider": "OAPIF", "source": source}


def basic(password: str = PASSWORD) -> dict:
    return {"id": AUTHCFG, "username": "gis", "password": password}


# --- QGIS and the OGC layers -----------------------------------------------------------------

def test_qgis_opens_the_ogc_patches_with_a_basic_login(qgis, served):
    demo, base, recorder = served
    before = len(recorder.requests)                   # the service is shared by both QGIS versions
    answer = qgis({"basic": basic(), "layers": [oapif(base)]})
    assert answer["auth_stored"]
    layer = answer["layers"][0]
    assert layer["valid"], answer["messages"]
    assert layer["count"] == layer["fetched"] == demo.patches
    assert layer["types"]["area_mu"] == QVARIANT_DOUBLE
    asked = recorder.items("patches", since=before)
    refused = [r for r in asked if r["method"] == "GET" and r["status"] != 200]
    assert not refused, f"QGIS {answer['version']}'s items pages the service refused: {refused}"
    # QGIS >= 3.32 asks OPTIONS which methods the items take (Part 4): Allow must say, and offer no editing
    probes = [r for r in asked if r["method"] == "OPTIONS"]
    assert all(r["allow"] and "POST" not in r["allow"] for r in probes), f"OPTIONS answered without Allow: {probes}"


def test_qgis_types_cultivated_mu_as_real(qgis, served):
    """耕地 is null where a batch has none (森林督查): the type must not come from the values alone."""
    _demo, base, _recorder = served
    answer = qgis({"basic": basic(), "layers": [oapif(base)]})
    types = answer["layers"][0]["types"]
    if types["cultivated_mu"] != QVARIANT_DOUBLE and answer["version"] < QGIS_WITH_SERVER_FILTERS:
        pytest.xfail(f"QGIS {answer['version']} reads neither /queryables nor /schema: it types each property "
                     "from the first items?limit=10 page, where the demo's forestry patches have no 耕地")
    assert (types["area_mu"], types["cultivated_mu"]) == (QVARIANT_DOUBLE, QVARIANT_DOUBLE)


def test_a_qgis_filter_on_status_is_sent_to_the_server(qgis, served):
    demo, base, recorder = served
    before = len(recorder.requests)
    answer = qgis({"basic": basic(), "layers": [{**oapif(base), "subset": "\"status\" = 'closed'"}]})
    layer = answer["layers"][0]
    assert layer["subset_set"] and layer["subset_statuses"] == ["closed"] * demo.closed
    pages = recorder.items("patches", since=before)
    sent = [parse_qs(r["query"]) for r in pages]
    filtered = [r for r, q in zip(pages, sent)
                if q.get("status") == ["closed"] or "status" in "".join(q.get("filter", []))]
    if not filtered and answer["version"] < QGIS_WITH_SERVER_FILTERS:
        pytest.xfail(f"QGIS {answer['version']} evaluates a subset string itself (only datetime goes to the "
                     f"server); it sent {sent}")
    assert filtered, f"no items request carried the status filter: {sent}"
    assert all(r["status"] == 200 for r in filtered), f"the service refused the filter QGIS sent: {filtered}"


def test_a_wrong_password_gives_an_invalid_layer_not_a_crash(qgis, served):
    _demo, base, recorder = served
    before = len(recorder.requests)
    answer = qgis({"basic": basic("not-the-password"), "layers": [oapif(base)]})   # exit 0, or qgis() fails
    assert answer["layers"][0]["valid"] is False
    assert {r["status"] for r in recorder.requests[before:]} == {401}


def test_qgis_asks_for_the_password_the_project_leaves_out(qgis, served):
    """A project written without --authcfg has no credentials: on the server's 401 QGIS must be able
    to ask (Qt asks only when it can read a Basic challenge in WWW-Authenticate)."""
    _demo, base, _recorder = served
    answer = qgis({"ask": {"url": f"{base}/ogc", "username": "gis", "password": PASSWORD}})
    assert answer["ask"]["asked"], "QGIS was not offered a Basic challenge: " + httpx.get(
        f"{base}/ogc").headers.get("www-authenticate", "no WWW-Authenticate")
    assert answer["ask"]["status"] == 200


# --- the project file ------------------------------------------------------------------------

def write_project(*args, db: str | None = None) -> str:
    result = CliRunner().invoke(cli, [*(["--db", db] if db else []), "qgis-project", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def assert_styled(layers: dict, patches: int, villages: int) -> None:
    assert set(layers) == {"图斑", "行政村"}
    for layer in layers.values():
        assert layer["valid"], layer
        assert layer["read_only"]
    patch_layer, village_layer = layers["图斑"], layers["行政村"]
    assert (patch_layer["count"], patch_layer["fetched"]) == (patches, patches)
    assert (village_layer["count"], village_layer["fetched"]) == (villages, villages)
    assert patch_layer["renderer"] == "categorizedSymbol" and patch_layer["attr"] == "status"
    assert patch_layer["legend"] == [[s.name, s.label, COLORS[s.name]] for s in STATUS_TABLE]
    assert patch_layer["label_field"] == "patch_code"
    assert patch_layer["label_from_scale"] == qgis_project.PATCH_LABEL_SCALE     # codes only when zoomed in
    assert village_layer["renderer"] == "singleSymbol" and village_layer["label_field"] == "name"
    assert village_layer["label_from_scale"] is None


def test_the_project_of_the_database_opens_with_valid_layers(qgis, demo, tmp_path):
    project = tmp_path / "工程" / "图斑.qgs"
    assert "current_patches" in write_project("-o", str(project), db=demo.url)
    answer = qgis({"project": str(project)})["project"]
    assert answer["read"] and answer["title"] == "图斑整改"
    assert (answer["crs"], answer["ellipsoid"]) == ("EPSG:4490", "EPSG:1024")
    assert answer["tree"] == ["图斑", "行政村"]                  # patches drawn above the villages
    xmin, ymin, xmax, ymax = answer["extent"]
    assert 106 < xmin < xmax < 107 and 29 < ymin < ymax < 30    # opens on the demo township
    assert_styled(answer["layers"], demo.patches, demo.villages)
    for layer in answer["layers"].values():
        assert layer["crs"] == "EPSG:4490" and layer["provider"] in ("spatialite", "postgres")


def test_the_project_of_the_service_opens_with_valid_layers(qgis, served, tmp_path):
    demo, base, _recorder = served
    project = tmp_path / "图斑.qgs"
    output = write_project("-o", str(project), "--service", base, "--authcfg", AUTHCFG)
    assert f"url='{base}/ogc'" in output and AUTHCFG in output
    assert PASSWORD not in project.read_text(encoding="utf-8")
    answer = qgis({"basic": basic(), "project": str(project)})["project"]
    assert answer["read"] and answer["crs"] == "EPSG:4490"
    assert_styled(answer["layers"], demo.patches, demo.villages)
    assert {layer["provider"] for layer in answer["layers"].values()} == {"OAPIF"}


# --- the file itself (no QGIS needed) --------------------------------------------------------

def test_the_project_file_lists_the_layers_with_one_category_per_status(db_url, tmp_path):
    with open_store(db_url) as store:
        result = qgis_project.write_qgis_project(tmp_path / "p.qgs", store=store)
    root = ET.parse(result["file"]).getroot()                    # well-formed XML
    layers = {m.findtext("layername"): m for m in root.iter("maplayer")}
    assert set(layers) == {"图斑", "行政村"}
    patches = layers["图斑"]
    assert patches.findtext("datasource").endswith('"current_patches" (geom)')
    assert patches.get("readOnly") == "1"
    categories = [(c.get("value"), c.get("label")) for c in patches.iter("category")]
    assert categories == [(s.name, s.label) for s in STATUS_TABLE]
    fills = [next(o.get("value") for o in s.iter("Option") if o.get("name") == "color")
             for s in patches.find("renderer-v2/symbols")]
    assert fills == [qgis_project.rgba(COLORS[s.name], qgis_project.PATCH_FILL_ALPHA) for s in STATUS_TABLE]
    assert patches.find("labeling/settings/text-style").get("fieldName") == "patch_code"
    villages = layers["行政村"]
    assert "admin_units" in villages.findtext("datasource") and "'village'" in villages.findtext("datasource")
    assert villages.find("labeling/settings/text-style").get("fieldName") == "name"
    assert root.find("ProjectViewSettings") is None            # an empty database: no villages to open on


def test_data_sources_carry_no_password():
    url = sa.engine.make_url("postgresql+psycopg://gt:s3cret@db.county.gov:5433/county"
                             "?options=-csearch_path%3Dchengjiang,public")
    source = qgis_project.postgres_source(url, "current_patches")
    assert source == ("dbname='county' host=db.county.gov port=5433 user='gt' key='id' checkPrimaryKeyUnicity='0' "
                      'srid=4490 type=MultiPolygon table="chengjiang"."current_patches" (geom)')
    assert qgis_project.oapif_source("http://10.0.0.5:8000/ogc", "patches") == (
        "pagingEnabled='true' preferCoordinatesForWfsT11='false' restrictToRequestBBOX='1' typename='patches' "
        "url='http://10.0.0.5:8000/ogc'")
    assert qgis_project.ogc_url("http://10.0.0.5:8000/") == "http://10.0.0.5:8000/ogc"
    assert qgis_project.ogc_url("https://gis.example/gt/ogc/") == "https://gis.example/gt/ogc"


def test_a_spatialite_file_is_referred_to_relative_to_the_project(tmp_path):
    database = tmp_path / "乡镇.sqlite"
    assert qgis_project.relative_to_project(database, tmp_path / "图斑.qgs") == "./乡镇.sqlite"
    assert qgis_project.relative_to_project(database, tmp_path / "qgis" / "图斑.qgs") == "../乡镇.sqlite"


@pytest.mark.parametrize("args, message", [
    (["-o", "图斑.qgz"], "a QGIS project file ends in .qgs"),
    (["-o", "图斑.qgs", "--service", "ftp://host"], "is not a service address"),
    (["-o", "图斑.qgs", "--authcfg", "abc1234"], "--authcfg goes with --service"),
])
def test_command_errors_are_one_line_and_exit_2(args, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["qgis-project", *args])
    assert result.exit_code == 2 and message in result.output
    assert not list(tmp_path.iterdir())
