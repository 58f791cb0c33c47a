"""The county's review before 销号: submit, return with reasons, resubmit, approve, close.

Both backends, on the demo township (澄江镇 of 北碚区): the policy, the steps through the
CLI and the API, close refused under review, two levels, the state as of a day between a
return and the approval, the figures the statistics SQL gives against the fold, the roles
(a county reviewer, another county's reviewer, a township enforcer) and the migration.
"""

from __future__ import annotations

from datetime import date

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from geo_tracker.cli import cli
from geo_tracker.errors import ConflictError, InvalidValueError, PermissionDeniedError, TransitionError
from geo_tracker.server.app import create_app
from geo_tracker.services import accounts, review, tracking
from geo_tracker.services.boundaries import BoundaryOptions, import_boundaries
from geo_tracker.services.demo import run_demo
from geo_tracker.services.patches import list_patches
from geo_tracker.services.stats import compute_stats
from geo_tracker.store import open_store

PASSWORD = "review-tests-Pa55"
NR = "2023年卫片执法第2批"


def _another_county(store, folder) -> None:
    """合川区 (500117), north of 北碚区: where the other county's reviewer works."""
    import geopandas as gpd
    import shapely

    path = folder / "合川区.geojson"
    gpd.GeoDataFrame({"code": ["500117"], "name": ["合川区"]}, geometry=[shapely.box(106.0, 30.0, 106.3, 30.3)],
                     crs=4490).to_file(path, driver="GeoJSON")
    import_boundaries(store, path, BoundaryOptions(level="county", code_field="code", name_field="name"))


@pytest.fixture
def township(db_url, tmp_path):
    """The demo's year with a county review for 卫片执法, a county reviewer, another county's, an enforcer."""
    run_demo(db_url)
    with open_store(db_url) as store:
        _another_county(store, tmp_path)
        review.set_policy(store, "natural-resources", "county")
        accounts.add_user(store, "county1", PASSWORD, "reviewer", ["500109"])
        accounts.add_user(store, "county2", PASSWORD, "reviewer", ["500117"])
        accounts.add_user(store, "town1", PASSWORD, "enforcer", ["500109107"])
        tokens = {u: accounts.create_token(store, u, "tests") for u in ("county1", "county2", "town1")}
        frame = list_patches(store, batch=NR)
        in_review = review.review_frame(store, [int(x) for x in frame["lineage_id"]])
        rectified = [f"{NR}/{p.patch_code}" for p in frame.itertuples()      # never submitted in the demo's year
                     if p.status == "rectified" and int(p.lineage_id) not in in_review]
        yield store, tokens, rectified


def run(*args: str):
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def _status(store, ref: str, as_of: date | None = None) -> str:
    batch, code = ref.split("/")
    frame = list_patches(store, batch=batch, codes=[code], as_of=as_of)
    return frame.iloc[0]["status"]


def test_without_a_policy_the_township_closes_and_records_the_approval_reference(township, db_url):
    store, _tokens, rectified = township
    review.set_policy(store, "natural-resources", "none")
    code, text = run("--db", db_url, "patches", "close", rectified[0], "--on", "2024-01-10",
                     "--approval-ref", "北碚自然资销〔2024〕3号")
    assert code == 0, text
    history = tracking.patch_history(store, rectified[0])
    assert history[-1]["kind"] == "closed" and history[-1]["payload"]["approval_ref"] == "北碚自然资销〔2024〕3号"
    with pytest.raises(ConflictError, match="no review"):
        review.submit_patch(store, rectified[1], date(2024, 1, 10))


