"""Errors of tracking, accounts and the service read Chinese on a page, with no command-line hints,
while ``str(error)`` keeps the English the CLI and scripts have always matched."""

from __future__ import annotations

import re
from datetime import date

import pytest
from fastapi.testclient import TestClient

import bureau_files as bf
from geo_tracker.catalogue import entries
from geo_tracker.config import ServiceSettings
from geo_tracker.errors import (
    GeoTrackerError, NotFoundError, PermissionDeniedError, TransitionError, UploadTypeError,
)
from geo_tracker.server.app import create_app
from geo_tracker.server.uploads import evidence_type
from geo_tracker.services import accounts, tracking
from geo_tracker.services.accounts import Principal
from geo_tracker.services.batches import ImportOptions, import_batch
from geo_tracker.services.patches import show_patch

CODE = "5001090001"


@pytest.fixture
def issued(store, tmp_path):
    import_batch(store, bf.weipian_geojson(tmp_path), ImportOptions(source="natural-resources", batch="B",
                                                                     issued_on=date(2023, 6, 30)))
    return store


def assert_page_text(error: GeoTrackerError, *chinese: str, values: tuple[str, ...] = ("B/",)) -> str:
    """The error as a page shows it: the Chinese words given, no command or option, and no Latin
    letters but the ``values`` it names (codes, user names)."""
    text = error.text("zh", "web")
    assert all(word in text for word in chinese), text
    assert "geo-tracker" not in text and "--" not in text and "`" not in text, text
    rest = text
    for value in values:
        rest = rest.replace(value, "")
    assert not any("a" <= c.lower() <= "z" for c in rest), text
    return text


def test_a_refused_transition_reads_chinese_on_a_page_and_names_the_command_on_the_cli(issued):
    with pytest.raises(TransitionError) as refused:
        tracking.close_patch(issued, CODE, date(2023, 7, 1))
    assert_page_text(refused.value, "不能对图斑B/5001090001销号", "“下发”", "下一步可以核查")
    assert str(refused.value).startswith("cannot close patch B/5001090001: it is issued (下发); next you can verify it")
    assert "patches verify --result legal|no_change|illegal" in str(refused.value)
    assert "geo-tracker patches verify" in refused.value.text("zh", "cli")


def test_a_refused_role_names_the_roles_in_chinese():
    viewer = Principal(id=1, username="kan", role="viewer", units=("*",))
    with pytest.raises(PermissionDeniedError) as refused:
        viewer.require("track")
    text = assert_page_text(refused.value, "查看者", "执法队员", "管理员", "请联系管理员", values=("kan",))
    assert "viewer" not in text and "enforcer" not in text
    assert str(refused.value) == "user kan (viewer) may not track: that needs the role admin, enforcer: ask an admin"


def test_a_missing_patch_points_to_the_list_not_to_a_command(issued):
    with pytest.raises(NotFoundError) as missing:
        show_patch(issued, "nope")
    assert_page_text(missing.value, "没有现行图斑“nope”", "图斑列表", values=("nope",))
    assert str(missing.value) == "no current patch 'nope': `geo-tracker patches list` shows the patches"
    with pytest.raises(NotFoundError) as outside:
        accounts.patch_in_scope(issued, Principal(id=1, username="kan", role="viewer", units=("*",)), "nope")
    assert "图斑列表" in outside.value.text("zh", "web")


def test_evidence_of_the_wrong_type_is_refused_in_chinese(tmp_path):
    fake = tmp_path / "photo.jpg"
    fake.write_bytes(b"MZ\x90\x00 not a photo")
    with pytest.raises(UploadTypeError) as refused:
        evidence_type(fake)
    text = refused.value.text("zh", "web")
    assert "举证材料photo.jpg" in text and "JPEG" in text and "请上传照片或扫描件本身" in text
    assert str(refused.value) == ("evidence file photo.jpg: its content is not JPEG, PNG, PDF or HEIC "
                                  "(the name's suffix does not count): send the photo or scan itself")


def test_every_message_of_this_area_renders_in_both_languages_and_pages_get_no_cli_flags():
    """A template naming a value the raise does not pass, or a CLI hint under "web", fails here."""
    areas = ("lifecycle", "tracking", "patch", "export", "cases", "accounts", "complaints", "patrols",
             "service", "upload", "ogc", "tiles", "common")
    mine = {k: e for k, e in entries().items() if k.split(".")[0] in areas}
    assert len(mine) > 100
    for key, entry in mine.items():
        for hint in entry.hints.get("web", ()):
            assert "geo-tracker" not in hint and "--" not in hint, key
        if not key.startswith("cli."):
            prose = re.sub(r"\{[^}]*\}", "", entry.zh)
            assert not any(c in prose for c in "();"), (key, entry.zh)      # full-width （）；in Chinese


def test_an_api_error_is_chinese_by_default_and_english_when_asked(store):
    accounts.add_user(store, "kan", "secret-password", "viewer", ["*"])
    token = accounts.create_token(store, "kan", "tests")
    client = TestClient(create_app(store), headers={"Authorization": f"Bearer {token}"})
    chinese = client.get("/api/v1/patches/nope")
    english = client.get("/api/v1/patches/nope", headers={"Accept-Language": "en"})
    assert chinese.status_code == english.status_code == 404
    assert chinese.json()["code"] == english.json()["code"] == "not_found"
    assert chinese.json()["message"].startswith("没有") and "nope" in chinese.json()["message"]
    assert "geo-tracker" not in chinese.json()["message"]
    assert english.json()["message"].startswith("no ") and "'nope'" in english.json()["message"]
    assert client.get("/api/v1/patches/nope", params={"lang": "en"}).json()["message"] == english.json()["message"]
    refused = client.post(f"/api/v1/patches/{CODE}/verify", json={"result": "illegal", "on": "2023-07-06"})
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    assert "查看者" in refused.json()["message"] and "执法队员" in refused.json()["message"]


def test_the_upload_limit_answers_in_the_requests_language(store):
    accounts.add_user(store, "lian", "secret-password", "liaison", ["*"])
    token = accounts.create_token(store, "lian", "tests")
    client = TestClient(create_app(store, ServiceSettings(max_upload_mb=0.01)),
                        headers={"Authorization": f"Bearer {token}"})
    form = {"source": "forestry", "batch": "F", "issued_on": "2023-01-01"}
    big = {"file": ("big.zip", b"0" * 50_000)}
    chinese = client.post("/api/v1/batches", data=form, files=big)
    english = client.post("/api/v1/batches?lang=en", data=form, files=big)
    assert chinese.status_code == english.status_code == 413
    assert chinese.json()["code"] == english.json()["code"] == "upload_too_large"
    assert chinese.json()["message"].startswith("上传的文件超过了")
    assert english.json()["message"].startswith("the upload is larger than the limit of")
