"""A real `geo-tracker serve` process on a free loopback port, for tests that talk HTTP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx

CLI = str(Path(sys.executable).with_name("geo-tracker"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_server(db_url: str, log_path: Path, *, preexec=None, **settings):
    """Start the service on ``db_url``; yields its base URL; stops it with SIGTERM (graceful shutdown).

    ``preexec`` runs in the child before the server starts (e.g. to set a file-size limit)."""
    port = free_port()
    env = {**os.environ, **{f"GEO_TRACKER_{k.upper()}": str(v) for k, v in settings.items()}}
    with open(log_path, "wb") as log:
        process = subprocess.Popen([CLI, "--db", db_url, "serve", "--port", str(port)], stdout=log,
                                   stderr=subprocess.STDOUT, env=env, preexec_fn=preexec)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"the server exited with {process.returncode}: {log_path.read_text()}")
                try:
                    if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the server did not start: {log_path.read_text()}")
                time.sleep(0.1)
            yield base
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def client(base: str, token: str | None = None, **kw) -> httpx.Client:
    """An HTTP client of the service at ``base``, with the bearer ``token`` when given."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=base, headers=headers, timeout=60, **kw)


def form_login(client, username: str, password: str, **form):
    """Log in through the login page as a browser does: the form's token comes from the page."""
    import re

    page = client.get("/login").text
    token = re.search(r'name="login_token" value="([^"]+)"', page).group(1)
    return client.post("/login", data={"username": username, "password": password, "login_token": token, **form},
                       follow_redirects=False)