def test_submit_return_resubmit_approve_through_the_cli(township, db_url):
    store, _tokens, rectified = township
    ref = rectified[0]
    code, text = run("--db", db_url, "patches", "close", ref, "--on", "2024-01-10")
    assert code == 2 and "patches submit" in text, text
    assert run("--db", db_url, "--lang", "zh", "patches", "submit", ref, "--on", "2024-01-05", "--user", "town1")[0] == 0
    assert _status(store, ref) == "submitted"
    code, text = run("--db", db_url, "patches", "review", ref, "--return", "--on", "2024-01-08", "--user", "county1")
    assert code == 2 and "needs a reason" in text
    code, text = run("--db", db_url, "patches", "review", ref, "--return", "--reason-code", "未完全拆除",
                     "--reason", "东侧棚房未拆", "--on", "2024-01-08", "--user", "county1")
    assert code == 0, text
    assert _status(store, ref) == "rectified"
    code, text = run("--db", db_url, "--lang", "zh", "review", "returned")
    assert code == 0 and "未完全拆除" in text and "东侧棚房未拆" in text and ref in text
    code, text = run("--db", db_url, "patches", "review", ref, "--approve", "--on", "2024-01-09", "--user", "town1")
    assert code == 2 and "reviewer" in text                       # a township account cannot review
    assert run("--db", db_url, "patches", "submit", ref, "--on", "2024-01-12")[0] == 0
    code, text = run("--db", db_url, "review", "queue", "--json")
    import json

    assert code == 0 and next(r for r in json.loads(text) if r["ref"] == ref)["round"] == 2
    assert run("--db", db_url, "patches", "review", ref, "--approve", "--on", "2024-01-15", "--user", "county1")[0] == 0
    assert _status(store, ref) == "closed"
    # as of a day between the return and the resubmission: back with the township, returned once
    assert _status(store, ref, date(2024, 1, 10)) == "rectified"
    assert _status(store, ref, date(2024, 1, 13)) == "submitted"
    states = review.review_frame(store, [int(list_patches(store, codes=[ref.split('/')[1]]).iloc[0].lineage_id)],
                                 date(2024, 1, 10))
    (state,) = states.values()
    assert state.returned and state.round == 1 and state.reason_codes == ("未完全拆除",)
    history = [e["kind"] for e in tracking.patch_history(store, ref)]
    assert history[-4:] == ["submitted", "review_returned", "submitted", "review_approved"]


def test_two_levels_hand_the_patch_on_and_only_the_last_closes_it(township):
    store, _tokens, rectified = township
    review.set_policy(store, "natural-resources", "county,city", review_days=15)
    ref = rectified[0]
    review.submit_patch(store, ref, date(2024, 1, 5))
    assert ref in [r["ref"] for r in review.queue(store, level="county")]
    review.review_patch(store, ref, "approve", date(2024, 1, 8))
    assert _status(store, ref) == "submitted"
    assert ref not in [r["ref"] for r in review.queue(store, level="county")]
    (waiting,) = review.queue(store, level="city", today=date(2024, 1, 30))
    assert waiting["submitted_on"] == date(2024, 1, 8) and waiting["due_on"] == date(2024, 1, 23)
    assert waiting["overdue"] and waiting["days_waiting"] == 22
    review.review_patch(store, ref, "return", date(2024, 1, 20), reason="照片与图斑位置不符",
                        reason_codes=["照片位置不符"])
    assert _status(store, ref) == "rectified"
    review.submit_patch(store, ref, date(2024, 1, 25))
    assert next(r for r in review.queue(store) if r["ref"] == ref)["level"] == "county"   # back to the first level
    review.review_patch(store, ref, "approve", date(2024, 1, 26))
    review.review_patch(store, ref, "approve", date(2024, 1, 27))
    assert _status(store, ref) == "closed"


def test_refusals_say_what_to_do(township):
    store, _tokens, rectified = township
    open_one = next(p for p in list_patches(store, batch=NR).itertuples() if p.status == "case_filed")
    with pytest.raises(TransitionError):
        review.submit_patch(store, f"{NR}/{open_one.patch_code}", date(2024, 1, 5))
    with pytest.raises(TransitionError):
        review.review_patch(store, rectified[0], "approve", date(2024, 1, 5))       # nothing submitted
    review.submit_patch(store, rectified[0], date(2024, 1, 5))
    with pytest.raises(InvalidValueError, match="not in"):
        review.review_patch(store, rectified[0], "return", date(2024, 1, 6), reason_codes=["看不清"])
    with pytest.raises(TransitionError, match="rectified"):        # on a day before it was submitted
        review.review_patch(store, rectified[0], "approve", date(2024, 1, 4))
    with pytest.raises(InvalidValueError):
        review.set_policy(store, "natural-resources", "county,town")
    with pytest.raises(PermissionDeniedError):
        accounts.check_account_may(store, "county1", "track")


