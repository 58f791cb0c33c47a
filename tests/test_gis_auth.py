"""GIS clients (QGIS, ogr2ogr) send HTTP Basic on every request: after the first success it costs
what a bearer token costs, without ever accepting what it should not (both backends)."""

from __future__ import annotations

import base64

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from geo_tracker.server.app import create_app
from geo_tracker.services import accounts
from geo_tracker.services.accounts import BasicCredentialCache
from geo_tracker.services.logins import FREE_FAILURES_ACCOUNT, LoginGuard
from geo_tracker.store import open_store

PASSWORD = "qgis layer password"
ITEMS = "/ogc/collections/patches/items?limit=100"
WRONG_ZH = "用户名或密码不对，或账户已停用"
WRONG_EN = "wrong user name or password, or the account is disabled"


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def basic(username: str, password: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()}


@pytest.fixture
def gis(db_url, monkeypatch):
    """An app on a database with the viewer ``gis``; its own throttle and Basic cache on one fake clock,
    and Argon2 verifications counted."""
    clock = FakeClock()
    cache = BasicCredentialCache(clock=clock)
    monkeypatch.setattr(accounts, "BASIC_CACHE", cache)
    monkeypatch.setattr(accounts, "GUARD", LoginGuard(clock))
    monkeypatch.setattr("geo_tracker.server.errors.TARPIT_S", 0.0)
    verified = []
    real_verify = PasswordHasher.verify

    def counting_verify(self, hash, password):
        verified.append(password)
        return real_verify(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", counting_verify)
    with open_store(db_url) as store:
        accounts.add_user(store, "gis", PASSWORD, "viewer", ["*"])
        accounts.add_user(store, "other", PASSWORD, "viewer", ["*"])
        yield GIS(store, TestClient(create_app(store)), cache, clock, verified, monkeypatch)


class GIS:
    def __init__(self, store, app, cache, clock, verified, monkeypatch):
        self.store, self.app, self.cache, self.clock, self.verified = store, app, cache, clock, verified
        self._monkeypatch = monkeypatch

    def get(self, path: str = "/api/v1/me", username: str = "gis", password: str = PASSWORD, **headers):
        return self.app.get(path, headers={**basic(username, password), **headers})

    def in_another_process(self, change, *args, **kwargs):
        """Run ``change`` as another server process would: its own (empty) cache, so this one's keeps its entry."""
        with self._monkeypatch.context() as m:
            m.setattr(accounts, "BASIC_CACHE", BasicCredentialCache(clock=self.clock))
            return change(self.store, *args, **kwargs)


def test_a_second_basic_request_checks_no_argon2_hash(gis):
    first = gis.get(ITEMS)
    assert first.status_code == 200 and first.json()["type"] == "FeatureCollection"
    assert len(gis.verified) == 1 and len(gis.cache) == 1
    for path in (ITEMS, "/api/v1/me", ITEMS, "/ogc/collections"):
        assert gis.get(path).status_code == 200
    assert len(gis.verified) == 1                          # answered from the cache, same URL and others
    assert gis.get().json()["username"] == "gis"
    token = accounts.create_token(gis.store, "gis", "qgis")
    assert gis.app.get(ITEMS, headers={"Authorization": f"Bearer {token}"}).status_code == 200
    # A login (page or API) still checks the hash: only Basic, which comes with every request, is remembered.
    assert gis.app.post("/api/v1/login", data={"username": "gis", "password": PASSWORD}).status_code == 200
    assert len(gis.verified) == 2


def test_the_cache_keeps_no_password_and_a_key_of_its_own():
    one, two = BasicCredentialCache(), BasicCredentialCache()
    key = one.key("sqlite:///x.sqlite", "gis", PASSWORD)
    assert key == one.key("sqlite:///x.sqlite", "gis", PASSWORD) and len(key) == 32
    assert key != two.key("sqlite:///x.sqlite", "gis", PASSWORD)          # a random key per process
    assert key != one.key("sqlite:///y.sqlite", "gis", PASSWORD)          # per database
    assert one.key("db", "a:b", "c") != one.key("db", "a", "b:c")         # name and password stay apart
    one.put(key, 7, one.fingerprint("$argon2id$stored"))
    assert PASSWORD.encode() not in key and one.get(key) == (7, one.fingerprint("$argon2id$stored"))


@pytest.mark.parametrize("elsewhere", [False, True], ids=["this process", "another process"])
def test_a_password_change_refuses_the_old_basic_credentials_at_once(gis, elsewhere):
    assert gis.get(ITEMS).status_code == 200
    change = gis.in_another_process if elsewhere else (lambda fn, *a: fn(gis.store, *a))
    change(accounts.change_password, "gis", "a brand new password")
    assert len(gis.cache) == (1 if elsewhere else 0)     # another process's change leaves this entry ...
    refused = gis.get(ITEMS)
    assert refused.status_code == 401 and refused.json()["message"] == WRONG_ZH   # ... and it counts for nothing
    assert len(gis.cache) == 0 and len(gis.verified) == 2
    assert gis.get(ITEMS, password="a brand new password").status_code == 200


@pytest.mark.parametrize("elsewhere", [False, True], ids=["this process", "another process"])
def test_a_disabled_user_is_refused_at_once(gis, elsewhere):
    assert gis.get(ITEMS).status_code == 200
    if elsewhere:
        gis.in_another_process(accounts.disable_user, "gis")
    else:
        accounts.disable_user(gis.store, "gis")
    assert gis.get(ITEMS).status_code == 401
    assert gis.get("/ogc/collections").status_code == 401
    assert len(gis.cache) == 0
    accounts.disable_user(gis.store, "gis", disabled=False)
    assert gis.get(ITEMS).status_code == 200


def test_revoking_everything_forgets_the_remembered_basic_check(gis):
    token = accounts.create_token(gis.store, "gis", "qgis")
    assert gis.get(ITEMS).status_code == 200 and gis.get(ITEMS).status_code == 200
    assert gis.get(ITEMS, username="other").status_code == 200
    assert len(gis.verified) == 2 and len(gis.cache) == 2
    assert accounts.revoke_all(gis.store, "gis") == 1
    assert len(gis.cache) == 1                                         # only the other user's entry is left
    assert gis.app.get(ITEMS, headers={"Authorization": f"Bearer {token}"}).status_code == 401
    # The password itself is still right: the next Basic request checks it again, then it is remembered.
    assert gis.get(ITEMS).status_code == 200 and len(gis.verified) == 3
    assert gis.get(ITEMS).status_code == 200 and len(gis.verified) == 3


@pytest.mark.parametrize("username", ["gis", "nobody"])
def test_a_wrong_basic_login_is_a_401_with_a_message_in_the_request_language(gis, username):
    refused = gis.get(ITEMS, username=username, password="not it")
    assert refused.status_code == 401
    assert refused.json() == {"code": "not_authenticated", "message": WRONG_ZH, "field": None}
    assert "Basic" in refused.headers["www-authenticate"]
    english = gis.get(ITEMS, username=username, password="not it", **{"Accept-Language": "en-GB,en;q=0.9"})
    assert english.status_code == 401 and english.json()["message"] == WRONG_EN
    assert gis.app.get(ITEMS + "&lang=en", headers=basic(username, "not it")).json()["message"] == WRONG_EN


def test_a_wrong_basic_login_is_challenged_as_qgis_expects(gis):
    """Qt (QGIS) takes a header line as a Basic challenge only when the line starts with Basic; the
    charset tells clients to send the name and password as UTF-8 (Chinese user names)."""
    refused = gis.get(ITEMS, password="not it")
    assert any(line.startswith('Basic realm="geo_tracker", charset="UTF-8"')
               for line in refused.headers.get_list("www-authenticate")), refused.headers


def test_repeated_wrong_basic_passwords_still_hit_the_lockout(gis):
    for _ in range(FREE_FAILURES_ACCOUNT):
        assert gis.get(ITEMS, password="guess").status_code == 401
    assert len(gis.verified) == FREE_FAILURES_ACCOUNT and len(gis.cache) == 0
    throttled = gis.get(ITEMS, password="guess")
    assert throttled.status_code == 429 and throttled.json()["code"] == "too_many_attempts"
    assert int(throttled.headers["retry-after"]) >= 1
    assert gis.get(ITEMS).status_code == 429                 # the right password waits too: it is not remembered
    assert len(gis.verified) == FREE_FAILURES_ACCOUNT        # and a refused attempt costs no hash
    assert [n["username"] for n in accounts.locked_accounts(gis.store)] == ["gis"]
    gis.clock.now += 61
    assert gis.get(ITEMS).status_code == 200


def test_a_failure_is_never_remembered(gis):
    for _ in range(3):
        assert gis.get(ITEMS, password="not it").status_code == 401
    assert len(gis.cache) == 0 and len(gis.verified) == 3    # each wrong guess is checked, none answered from memory
    assert gis.get(ITEMS).status_code == 200 and len(gis.cache) == 1
    assert gis.get(ITEMS, password="not it").status_code == 401      # a remembered success lets no other password in
    assert gis.get(ITEMS, password=PASSWORD + " ").status_code == 401
    assert gis.get(ITEMS, username="other", password="not it").status_code == 401
    assert len(gis.cache) == 1 and len(gis.verified) == 4 + 3


def test_remembered_checks_expire(gis):
    assert gis.get(ITEMS).status_code == 200 and len(gis.verified) == 1
    gis.clock.now += accounts.BASIC_TTL_S - 1
    assert gis.get(ITEMS).status_code == 200 and len(gis.verified) == 1
    gis.clock.now += 2
    assert gis.get(ITEMS).status_code == 200 and len(gis.verified) == 2     # checked again after the TTL
    gis.clock.now += accounts.BASIC_TTL_S - 1
    assert gis.get(ITEMS).status_code == 200 and len(gis.verified) == 2     # and remembered from then on


def test_the_cache_is_bounded():
    clock = FakeClock()
    cache = BasicCredentialCache(ttl_s=10, clock=clock, max_entries=3)
    keys = [cache.key("db", f"u{i}", "p") for i in range(5)]
    for i, key in enumerate(keys[:3]):
        cache.put(key, i, b"f")
    clock.now += 11                                          # all three expired: they go first
    cache.put(keys[3], 3, b"f")
    assert len(cache) == 1 and cache.get(keys[0]) is None
    for i, key in enumerate(keys[:3]):
        cache.put(key, i, b"f")
    assert len(cache) == 3 and cache.get(keys[3]) is None and cache.get(keys[2]) == (2, b"f")  # then the oldest
