"""Logging in and out, sessions, operators: the gateway's own endpoints, in-process."""
import pytest
from argon2 import PasswordHasher
from sqlalchemy import text

from common.testing import FAST_HASHER, assert_error, wait_for
from gateway.domain import operators


@pytest.fixture
def gw(apps, clean, engine):
    """The gateway's test client, with one picker and one admin on the floor."""
    with engine.begin() as conn:
        for badge, roles in (("EDB_PH001", ["picker"]), ("EDB_AD001", ["admin"])):
            conn.execute(text("INSERT INTO gateway.operators (badge, name, roles, lang, pin_hash) "
                              "VALUES (:b, '张伟', :r, 'zh-CN', :h)"), {"b": badge, "r": roles,
                                                                        "h": FAST_HASHER.hash("1234")})
    return apps["gateway"].test_client()


def login(gw, badge="EDB_PH001", pin="1234"):
    answer = gw.post("/api/auth/login", json={"badge": badge, "pin": pin, "device": "HH-07"})
    assert answer.status_code == 200, answer.get_json()
    return {"Authorization": "Bearer " + answer.get_json()["token"]}


def test_login_returns_token_and_operator(gw):
    """The right badge and PIN give a token and who the operator is."""
    body = gw.post("/api/auth/login", json={"badge": "EDB_PH001", "pin": "1234", "device": "HH-07"}).get_json()
    assert body["operator"] == {"badge": "EDB_PH001", "name": "张伟", "roles": ["picker"], "lang": "zh-CN",
                                "active": True}
    assert len(body["token"]) >= 40


def test_login_rehashes_a_weak_pin_hash(gw, engine):
    """A PIN stored with weaker parameters is re-hashed with the current ones at login."""
    login(gw)
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT pin_hash FROM gateway.operators WHERE badge='EDB_PH001'")).scalar()
    assert stored.startswith("$argon2id$") and "$m=19456,t=2,p=1$" in stored


def test_login_rehashes_a_hash_made_with_other_parameters(gw, engine):
    """A PIN hashed with argon2's library defaults (64 MiB, 4 lanes) moves to the current parameters at login."""
    with engine.begin() as conn:
        conn.execute(text("UPDATE gateway.operators SET pin_hash = :h WHERE badge = 'EDB_PH001'"),
                     {"h": PasswordHasher().hash("1234")})
    login(gw)
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT pin_hash FROM gateway.operators WHERE badge='EDB_PH001'")).scalar()
    assert "$m=19456,t=2,p=1$" in stored
    login(gw)  # and the new hash checks the same PIN


@pytest.mark.parametrize("body", [{"badge": "EDB_PH001", "pin": "9999"}, {"badge": "NOBODY", "pin": "1234"}])
def test_login_bad_credentials_401(gw, body):
    """A wrong PIN and an unknown badge answer the same 401."""
    assert_error(gw.post("/api/auth/login", json=body), 401, "bad_credentials")


def test_login_device_throttle(gw, apps):
    """One device failing many badges is throttled too."""
    limit = apps["gateway"].config["SETTINGS"].device_max_failures
    for n in range(limit):
        gw.post("/api/auth/login", json={"badge": f"GUESS{n}", "pin": "0000", "device": "HH-99"})
    answer = gw.post("/api/auth/login", json={"badge": "EDB_PH001", "pin": "1234", "device": "HH-99"})
    assert_error(answer, 429, "too_many_attempts")


def test_me_without_token_401(gw):
    """No token: 401."""
    assert_error(gw.get("/api/auth/me"), 401, "unauthorized")
    assert_error(gw.get("/api/auth/me", headers={"Authorization": "Bearer nope"}), 401, "session_expired")


def test_logout_revokes_the_token(gw):
    """After logout the same token is refused."""
    headers = login(gw)
    assert gw.get("/api/auth/me", headers=headers).get_json()["badge"] == "EDB_PH001"
    assert gw.post("/api/auth/logout", headers=headers).status_code == 200
    assert_error(gw.get("/api/auth/me", headers=headers), 401, "session_expired")


def test_session_expires(gw, apps, redis_conn):
    """A token whose session has expired in Redis is refused."""
    headers = login(gw)
    for key in redis_conn.scan_iter("wms:session:*"):
        redis_conn.delete(key)
    # A session expires a whole TTL after its last use, and a process holds one for at most half
    # that (session_auth.hold_seconds): by then no process holds it.
    apps["gateway"].extensions["session_cache"].forget_all()
    assert_error(gw.get("/api/auth/me", headers=headers), 401, "session_expired")