def test_the_statistics_sql_agrees_with_the_fold_through_every_review_step(township):
    store, _tokens, rectified = township
    days = [date(2024, 1, d) for d in (4, 6, 9, 13, 16)]
    review.submit_patch(store, rectified[0], date(2024, 1, 5))
    review.submit_patch(store, rectified[1], date(2024, 1, 5))
    review.review_patch(store, rectified[0], "return", date(2024, 1, 8), reason="照片不清晰")
    review.review_patch(store, rectified[1], "approve", date(2024, 1, 8))
    review.submit_patch(store, rectified[0], date(2024, 1, 12))
    review.review_patch(store, rectified[0], "approve", date(2024, 1, 15))
    for day in days:
        folded = list_patches(store, as_of=day)
        figures = compute_stats(store, as_of=day, by=["status"])
        by_status = {g["key"]["status"]: g["patches"] for g in figures["groups"]}
        assert by_status == folded["status"].value_counts().to_dict(), day
        assert figures["total"]["closed"] == int((folded["status"] == "closed").sum())


def test_the_api_takes_the_same_steps_with_the_roles_and_scopes(township):
    store, tokens, rectified = township
    ref = rectified[0]

    def client(user):
        return TestClient(create_app(store), headers={"Authorization": f"Bearer {tokens[user]}"})

    town, county, other = client("town1"), client("county1"), client("county2")
    refused = town.post(f"/api/v1/patches/{ref}/close", json={"on": "2024-01-10"})
    assert refused.status_code == 409 and "submit" in refused.json()["message"]
    submitted = town.post(f"/api/v1/patches/{ref}/submit", data={"on": "2024-01-05", "note": "已全部拆除"})
    assert submitted.status_code == 200 and submitted.json()["status"] == "submitted"
    assert county.post(f"/api/v1/patches/{ref}/submit", data={"on": "2024-01-05"}).status_code == 403
    assert town.post(f"/api/v1/patches/{ref}/review", json={"decision": "approve", "on": "2024-01-06"}).status_code == 403
    assert other.post(f"/api/v1/patches/{ref}/review", json={"decision": "approve", "on": "2024-01-06"}).status_code == 404
    assert other.get("/api/v1/review/queue").json() == []
    assert ref in [r["ref"] for r in county.get("/api/v1/review/queue").json()]
    no_reason = county.post(f"/api/v1/patches/{ref}/review", json={"decision": "return", "on": "2024-01-06"})
    assert no_reason.status_code == 422 and no_reason.json()["field"] == "reason"
    back = county.post(f"/api/v1/patches/{ref}/review", json={"decision": "return", "on": "2024-01-06",
                                                              "reason_codes": ["缺少审批文件"]})
    assert back.status_code == 200 and back.json()["status"] == "rectified"
    assert next(r for r in town.get("/api/v1/review/returned").json() if r["ref"] == ref)["reason_codes"] == [
        "缺少审批文件"]
    assert town.post(f"/api/v1/patches/{ref}/submit", data={"on": "2024-01-07"}).status_code == 200
    done = county.post(f"/api/v1/patches/{ref}/review", json={"decision": "approve", "on": "2024-01-09"})
    assert done.status_code == 200 and done.json()["status"] == "closed"
    assert county.get("/api/v1/review/policies").json()[0] == {"source": "natural-resources", "levels": ["county"],
                                                              "review_days": 10}
    assert town.put("/api/v1/review/policies/forestry", json={"levels": "county"}).status_code == 403


def test_the_figures_count_submissions_returns_approvals_and_the_days_reviews_took(township, db_url):
    store, _tokens, rectified = township
    a, b, c = rectified[:3]
    names = ("review_submitted", "review_rounds", "review_returned", "review_returns", "review_approved",
             "review_pending", "reviews", "review_days")
    before = {k: compute_stats(store, as_of=date(2024, 1, 31))["total"][k] for k in names}
    review.submit_patch(store, a, date(2024, 1, 5))
    review.review_patch(store, a, "return", date(2024, 1, 8), reason_codes=["未完全拆除"])       # 3 days
    review.submit_patch(store, a, date(2024, 1, 12))
    review.review_patch(store, a, "approve", date(2024, 1, 22))                                # 10 days
    review.submit_patch(store, b, date(2024, 1, 6))
    review.review_patch(store, b, "approve", date(2024, 1, 8))                                 # 2 days
    review.submit_patch(store, c, date(2024, 1, 20))                                           # waiting
    code, text = run("--db", db_url, "stats", "--as-of", "2024-01-31", "--format", "json", "--by", "village")
    assert code == 0
    import json

    total = json.loads(text)["total"]
    added = {k: total[k] - before[k] for k in names}
    assert added == {"review_submitted": 3, "review_rounds": 4, "review_returned": 1, "review_returns": 1,
                     "review_approved": 2, "review_pending": 1, "reviews": 3, "review_days": 15}
    assert total["review_approval_rate"] == pytest.approx(total["review_approved"] / total["review_submitted"])
    assert total["review_mean_days"] == pytest.approx(total["review_days"] / total["reviews"])
    assert total["printed"]["review_mean_days"] == f"{total['review_mean_days']:.1f}"
    early = compute_stats(store, as_of=date(2024, 1, 9))["total"]
    assert early["review_submitted"] - before["review_submitted"] == 2
    assert (early["review_returned"] - before["review_returned"], early["review_approved"] - before["review_approved"],
            early["reviews"] - before["reviews"]) == (1, 1, 2)


