"""Outages are answers, not bugs: a database that is gone, a disk that is full.

PostgreSQL is cut off behind a TCP proxy the test controls (the server is not stopped
for everyone else); SpatiaLite meets a full disk through a file-size limit on the
server or CLI process (RLIMIT_FSIZE, SIGXFSZ ignored), which fails writes as a full
disk does.
"""

from __future__ import annotations

import io
import resource
import signal
import socket
import subprocess
import threading
from datetime import date

import httpx
import pytest

from live_server import CLI, form_login, running_server
from geo_tracker.services import accounts
from geo_tracker.services.patches import list_patches
from geo_tracker.services.demo import run_demo
from geo_tracker.store import open_store
from geo_tracker.store.url import parse_url

PASSWORD = "correct horse battery"


class CuttableProxy:
    """127.0.0.1:port → upstream, until cut; resumed on the same port."""

    def __init__(self, upstream: tuple[str, int]):
        self.upstream = upstream
        self.open: list[socket.socket] = []
        self.listener = socket.create_server(("127.0.0.1", 0), reuse_port=False)
        self.port = self.listener.getsockname()[1]
        self._serve()

    def _serve(self):
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            self.open += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source, target):
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        for s in (source, target):
            try:
                s.close()
            except OSError:
                pass

    def cut(self):
        try:
            self.listener.shutdown(socket.SHUT_RDWR)   # wakes the blocked accept()
        except OSError:
            pass
        self.listener.close()
        for s in self.open:
            try:
                s.shutdown(socket.SHUT_RDWR)
                s.close()
            except OSError:
                pass
        self.open = []

    def resume(self):
        self.listener = socket.create_server(("127.0.0.1", self.port))
        self._serve()


@pytest.mark.postgis
def test_postgresql_gone_is_503_on_readyz_pages_and_api_and_recovers(pg_schema_url, tmp_path):
    url, _schema = pg_schema_url
    run_demo(url, output_dir=None, map_path=None)
    with open_store(url) as store:
        accounts.add_user(store, "cadre", PASSWORD, "admin", ["*"])
        token = accounts.create_token(store, "cadre", "tests")
    backend, parsed = parse_url(url)
    proxy = CuttableProxy((parsed.host, parsed.port or 5432))
    proxied = url.replace(f"{parsed.host}:{parsed.port or 5432}", f"127.0.0.1:{proxy.port}")
    with running_server(proxied, tmp_path / "server.log") as base:
        browser = httpx.Client(base_url=base, headers={"Accept": "text/html"}, timeout=30)
        assert form_login(browser, "cadre", PASSWORD).status_code == 303
        api = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30)
        assert httpx.get(f"{base}/readyz").status_code == 200 and browser.get("/dashboard").status_code == 200

        proxy.cut()
        ready = httpx.get(f"{base}/readyz", timeout=30)
        assert ready.status_code == 503 and ready.json()["code"] == "database_unavailable"
        page = browser.get("/dashboard")
        assert page.status_code == 503 and "数据库暂时无法连接" in page.text and "this is a bug" not in page.text
        answer = api.get("/api/v1/stats")
        assert answer.status_code == 503 and answer.json()["code"] == "database_unavailable"

        proxy.resume()
        assert httpx.get(f"{base}/readyz", timeout=30).status_code == 200
        assert browser.get("/dashboard").status_code == 200 and api.get("/api/v1/stats").status_code == 200
        assert "internal error" not in (tmp_path / "server.log").read_text()


def _file_size_limit(limit: int):
    def apply():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def _jpeg(size: int) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.effect_noise((512, 512), 100).convert("RGB").save(out, "JPEG", quality=95)
    data = out.getvalue()
    return data + b"\0" * max(0, size - len(data))


def test_a_full_disk_is_507_with_nothing_half_written(tmp_path):
    db = tmp_path / "office.sqlite"
    run_demo(str(db), output_dir=None, map_path=None)
    with open_store(str(db)) as store:
        accounts.add_user(store, "cadre", PASSWORD, "admin", ["*"])
        token = accounts.create_token(store, "cadre", "tests")
        frame = list_patches(store)
        open_ = frame[frame["status"].isin(["illegal", "case_filed", "rectifying"])
                      & (frame["area_mu"] - frame["rectified_mu"] > 0.1)].iloc[0]
        code = f"{open_['batch']}/{open_['patch_code']}"
    evidence = db.with_name("office_evidence")
    before = sorted(p.name for p in evidence.rglob("*")) if evidence.exists() else []
    limit = 40_960      # no file may grow past 40 KB: room for the WAL index, none for a photo or the 64 KB probe
    with running_server(str(db), tmp_path / "server.log", preexec=_file_size_limit(limit)) as base:
        ready = httpx.get(f"{base}/readyz", timeout=30)
        assert ready.status_code == 507 and ready.json()["code"] == "storage_full"
        api = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30)
        shown = api.get(f"/api/v1/patches/{code}").json()
        sent = api.post(f"/api/v1/patches/{code}/rectify", data={"on": date.today().isoformat(),
                                                                "measure": "demolition", "area_mu": "0.01"},
                        files={"evidence": ("现场.jpg", _jpeg(limit + 100_000), "image/jpeg")},
                        headers={"Accept-Language": "en"})
        assert sent.status_code == 507 and sent.json()["code"] == "storage_full", sent.text
        assert "disk is full" in sent.json()["message"]
        assert api.get(f"/api/v1/patches/{code}").json()["rectified_mu"] == shown["rectified_mu"]
    after = sorted(p.name for p in evidence.rglob("*")) if evidence.exists() else []
    assert after == before and not [p for p in tmp_path.rglob("*.part")]
    assert "internal error" not in (tmp_path / "server.log").read_text()

    cli = subprocess.run([CLI, "--db", str(db), "patches", "rectify", code, "--on", date.today().isoformat(),
                          "--measure", "demolition", "--area-mu", "0.01"], capture_output=True, text=True,
                         preexec_fn=_file_size_limit(4096))
    assert cli.returncode == 2, cli.stderr
    assert "full" in cli.stderr and "Nothing was written" in cli.stderr and "bug" not in cli.stderr
