"""执行完毕: a case's decision executed before (or without) 结案; 办结 = executed or closed.

On SpatiaLite and PostGIS: the service's rules, the report's case figures as of a date,
the case page's button, the API endpoint, the CLI command and the migration 0007 -> 0008.
"""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from fastapi.testclient import TestClient

from geo_tracker.cli import cli
from geo_tracker.errors import ConflictError, InvalidValueError
from geo_tracker.reports import phrases
from geo_tracker.services import accounts, cases
from geo_tracker.services.database import init_database
from geo_tracker.services.report import case_register
from geo_tracker.store import migrate, open_store
from live_server import form_login

PASSWORD = "correct horse battery"
A, B = "澄江镇综执罚〔2023〕1号", "澄江镇综执罚〔2023〕2号"


def _two_decided_cases(store) -> None:
    for case_no in (A, B):
        cases.open_case(store, case_no, date(2023, 7, 10), violation=None)
        cases.decide_case(store, case_no, date(2023, 8, 1), fine_yuan=1000.0)


def _status(store, case_no: str, as_of: date | None = None) -> str:
    return next(c["status"] for c in cases.list_cases(store, as_of) if c["case_no"] == case_no)


def test_execution_needs_a_decision_on_or_before_it_once_and_before_closing(store):
    cases.open_case(store, A, date(2023, 7, 10))
    with pytest.raises(ConflictError) as caught:
        cases.execute_case(store, A, date(2023, 8, 1))
    assert caught.value.text("zh", "web") == f"案件{A}尚未作出处罚决定，不能记录执行完毕：请先在本页填写处罚决定"
    assert "geo-tracker cases decide" in caught.value.text("zh", "cli")
    assert str(caught.value).startswith(f"case {A} has no penalty decision yet")
    cases.decide_case(store, A, date(2023, 8, 1), fine_yuan=500.0)
    with pytest.raises(InvalidValueError) as early:
        cases.execute_case(store, A, date(2023, 7, 31))
    assert "执行完毕日期（2023-07-31）不能早于处罚决定日期（2023-08-01）" in early.value.text("zh", "web")
    assert early.value.field == "on"
    assert cases.execute_case(store, A, date(2023, 8, 1), note="罚款已缴清", user="小李") == {
        "case_no": A, "executed_on": date(2023, 8, 1)}
    with pytest.raises(ConflictError, match="already executed on 2023-08-01"):
        cases.execute_case(store, A, date(2023, 8, 2))
    with pytest.raises(InvalidValueError, match="cannot follow the decision's execution"):
        cases.decide_case(store, A, date(2023, 8, 5))          # a decision after its own execution
    with store.engine.connect() as conn:
        event = conn.execute(sa.text("SELECT kind, occurred_on, actor FROM events WHERE kind = 'case_executed'")).one()
    assert (event.kind, str(event.occurred_on), event.actor) == ("case_executed", "2023-08-01", "小李")

    cases.open_case(store, B, date(2023, 7, 10))
    cases.decide_case(store, B, date(2023, 8, 1))
    cases.close_case(store, B, date(2023, 9, 1))               # closing without execution stays allowed
    with pytest.raises(ConflictError) as closed:
        cases.execute_case(store, B, date(2023, 9, 2))
    assert "已于2023-09-01结案，不能再记录执行完毕" in closed.value.text("zh", "web")


