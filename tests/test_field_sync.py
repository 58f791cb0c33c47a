"""The field kit's server side: work packages (and what changed since one), and syncing the
actions a phone recorded offline: in order, once, with conflicts shown instead of overwritten."""

from __future__ import annotations

import io
import math
from datetime import date

import pytest
import shapely
from fastapi.testclient import TestClient
from PIL import Image

import bureau_files as bf
from geo_tracker.io.evidence import store_evidence
from geo_tracker.server.app import create_app
from geo_tracker.services import accounts, review, tracking
from geo_tracker.services.batches import ImportOptions, import_batch
from geo_tracker.services.boundaries import BoundaryOptions, import_boundaries
from geo_tracker.services.patches import list_patches
from geo_tracker.services.stats import compute_stats
from geo_tracker.store import evidence as evidence_repo

PASSWORD = "field-password-1"


@pytest.fixture
def office(store, tmp_path):
    import_boundaries(store, bf.villages_shapefile(tmp_path), BoundaryOptions(level="village"))
    import_batch(store, bf.weipian_geojson(tmp_path), ImportOptions(source="natural-resources", batch="B",
                                                                     issued_on=date(2023, 6, 30)))
    for name, role in (("team", "enforcer"), ("other", "enforcer"), ("look", "viewer")):
        accounts.add_user(store, name, PASSWORD, role, ["*"])
    return store


def client(store, user: str = "team") -> TestClient:
    token = accounts.create_token(store, user, "field")
    return TestClient(create_app(store), headers={"Authorization": f"Bearer {token}"})


def patch_of(package: dict, code: str) -> dict:
    return next(p for p in package["patches"] if p["patch_code"] == code)


def photo(store, tmp_path, name: str) -> str:
    """A JPEG already uploaded (as the resumable upload leaves it): its SHA-256."""
    path = tmp_path / name
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (90, 120, 60)).save(buffer, "JPEG")
    path.write_bytes(buffer.getvalue() + name.encode())
    stored = store_evidence(path, store.evidence_dir)
    with store.transaction() as conn:
        evidence_repo.record(conn, stored.__dict__)
    return stored.sha256


def east_of(geom, metres: float) -> tuple[float, float]:
    """A point ``metres`` east of the patch's eastern edge, at its middle latitude."""
    west, south, east, north = geom.bounds
    lat = (south + north) / 2
    return east + metres / (111_320 * math.cos(math.radians(lat))), lat


def action(package: dict, code: str, kind: str, key: str, **values) -> dict:
    p = patch_of(package, code)
    return {"key": key, "kind": kind, "ref": p["ref"], "patch_id": p["id"], "row_version": p["row_version"],
            "on": "2023-08-01", "captured_at": "2023-08-01T09:30:00+08:00", **values}


def test_a_package_holds_the_open_patches_their_history_and_the_villages(office):
    tracking.verify_patch(office, "5001090001", "illegal", date(2023, 7, 5), note="村民建房")
    answer = client(office).get("/api/v1/field/package")
    assert answer.status_code == 200
    package = answer.json()
    assert int(answer.headers["X-Package-Bytes"]) == len(answer.content)    # the JSON, as the phone keeps it
    assert answer.headers["content-encoding"] == "gzip"                      # and smaller on the way there
    assert int(answer.headers["content-length"]) < len(answer.content) / 2
    plain = client(office).get("/api/v1/field/package", headers={"Accept-Encoding": "identity"})
    same = {k: v for k, v in plain.json().items() if k != "made_at"}
    assert "content-encoding" not in plain.headers and same == {k: v for k, v in package.items() if k != "made_at"}
    assert sorted(p["patch_code"] for p in package["patches"]) == sorted(list_patches(office)["patch_code"])
    first = patch_of(package, "5001090001")
    assert first["status"] == "illegal" and first["row_version"] >= 2 and first["ref"] == "B/5001090001"
    assert [(h["kind"], h["on"], h["note"]) for h in first["history"]] == [("verified", "2023-07-05", "村民建房")]
    assert shapely.from_geojson(first["geometry"]).area > 0
    assert {v["code"] for v in package["villages"]} >= {p["village_code"] for p in package["patches"] if p["village_code"]}
    assert package["labels"]["status"]["illegal"] == "违法"
    only = client(office).get("/api/v1/field/package", params={"status": ["illegal"]}).json()
    assert [p["patch_code"] for p in only["patches"]] == ["5001090001"]
    village = first["village_code"]
    own = client(office).get("/api/v1/field/package", params={"village": [village]}).json()
    assert own["patches"] and {p["village_code"] for p in own["patches"]} == {village}


