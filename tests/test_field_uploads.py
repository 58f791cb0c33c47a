"""Resumable photo uploads of the field app: chunks, a break and a resume, the same photo twice,
a wrong hash, a non-image, and who may upload. A photo ends up stored exactly once, or not at all."""

from __future__ import annotations

import hashlib
import io
import re
import string
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from PIL.ExifTags import IFD

import bureau_files as bf
from geo_tracker.catalogue import entries
from geo_tracker.config import ServiceSettings
from geo_tracker.errors import ConflictError, StorageFullError
from geo_tracker.server.app import create_app
from geo_tracker.services import accounts, field_uploads
from geo_tracker.services.boundaries import BoundaryOptions, import_boundaries
from geo_tracker.store import evidence as evidence_repo

PASSWORD = "field-password-1"
UPLOADS = "/api/v1/field/uploads"
OTHER_TOWNSHIP = bf.OTHER_TOWNSHIP_CODE


@pytest.fixture
def office(store, tmp_path):
    """Two townships, an enforcer of each, and a viewer."""
    import_boundaries(store, bf.township_shapefile(tmp_path), BoundaryOptions(level="township"))
    import_boundaries(store, bf.other_township_shapefile(tmp_path), BoundaryOptions(level="township"))
    for name, role, units in (("team", "enforcer", [bf.TOWNSHIP_CODE]), ("other", "enforcer", [OTHER_TOWNSHIP]),
                              ("look", "viewer", ["*"])):
        accounts.add_user(store, name, PASSWORD, role, units)
    store.upload_dir = tmp_path / "uploads"
    store.upload_dir.mkdir()
    return store


def client(store, user: str = "team") -> TestClient:
    token = accounts.create_token(store, user, "field")
    app = create_app(store, ServiceSettings(upload_dir=str(store.upload_dir)))
    return TestClient(app, headers={"Authorization": f"Bearer {token}", "Accept-Language": "en"})


def jpeg() -> bytes:
    """A real photo (noise, so it is not tiny) with EXIF time and GPS."""
    exif = Image.Exif()
    exif[306] = "2023:08:01 09:30:00"
    exif[IFD.GPSInfo] = {1: "N", 2: (29.0, 30.0, 0.0), 3: "E", 4: (106.0, 20.0, 0.0)}
    buffer = io.BytesIO()
    Image.effect_noise((320, 240), 60).convert("RGB").save(buffer, "JPEG", exif=exif, quality=90)
    return buffer.getvalue()


def start(api: TestClient, data: bytes, name: str = "IMG_0001.jpg", sha: str | None = None):
    return api.post(UPLOADS, json={"sha256": sha or hashlib.sha256(data).hexdigest(), "size_bytes": len(data),
                                   "file_name": name, "media_type": "image/jpeg"})


def put(api: TestClient, sha: str, offset: int, chunk: bytes, lang: str = "en"):
    return api.put(f"{UPLOADS}/{sha}", params={"offset": offset}, content=chunk,
                   headers={"Content-Type": "application/octet-stream", "Accept-Language": lang})


def thirds(data: bytes) -> list[tuple[int, bytes]]:
    n = len(data) // 3 + 1
    return [(i, data[i:i + n]) for i in range(0, len(data), n)]


def evidence_rows(store) -> list[tuple[str, str]]:
    with store.engine.connect() as conn:
        return evidence_repo.stored_files(conn)


def evidence_files(store) -> list:
    return [p for p in store.evidence_dir.rglob("*") if p.is_file()] if store.evidence_dir.exists() else []


def partials(store) -> list[str]:
    return sorted(p.name for p in (store.upload_dir / "field_uploads").iterdir())


def test_a_photo_sent_in_three_chunks_is_stored_once_with_its_place(office):
    api, data = client(office), jpeg()
    sha = hashlib.sha256(data).hexdigest()
    paths = api.app.openapi()["paths"]                          # the app as served: the router is registered
    assert "post" in paths[UPLOADS] and {"put", "get"} <= set(paths[f"{UPLOADS}/{{sha256}}"])
    begun = start(api, data)
    assert begun.status_code == 200, begun.text
    assert begun.json() == {"sha256": sha, "size_bytes": len(data), "received_bytes": 0, "complete": False}
    chunks = thirds(data)
    assert len(chunks) == 3
    answers = [put(api, sha, offset, chunk) for offset, chunk in chunks]
    assert [a.status_code for a in answers] == [200, 200, 200], answers[-1].text
    assert [a.json()["received_bytes"] for a in answers] == [chunks[1][0], chunks[2][0], len(data)]
    assert [a.json()["complete"] for a in answers] == [False, False, True]
    with office.engine.connect() as conn:
        row = evidence_repo.row(conn, sha)
    assert row["size_bytes"] == len(data) and row["media_type"] == "image/jpeg" and row["file_name"] == "IMG_0001.jpg"
    assert row["lat"] == pytest.approx(29.5) and row["lon"] == pytest.approx(106 + 1 / 3)
    assert row["taken_at"] == "2023-08-01 09:30:00"
    assert [open(path, "rb").read() for _sha, path in evidence_rows(office)] == [data]
    assert len(evidence_files(office)) == 1 and partials(office) == []
    assert api.get(f"{UPLOADS}/{sha}").json()["complete"] is True