def test_an_executed_case_is_banjie_from_its_execution_day_and_closing_it_later_works(store):
    _two_decided_cases(store)
    cases.execute_case(store, A, date(2023, 9, 10))
    before = case_register(store, date(2023, 9, 9), 2023)
    assert (before["cases"], before["cases_closed"], before["cases_decided"]) == (2, 0, 2)
    on_the_day = case_register(store, date(2023, 9, 10), 2023)
    assert (on_the_day["cases"], on_the_day["cases_closed"], on_the_day["cases_decided"]) == (2, 1, 1)
    assert on_the_day["fines_yuan"] == 2000
    sentence = phrases.cases_sentence(on_the_day)
    assert sentence.startswith("共立案行政处罚案件2宗，已办结1宗（指处罚决定已执行完毕或已结案），"
                               "已作出处罚决定尚未办结1宗")
    assert (_status(store, A, date(2023, 9, 9)), _status(store, A, date(2023, 9, 10))) == ("decided", "executed")
    shown = cases.show_case(store, A)
    assert shown["status"] == "executed" and shown["executed_on"] == date(2023, 9, 10)
    assert next(c for c in cases.list_cases(store, date(2023, 9, 9)) if c["case_no"] == A)["executed_on"] is None

    with pytest.raises(InvalidValueError, match=r"closing \(2023-09-01\) cannot precede"):
        cases.close_case(store, A, date(2023, 9, 1))
    cases.close_case(store, A, date(2023, 10, 1))
    cases.close_case(store, B, date(2023, 10, 1))
    assert [_status(store, n, date(2023, 9, 30)) for n in (A, B)] == ["executed", "decided"]
    assert [_status(store, n) for n in (A, B)] == ["closed", "closed"]
    late = case_register(store, date(2023, 12, 31), 2023)
    assert (late["cases_closed"], late["cases_decided"]) == (2, 0)        # executed and closed: counted once


def test_the_cli_records_the_execution(db_url, store):
    _two_decided_cases(store)
    result = CliRunner().invoke(cli, ["--db", db_url, "cases", "execute", A, "--on", "2023-09-10",
                                      "--note", "已拆除"], catch_exceptions=False)
    assert result.exit_code == 0 and result.output.strip() == f"case {A} executed 2023-09-10"
    refused = CliRunner().invoke(cli, ["--db", db_url, "cases", "execute", A, "--on", "2023-09-11"])
    assert refused.exit_code == 2 and "already executed" in refused.output
    assert _status(store, A) == "executed"


def _page_client(store, username: str, role: str):
    from geo_tracker.server.app import create_app

    accounts.add_user(store, username, PASSWORD, role, ["*"])
    client = TestClient(create_app(store), headers={"Accept": "text/html"})
    assert form_login(client, username, PASSWORD, next="/cases").status_code == 303
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/cases").text).group(1)
    return client, csrf


def test_the_case_page_button_records_the_execution(store):
    _two_decided_cases(store)
    cases.open_case(store, "澄江镇综执罚〔2023〕3号", date(2023, 7, 10))
    client, csrf = _page_client(store, "zhang", "enforcer")
    page = client.get(f"/cases/{quote(A)}").text
    assert f'action="/cases/{quote(A)}/execution"' in page and "执行完毕" in page
    undecided = client.get(f"/cases/{quote('澄江镇综执罚〔2023〕3号')}").text
    assert "/execution" not in undecided                      # no button before a decision

    forged = client.post(f"/cases/{quote(A)}/execution", data={"on": "2023-09-10"})
    assert forged.status_code == 403 and "CSRF" in forged.text
    refused = client.post(f"/cases/{quote('澄江镇综执罚〔2023〕3号')}/execution",
                          data={"csrf_token": csrf, "on": "2023-09-10"})
    assert refused.status_code == 409 and "尚未作出处罚决定，不能记录执行完毕" in refused.text
    done = client.post(f"/cases/{quote(A)}/execution", data={"csrf_token": csrf, "on": "2023-09-10"},
                       follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].startswith(f"/cases/{quote(A)}?")
    page = client.get(done.headers["location"]).text
    assert "已执行" in page and "2023-09-10" in page and "/execution" not in page
    listed = client.get("/cases").text
    assert listed.count("已执行") == 1 and listed.count("已决定") == 1 and "办理中" in listed

    viewer, viewer_csrf = _page_client(store, "li", "viewer")
    assert "/execution" not in viewer.get(f"/cases/{quote(B)}").text
    assert viewer.post(f"/cases/{quote(B)}/execution",
                       data={"csrf_token": viewer_csrf, "on": "2023-09-10"}).status_code == 403
    assert _status(store, B) == "decided"