def test_choices_name_the_villages_and_batches_and_the_size_before_download(office):
    team = client(office)
    everything = team.get("/api/v1/field/package")
    choices = team.get("/api/v1/field/choices").json()
    assert choices["package"] == {"patches": len(everything.json()["patches"]), "bytes": len(everything.content)}
    assert sum(v["patches"] for v in choices["villages"]) == len(list_patches(office).dropna(subset=["village_code"]))
    assert [(b["batch"], b["source"]) for b in choices["batches"]] == [("B", "natural-resources")]
    assert choices["statuses"]["issued"] == "下发" and "closed" not in choices["statuses"]
    village = choices["villages"][0]
    one = team.get("/api/v1/field/choices", params={"village": [village["code"]]}).json()
    cut = team.get("/api/v1/field/package", params={"village": [village["code"]]})
    assert one["package"] == {"patches": village["patches"], "bytes": len(cut.content)}
    assert one["package"]["bytes"] < choices["package"]["bytes"]
    assert everything.json()["review_sources"] == []
    review.set_policy(office, "natural-resources", "county", user="admin")
    assert team.get("/api/v1/field/package").json()["review_sources"] == ["natural-resources"]
    assert client(office, "look").get("/api/v1/field/choices").status_code == 403


def test_a_refresh_brings_only_what_changed_and_names_what_left(office):
    team = client(office)
    first = team.get("/api/v1/field/package").json()
    tracking.verify_patch(office, "5001090002", "legal", date(2023, 7, 5))
    tracking.verify_patch(office, "5001090003", "no_change", date(2023, 7, 5))
    tracking.close_patch(office, "5001090003", date(2023, 7, 20))
    again = team.get("/api/v1/field/package", params={"since": first["version"]}).json()
    assert [p["patch_code"] for p in again["patches"]] == ["5001090002"]
    assert again["removed"] == [patch_of(first, "5001090003")["lineage_id"]] and again["villages"] == []
    quiet = team.get("/api/v1/field/package", params={"since": again["version"]}).json()
    assert quiet["patches"] == [] and quiet["removed"] == []
    village = patch_of(first, "5001090001")["village_code"]
    mine = team.get("/api/v1/field/package", params={"village": [village], "since": quiet["version"]}).json()
    elsewhere = next(p for p in first["patches"] if p["village_code"] not in (village, None))
    tracking.verify_patch(office, elsewhere["ref"], "illegal", date(2023, 7, 5))
    tracking.close_patch(office, "5001090002", date(2023, 7, 21))
    later = team.get("/api/v1/field/package", params={"village": [village], "since": mine["version"]}).json()
    assert later["patches"] == []
    named = [patch_of(first, "5001090002")["lineage_id"]]
    assert later["removed"] == (named if patch_of(first, "5001090002")["village_code"] == village else [])
    bad = team.get("/api/v1/field/package", params={"since": "yesterday"})
    assert bad.status_code == 422 and bad.json()["field"] == "since"


