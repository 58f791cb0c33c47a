"""Every page and error a viewer, an enforcer and a liaison can reach reads Chinese.

The pages are fetched as each role would (a session from the login form), their visible
text taken out (no scripts, styles or attribute values but placeholders and titles), and
any English word of four or more letters not on a short list of codes and names fails.
"""

from __future__ import annotations

import re
from datetime import date
from html.parser import HTMLParser
from urllib.parse import quote

import pytest

from live_server import form_login
from geo_tracker.services import accounts, cases, tracking
from geo_tracker.services.demo import run_demo
from geo_tracker.services.patches import list_patches
from geo_tracker.store import open_store

PASSWORD = "correct horse battery"
ROLES = {"kan": "viewer", "zhifa": "enforcer", "lianluo": "liaison", "shenhe": "reviewer"}
NAMES = {"viewer": "查看员小李", "enforcer": "执法队员小张", "liaison": "联络员小王", "reviewer": "审核员小赵"}
#: The demo's submission awaiting the county, and its returned patch (the review pages, the banner).
PENDING, RETURNED = "2023年卫片执法第2批/500109202302002", "2023年卫片执法第2批/500109202302004"
#: Words a Chinese page may show in Latin letters: formats, units, product and language names.
ALLOWED = {"geojson", "geopackage", "shapefile", "xlsx", "docx", "html", "english", "qgis", "leaflet", "gdal",
           "json", "kml", "ogc", "api", "csv", "gpkg", "utf-8", "cgcs2000", "epsg", "openstreetmap", "word", "excel",
           *ROLES}
WORD = re.compile(r"[A-Za-z][A-Za-z'-]{3,}")


class VisibleText(HTMLParser):
    """The text a reader sees: data outside script/style, and placeholders, titles, alt texts."""

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "template"):
            self._hidden += 1
        self.parts += [v for k, v in attrs if k in ("placeholder", "title", "alt", "aria-label") and v]

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden:
            self.parts.append(data)


def english_words(html: str) -> list[str]:
    parser = VisibleText()
    parser.feed(html)
    words = WORD.findall(" ".join(parser.parts))
    return sorted({w for w in words if w.lower() not in ALLOWED and not w.isupper()})


@pytest.fixture
def township(db_url):
    """The demo township's year, a closed patch, and one account of each role."""
    run_demo(db_url)
    with open_store(db_url) as store:
        for username, role in ROLES.items():
            accounts.add_user(store, username, PASSWORD, role, ["*"], display_name=NAMES[role])
        frame = list_patches(store)
        first = frame.iloc[0]
        ref = f"{first['batch']}/{first['patch_code']}"
        if first["status"] == "issued":
            tracking.verify_patch(store, ref, "legal", date(2023, 8, 1))
            tracking.close_patch(store, ref, date(2023, 8, 2))
        case_no = (cases.list_cases(store) or [{"case_no": None}])[0]["case_no"]
        yield store, ref, first["batch"], case_no


def client_for(store, username: str):
    from fastapi.testclient import TestClient

    from geo_tracker.server.app import create_app

    client = TestClient(create_app(store), headers={"Accept": "text/html"})
    assert form_login(client, username, PASSWORD).status_code == 303
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/account").text).group(1)
    return client, csrf


def pages_of(ref: str, batch: str, case_no: str | None) -> list[str]:
    reachable = ["/dashboard", "/dashboard?year=2023", "/map", "/patches", "/patches?status=illegal",
                 f"/patches/{quote(ref)}", "/cases", "/reports", "/account", "/import",
                 f"/batches/{quote(batch, safe='')}", "/patches/没有这个图斑", "/no-such-page",
                 "/review", f"/review/{quote(PENDING)}", f"/review/{quote(ref)}", "/returned",
                 f"/patches/{quote(PENDING)}", f"/patches/{quote(RETURNED)}", "/field"]
    return reachable + ([f"/cases/{quote(case_no)}"] if case_no else [])


@pytest.mark.parametrize("username", sorted(ROLES))
def test_every_page_a_role_reaches_reads_chinese(township, username):
    store, ref, batch, case_no = township
    client, csrf = client_for(store, username)
    found = {}
    for path in pages_of(ref, batch, case_no):
        response = client.get(path)
        assert response.headers["content-type"].startswith("text/html"), path
        words = english_words(response.text)
        if words:
            found[f"GET {path} ({response.status_code})"] = words
    refused = client.post(f"/patches/{quote(ref)}/close", data={"csrf_token": csrf, "on": "2023-09-01"})
    found.update({f"POST close ({refused.status_code})": w for w in [english_words(refused.text)] if w})
    empty = client.post("/import", data={"csrf_token": csrf, "source": "natural-resources", "batch": "X",
                                         "issued_on": "2023-01-01"})
    found.update({f"POST /import ({empty.status_code})": w for w in [english_words(empty.text)] if w})
    unreasoned = client.post(f"/review/{quote(PENDING)}", data={"csrf_token": csrf, "decision": "return",
                                                                "on": date.today().isoformat()})
    found.update({f"POST return ({unreasoned.status_code})": w for w in [english_words(unreasoned.text)] if w})
    assert found == {}, "\n".join(f"{k}: {v}" for k, v in found.items())


def test_the_checker_sees_english_where_there_is_some():
    html = ("<main><h1>图斑列表</h1><p>no current patch, try again</p><script>var hidden = 1</script>"
            "<input placeholder='search here'> GeoJSON JCBH</main>")
    assert english_words(html) == ["again", "current", "here", "patch", "search"]