def test_the_api_endpoint_records_the_execution(store):
    from geo_tracker.server.app import create_app

    _two_decided_cases(store)
    accounts.add_user(store, "zhang", PASSWORD, "enforcer", ["*"])
    accounts.add_user(store, "gis", PASSWORD, "viewer", ["*"])
    enforcer = TestClient(create_app(store), headers={
        "Authorization": f"Bearer {accounts.create_token(store, 'zhang', 'tests')}"})
    viewer = TestClient(create_app(store), headers={
        "Authorization": f"Bearer {accounts.create_token(store, 'gis', 'tests')}"})
    assert viewer.post(f"/api/v1/cases/{A}/execution", json={"on": "2023-09-10"}).status_code == 403
    assert TestClient(create_app(store)).post(f"/api/v1/cases/{A}/execution",
                                              json={"on": "2023-09-10"}).status_code == 401
    early = enforcer.post(f"/api/v1/cases/{A}/execution", json={"on": "2023-07-01"})
    assert early.status_code == 422 and "不能早于处罚决定日期" in early.json()["message"]
    done = enforcer.post(f"/api/v1/cases/{A}/execution", json={"on": "2023-09-10", "note": "罚款已缴清"})
    assert done.status_code == 200 and done.json() == {"case_no": A, "executed_on": "2023-09-10"}
    again = enforcer.post(f"/api/v1/cases/{A}/execution", json={"on": "2023-09-11"})
    assert again.status_code == 409
    assert enforcer.get(f"/api/v1/cases/{A}").json()["status"] == "executed"
    listed = enforcer.get("/api/v1/cases", params={"as_of": "2023-09-09"}).json()
    assert [c["status"] for c in listed] == ["decided", "decided"]
    assert enforcer.post(f"/api/v1/cases/{A}/close", json={"on": "2023-10-01"}).status_code == 200
    assert enforcer.get(f"/api/v1/cases/{A}").json()["status"] == "closed"


def test_migrating_from_0007_keeps_the_cases_and_adds_executed_on(empty_db_url):
    with open_store(empty_db_url, create=True, check_schema=False) as store:
        with store.transaction() as conn:
            store.prepare(conn)
            migrate.upgrade(conn, "0007")
        with store.transaction() as conn:
            conn.execute(sa.text("INSERT INTO cases (case_no, opened_on, decided_on, decided_fine_yuan, closed_on) "
                                 "VALUES (:a, '2023-07-10', '2023-08-01', 800, NULL), "
                                 "(:b, '2023-07-10', '2023-08-01', 200, '2023-12-20')"), {"a": A, "b": B})
    upgraded = CliRunner().invoke(cli, ["--db", empty_db_url, "init"], catch_exceptions=False)
    assert upgraded.exit_code == 0 and f"schema 0007 -> {migrate.head_revision()}" in upgraded.output
    assert "0008" in migrate.known_revisions() and migrate.head_revision() >= "0008"
    with open_store(empty_db_url) as store:
        columns = {c["name"] for c in sa.inspect(store.engine).get_columns("cases")}
        assert "executed_on" in columns
        assert [(c["case_no"], c["status"], c["executed_on"]) for c in cases.list_cases(store)] == [
            (A, "decided", None), (B, "closed", None)]
        cases.execute_case(store, A, date(2023, 9, 10))
        assert case_register(store, date(2023, 12, 31), 2023)["cases_closed"] == 2
    assert init_database(empty_db_url).changed is False


def test_downgrading_0008_keeps_the_cases(db_url, store):
    from alembic import command

    _two_decided_cases(store)
    cases.execute_case(store, A, date(2023, 9, 10))
    with store.transaction() as conn:
        command.downgrade(migrate._config(conn), "0007")
    with store.engine.connect() as conn:
        assert migrate.current_revision(conn) == "0007"
        assert "executed_on" not in {c["name"] for c in sa.inspect(conn).get_columns("cases")}
        assert conn.execute(sa.text("SELECT count(*) FROM cases")).scalar_one() == 2