def test_offline_actions_are_applied_in_order_once_with_their_day_and_photos(office, tmp_path):
    team = client(office)
    package = team.get("/api/v1/field/package").json()
    target = patch_of(package, "5001090004")
    geom = shapely.from_geojson(target["geometry"])
    near, far = east_of(geom, 50), east_of(geom, 150)
    close_photo, far_photo = photo(office, tmp_path, "a.jpg"), photo(office, tmp_path, "b.jpg")
    before = compute_stats(office)["total"]["rectified_mu"]
    outbox = [
        action(package, "5001090004", "verify", "k-verify-0001", result="illegal", note="现场核实"),
        {**action(package, "5001090004", "rectify", "k-rectify-0002", measure="demolition", area_mu=0.3,
                  photos=[{"sha256": close_photo, "lon": near[0], "lat": near[1], "accuracy_m": 8, "heading": 90,
                           "taken_at": "2023-08-01T09:31:00+08:00"},
                          {"sha256": far_photo, "lon": far[0], "lat": far[1], "accuracy_m": 12}]),
         "row_version": target["row_version"] + 1, "on": "2023-08-02"},
    ]
    answers = team.post("/api/v1/field/sync", json={"actions": outbox}).json()["results"]
    assert [a["outcome"] for a in answers] == ["done", "done"], answers
    history = tracking.patch_history(office, "B/5001090004")
    assert [(h["kind"], h["occurred_on"], h["actor"]) for h in history] == [
        ("verified", date(2023, 8, 1), "team"), ("rectified", date(2023, 8, 2), "team")]
    cited = history[1]["payload"]["evidence"]
    assert [c["sha256"] for c in cited] == [close_photo, far_photo]
    assert cited[0]["distance_to_patch_m"] == pytest.approx(50, abs=1) and cited[0]["far"] is False
    assert cited[1]["distance_to_patch_m"] == pytest.approx(150, abs=1) and cited[1]["far"] is True
    assert cited[0]["heading"] == 90 and cited[0]["taken_at"] == "2023-08-01T09:31:00+08:00"
    assert compute_stats(office)["total"]["rectified_mu"] == pytest.approx(before + 0.3)
    replay = team.post("/api/v1/field/sync", json={"actions": outbox}).json()["results"]
    assert [(a["outcome"], a.get("again")) for a in replay] == [("done", True), ("done", True)]
    assert [a["event_id"] for a in replay] == [a["event_id"] for a in answers]
    assert len(tracking.patch_history(office, "B/5001090004")) == 2


def test_a_patch_changed_on_the_server_is_a_conflict_not_an_overwrite(office):
    team, other = client(office), client(office, "other")
    tracking.verify_patch(office, "5001090005", "illegal", date(2023, 7, 5))
    package = team.get("/api/v1/field/package").json()
    other_says = other.post("/api/v1/field/sync", json={"actions": [
        action(package, "5001090005", "rectify", "k-other-0001", measure="demolition", area_mu=0.2)]}).json()
    assert other_says["results"][0]["outcome"] == "done"
    mine = action(package, "5001090005", "rectify", "k-mine-00001", measure="demolition", area_mu=0.25)
    [conflict] = team.post("/api/v1/field/sync", json={"actions": [mine]}).json()["results"]
    assert conflict["outcome"] == "conflict" and conflict["mine"]["area_mu"] == 0.25
    assert conflict["theirs"]["rectified_mu"] == pytest.approx(0.2)
    assert conflict["theirs"]["row_version"] == patch_of(package, "5001090005")["row_version"] + 1
    assert [h["kind"] for h in tracking.patch_history(office, "B/5001090005")] == ["verified", "rectified"]
    again = {**mine, "key": "k-mine-00002", "row_version": conflict["theirs"]["row_version"]}
    [done] = team.post("/api/v1/field/sync", json={"actions": [again]}).json()["results"]
    assert done["outcome"] == "done" and done["rectified_mu"] == pytest.approx(0.45)
    assert list_patches(office, codes=["5001090005"]).iloc[0]["rectified_mu"] == pytest.approx(0.45)


def test_refused_actions_say_why_and_leave_nothing(office, tmp_path):
    team = client(office)
    package = team.get("/api/v1/field/package").json()
    area = patch_of(package, "5001090006")["area_mu"]
    answers = team.post("/api/v1/field/sync", json={"actions": [
        action(package, "5001090006", "rectify", "k-early-0001", measure="demolition", area_mu=area + 1),
        action(package, "5001090006", "verify", "k-photo-0001", result="illegal",
               photos=[{"sha256": "0" * 64, "lon": 106.43, "lat": 29.83}]),
        action(package, "5001090006", "dance", "k-kind-00001"),
        {"key": "short", "kind": "verify"},
    ]}).json()["results"]
    assert [a["outcome"] for a in answers] == ["refused"] * 4
    assert "尚未上传" in answers[1]["message"] and "dance" in answers[2]["message"]
    assert tracking.patch_history(office, "B/5001090006") == []
    viewer = client(office, "look")
    assert viewer.get("/api/v1/field/package").status_code == 403
    assert viewer.post("/api/v1/field/sync", json={"actions": []}).status_code == 403