def test_set_language_is_stored_and_follows_the_session(gw, engine):
    """Switching to English is kept for the operator and applies to the open session."""
    headers = login(gw)
    assert gw.patch("/api/auth/me", json={"lang": "en"}, headers=headers).get_json()["lang"] == "en"
    assert gw.get("/api/auth/me", headers=headers).get_json()["lang"] == "en"
    assert_error(gw.patch("/api/auth/me", json={"lang": "fr"}, headers=headers), 422, "invalid_input")


def test_create_operator_admin_only(gw, engine):
    """Only an admin adds operators; the PIN is stored hashed."""
    body = {"badge": "EDB_YH002", "name": "李娜", "roles": ["verifier"], "pin": "2468", "lang": "en"}
    assert_error(gw.post("/api/auth/operators", json=body, headers=login(gw)), 403, "forbidden")
    admin = login(gw, "EDB_AD001")
    assert gw.post("/api/auth/operators", json=body, headers=admin).status_code == 201
    assert_error(gw.post("/api/auth/operators", json=body, headers=admin), 409, "operator_exists")
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT pin_hash FROM gateway.operators WHERE badge='EDB_YH002'")).scalar()
    assert "2468" not in stored and stored.startswith("$argon2id$")
    assert gw.post("/api/auth/login", json={"badge": "EDB_YH002", "pin": "2468"}).status_code == 200


@pytest.mark.parametrize("change", [{"roles": ["boss"]}, {"pin": "12"}, {"pin": "abcd"}, {"name": ""}])
def test_create_operator_bad_input_422(gw, change):
    """Unknown roles, short or non-digit PINs and blank names are refused."""
    body = {"badge": "EDB_YH003", "name": "李娜", "roles": ["verifier"], "pin": "2468"} | change
    assert_error(gw.post("/api/auth/operators", json=body, headers=login(gw, "EDB_AD001")), 422, "invalid_input")


def test_deactivate_operator_ends_sessions(gw):
    """A deactivated operator is logged out everywhere and cannot log in again."""
    picker = login(gw)
    admin = login(gw, "EDB_AD001")
    assert gw.patch("/api/auth/operators/EDB_PH001", json={"active": False}, headers=admin).status_code == 200
    assert_error(gw.get("/api/auth/me", headers=picker), 401, "session_expired")
    assert_error(gw.post("/api/auth/login", json={"badge": "EDB_PH001", "pin": "1234"}), 401, "bad_credentials")


def test_internal_endpoints_hidden_from_clients(gw):
    """/api/<service>/internal/... is not reachable through the gateway."""
    assert_error(gw.post("/api/stock/internal/shipments", json={}, headers=login(gw, "EDB_AD001")), 404, "not_found")


def test_bootstrap_admin_created_once(apps, clean, engine):
    """With no admin, the bootstrap badge becomes one; with an admin, nothing is added."""
    from common.db import standalone

    maker = apps["gateway"].extensions["db_sessionmaker"]
    with standalone(maker) as s:
        assert operators.ensure_bootstrap_admin(s, "EDB_BOOT", "8642")
    with standalone(maker) as s:
        assert not operators.ensure_bootstrap_admin(s, "EDB_BOOT2", "8642")
        admin = operators.authenticate(s, "EDB_BOOT", "8642")
    assert "admin" in admin.roles and "picker" in admin.roles


def test_security_headers_on_pages_and_api(gw):
    """Pages and API answers carry the security headers; API answers are never cached."""
    page = gw.get("/")
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert "unsafe-eval'" not in page.headers["Content-Security-Policy"].replace("wasm-unsafe-eval'", "")
    api = gw.post("/api/auth/login", json={"badge": "x", "pin": "y"})
    assert api.headers["Cache-Control"] == "no-store"
    assert api.headers["X-Frame-Options"] == "DENY"


def test_the_process_that_logged_in_holds_the_session(gw, apps):
    """The first scan after a login needs no Redis read: the login's process holds the new session."""
    cache = apps["gateway"].extensions["session_cache"]
    login(gw)  # the first login starts this process's listener
    assert wait_for(cache._live.is_set, timeout=5), "session listener never subscribed"
    token = login(gw)["Authorization"].removeprefix("Bearer ")
    assert cache.held(token).badge == "EDB_PH001"