def test_a_mistaken_approval_is_voided_like_any_step(township, db_url):
    store, _tokens, rectified = township
    ref = rectified[0]
    review.submit_patch(store, ref, date(2024, 1, 5))
    approved = review.review_patch(store, ref, "approve", date(2024, 1, 8))
    assert _status(store, ref) == "closed"
    code, text = run("--db", db_url, "patches", "void", str(approved["event_id"]), "--reason", "审错了图斑")
    assert code == 0, text
    assert _status(store, ref) == "submitted"
    assert ref in [r["ref"] for r in review.queue(store)]
    # known as of the day after the approval, before the void was recorded: closed then
    from datetime import datetime, timezone

    recorded = next(e for e in tracking.patch_history(store, ref) if e["id"] == approved["event_id"])["recorded_at"]
    frame = list_patches(store, codes=[ref.split("/")[1]], as_of=date(2024, 1, 9), known_at=recorded)
    assert frame.iloc[0]["status"] == "closed"
    assert list_patches(store, codes=[ref.split("/")[1]], as_of=date(2024, 1, 9),
                        known_at=datetime.now(timezone.utc)).iloc[0]["status"] == "submitted"


def test_the_report_says_how_many_were_submitted_approved_and_returned_and_why(township, db_url, tmp_path):
    store, _tokens, rectified = township                       # the demo's own year, then four more steps
    review.submit_patch(store, rectified[0], date(2023, 12, 26))
    review.review_patch(store, rectified[0], "return", date(2023, 12, 28), reason_codes=["未完全拆除"])
    review.submit_patch(store, rectified[1], date(2023, 12, 26))
    review.review_patch(store, rectified[1], "approve", date(2023, 12, 29))
    path = tmp_path / "报告.md"
    code, text = run("--db", db_url, "report", "--year", "2023", "--date", "2024-01-10", "-o", str(path))
    assert code == 0, text
    words = path.read_text(encoding="utf-8")
    # the demo: 10 submitted, 8 approved, 2 returned (未完全拆除 once, 照片不清晰 once), 1 waiting; now 12, 9, 3, 1
    assert "申请销号图斑12个，县级审核通过9个，退回3个（主要原因：未完全拆除、照片不清晰），待审核1个。" in words


def test_a_county_reviewer_answers_the_county_level_only_and_a_second_click_is_a_conflict(township):
    store, tokens, rectified = township
    review.set_policy(store, "natural-resources", "county,city")
    ref = rectified[0]
    county = TestClient(create_app(store), headers={"Authorization": f"Bearer {tokens['county1']}"})
    town = TestClient(create_app(store), headers={"Authorization": f"Bearer {tokens['town1']}"})
    assert town.post(f"/api/v1/patches/{ref}/submit", data={"on": "2024-01-05"}).status_code == 200
    version = county.get(f"/api/v1/patches/{ref}").json()["row_version"]
    answer = {"decision": "approve", "on": "2024-01-06", "expected_version": version}
    assert county.post(f"/api/v1/patches/{ref}/review", json=answer).status_code == 200
    again = county.post(f"/api/v1/patches/{ref}/review", json=answer)              # the same click twice
    assert again.status_code == 409
    city_level = county.post(f"/api/v1/patches/{ref}/review", json={"decision": "approve", "on": "2024-01-07"})
    assert city_level.status_code == 403 and "市级" in city_level.json()["message"]
    assert _status(store, ref) == "submitted"
    # the township cannot void the county's answer; the reviewer can
    approval = next(e for e in tracking.patch_history(store, ref) if e["kind"] == "review_approved")
    assert town.post(f"/api/v1/events/{approval['id']}/void", json={"reason": "不同意"}).status_code == 403
    assert county.post(f"/api/v1/events/{approval['id']}/void", json={"reason": "审错了"}).status_code == 200
    assert next(r for r in review.queue(store) if r["ref"] == ref)["level"] == "county"