def test_an_interrupted_upload_resumes_from_what_arrived_and_stores_one_photo(office):
    api, data = client(office), jpeg()
    sha = hashlib.sha256(data).hexdigest()
    (o1, c1), (o2, c2), (o3, c3) = thirds(data)
    start(api, data)
    assert put(api, sha, o1, c1).json()["received_bytes"] == o2
    skipped = put(api, sha, o3, c3)                               # chunk 2 was lost on the way
    assert skipped.status_code == 409 and skipped.json()["code"] == "conflict"
    assert skipped.json()["received_bytes"] == o2 and skipped.json()["field"] == "offset"
    assert f"{o2} bytes have arrived" in skipped.json()["message"]
    again = put(api, sha, o1, c1)                                 # chunk 1 retried: its answer was lost
    assert again.status_code == 409 and again.json()["received_bytes"] == o2
    # the phone comes back into signal: it asks, starts again, and goes on from where it stood
    assert api.get(f"{UPLOADS}/{sha}").json() == {"sha256": sha, "size_bytes": len(data),
                                                  "received_bytes": o2, "complete": False}
    assert start(api, data).json()["received_bytes"] == o2
    assert put(api, sha, o2, data[o2:o3]).json()["received_bytes"] == o3
    assert put(api, sha, o3, c3).json()["complete"] is True
    assert put(api, sha, o3, c3).json()["complete"] is True      # the last chunk retried: done, not stored again
    assert start(api, data, name="IMG_0001 (2).jpg").json() == {"sha256": sha, "size_bytes": len(data),
                                                                "received_bytes": len(data), "complete": True}
    assert [s for s, _path in evidence_rows(office)] == [sha]
    assert len(evidence_files(office)) == 1 and partials(office) == []
    assert open(evidence_rows(office)[0][1], "rb").read() == data


def test_a_wrong_hash_is_refused_and_nothing_is_stored(office):
    api, data = client(office), jpeg()
    claimed = hashlib.sha256(b"another photo").hexdigest()
    start(api, data, sha=claimed)
    *first, (last_offset, last) = thirds(data)
    for offset, chunk in first:
        assert put(api, claimed, offset, chunk).status_code == 200
    refused = put(api, claimed, last_offset, last)
    assert refused.status_code == 422 and refused.json()["field"] == "sha256"
    assert "does not match its SHA-256" in refused.json()["message"] and "IMG_0001.jpg" in refused.json()["message"]
    assert evidence_rows(office) == [] and evidence_files(office) == [] and partials(office) == []
    assert api.get(f"{UPLOADS}/{claimed}").status_code == 404        # to be sent again from the start


def test_a_text_file_is_refused_as_no_photo_in_both_languages(office):
    api, text = client(office), "巡查记录：村民建房，已拍照。\n".encode() * 20
    sha = hashlib.sha256(text).hexdigest()
    start(api, text, name="notes.jpg")
    refused = put(api, sha, 0, text)
    assert refused.status_code == 422 and refused.json()["code"] == "upload_type_not_allowed"
    assert "notes.jpg" in refused.json()["message"] and "not JPEG, PNG, PDF or HEIC" in refused.json()["message"]
    start(api, text, name="notes.jpg")
    chinese = put(api, sha, 0, text, lang="zh")
    assert chinese.status_code == 422 and "举证材料notes.jpg的内容不是JPEG" in chinese.json()["message"]
    assert evidence_rows(office) == [] and evidence_files(office) == [] and partials(office) == []


def test_bad_starts_and_chunks_are_refused_naming_the_photo(office):
    api, data = client(office), jpeg()
    sha = hashlib.sha256(data).hexdigest()
    bad_sha = start(api, data, sha="abc123")
    assert bad_sha.status_code == 422 and bad_sha.json()["field"] == "sha256"
    assert "IMG_0001.jpg" in bad_sha.json()["message"] and "64 hexadecimal" in bad_sha.json()["message"]
    for size in (0, 200 * 1024 * 1024 + 1):
        bad = api.post(UPLOADS, json={"sha256": sha, "size_bytes": size, "file_name": "IMG_0001.jpg"})
        assert bad.status_code == 422 and bad.json()["field"] == "size_bytes" and "IMG_0001.jpg" in bad.json()["message"]
    assert put(api, "../../etc/passwd", 0, b"x").status_code == 404          # no such route
    not_hash = put(api, "..passwd", 0, b"x")
    assert not_hash.status_code == 422 and not_hash.json()["field"] == "sha256"
    assert put(api, "0" * 64, 0, data).status_code == 404                  # never started
    start(api, data)
    past = put(api, sha, 0, data + b"more")
    assert past.status_code == 422 and past.json()["field"] == "offset"
    huge = put(api, sha, 0, b"\xff" * (8 * 1024 * 1024 + 1))
    assert huge.status_code == 413 and huge.json()["code"] == "upload_too_large"
    assert api.get(f"{UPLOADS}/{sha}").json()["received_bytes"] == 0 and evidence_rows(office) == []


def test_a_viewer_cannot_upload_and_another_township_cannot_touch_an_upload_in_progress(office):
    data = jpeg()
    sha = hashlib.sha256(data).hexdigest()
    (o1, c1), (o2, c2), (o3, c3) = thirds(data)
    viewer = client(office, "look")
    assert start(viewer, data).status_code == 403 and start(viewer, data).json()["code"] == "forbidden"
    assert put(viewer, sha, 0, c1).status_code == 403 and viewer.get(f"{UPLOADS}/{sha}").status_code == 403
    team, other = client(office, "team"), client(office, "other")
    start(team, data)
    put(team, sha, o1, c1)
    assert put(other, sha, o2, c2).status_code == 404
    assert other.get(f"{UPLOADS}/{sha}").status_code == 404
    taken = start(other, data)
    assert taken.status_code == 409 and "another account" in taken.json()["message"]
    assert team.get(f"{UPLOADS}/{sha}").json()["received_bytes"] == o2        # untouched by the other
    put(team, sha, o2, c2)
    assert put(team, sha, o3, c3).json()["complete"] is True
    assert start(other, data).json()["complete"] is True                    # the same photo: stored already
    assert [s for s, _path in evidence_rows(office)] == [sha] and len(evidence_files(office)) == 1


def fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_the_messages_of_uploads_are_bilingual_with_chinese_punctuation():
    mine = {k: e for k, e in entries().items() if k.startswith("field.")}
    assert len(mine) >= 8
    for key, entry in mine.items():
        for zh, en in [(entry.zh, entry.en), *entry.hints.values()]:
            assert fields(zh) == fields(en), key
            prose = re.sub(r"\{[^}]*\}|`[^`]*`", "", zh)
            assert re.search(r"[\u4e00-\u9fff]", prose) and not re.search(r"[,:;()?]", prose), (key, zh)


def test_a_chunk_retried_while_its_first_try_is_still_running_is_written_once(office, monkeypatch):
    """Phones on a weak signal give up and resend; the tries race, and exactly one of them is written."""
    measured = field_uploads._received

    def slowly(part):            # a slow disk: time between reading where the upload stands and writing
        received = measured(part)
        time.sleep(0.05)
        return received
    monkeypatch.setattr(field_uploads, "_received", slowly)
    data = jpeg() * 40
    sha = hashlib.sha256(data).hexdigest()
    folder = str(office.upload_dir)
    field_uploads.start_upload(office, folder, sha256=sha, size_bytes=len(data), file_name="big.jpg",
                               media_type="image/jpeg", user="team", max_bytes=len(data))

    def send(_):
        try:
            return field_uploads.append_chunk(office, folder, sha, 0, data[:len(data) // 2], user="team")
        except ConflictError as refused:
            return refused.details
    answers = list(ThreadPoolExecutor(8).map(send, range(8)))
    assert [a["received_bytes"] for a in answers] == [len(data) // 2] * 8
    assert sum("complete" in a for a in answers) == 1
    assert (office.upload_dir / "field_uploads" / f"{sha}.part").stat().st_size == len(data) // 2


def test_a_photo_whose_storing_failed_is_stored_by_the_chunk_sent_again(office, monkeypatch):
    """A full disk while storing keeps every byte received: the phone's retry stores the photo."""
    api, data = client(office), jpeg()
    sha = hashlib.sha256(data).hexdigest()
    (o1, c1), (o2, c2), (o3, c3) = thirds(data)

    def full_disk(*_args):
        raise StorageFullError("no space left on the evidence disk")
    monkeypatch.setattr(field_uploads, "store_evidence", full_disk)
    start(api, data, name="一组/../../现场照片（东侧）\x00很长" + "长" * 200 + ".JPG")
    put(api, sha, o1, c1), put(api, sha, o2, c2)
    assert put(api, sha, o3, c3).status_code == 507 and evidence_rows(office) == []
    assert api.get(f"{UPLOADS}/{sha}").json() == {"sha256": sha, "size_bytes": len(data),
                                                  "received_bytes": len(data), "complete": False}
    monkeypatch.undo()
    assert put(api, sha, o3, c3).json()["complete"] is True
    (stored_sha, path), = evidence_rows(office)
    with office.engine.connect() as conn:
        name = evidence_repo.row(conn, sha)["file_name"]
    assert stored_sha == sha and open(path, "rb").read() == data and partials(office) == []
    assert name.startswith("现场照片（东侧）_很长") and name.endswith(".JPG") and len(name) <= 72
