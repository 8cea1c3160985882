"""No secret reaches a log file; tokens expire after SESSION_TTL_SECONDS idle and die at logout.

These run on a stack of their own, logging at DEBUG (the most a service ever writes) with a
3-second session lifetime.
"""
from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests
from sqlalchemy import text

from common import testing
from common.testing import assert_error

pytestmark = pytest.mark.live

TTL = 3
PIN = "73915428"
WRONG_PIN = "51739284"


@pytest.fixture(scope="module")
def debug_stack(test_env, tmp_path_factory):
    log_dir = Path(tmp_path_factory.mktemp("debug-logs"))
    env = test_env | {"LOG_LEVEL": "DEBUG", "SESSION_TTL_SECONDS": str(TTL)}
    with testing.LiveStack(env, log_dir) as stack:
        yield stack


@pytest.fixture
def gate(debug_stack, engine, clean):
    return testing.Floor(debug_stack.url("gateway"), engine)


def _login(gate: testing.Floor, badge: str, roles=("stock_manager",), pin: str = PIN) -> tuple[str, requests.Session]:
    gate.add_operator(badge, tuple(roles), pin=pin)
    answer = requests.post(gate.url("/api/auth/login"), json={"badge": badge, "pin": pin, "device": "HH-31"},
                           timeout=10)
    assert answer.status_code == 200, answer.text
    session = requests.Session()
    session.headers["Authorization"] = "Bearer " + answer.json()["token"]
    return answer.json()["token"], session


def test_logs_never_hold_pin_token_or_secrets(gate, debug_stack, test_env):
    """Logins, failures, proxied calls, a logout at DEBUG: no PIN, token, INTERNAL_TOKEN, IDENTITY_SECRET logged."""
    assert requests.post(gate.url("/api/auth/login"), json={"badge": "EDB_SM901", "pin": WRONG_PIN}, timeout=10
                         ).status_code == 401
    token, session = _login(gate, "EDB_SM901")
    url = gate.url
    assert session.get(url("/api/auth/me"), timeout=10).status_code == 200
    assert session.get(url("/api/stock/locations"), timeout=10).status_code == 200
    assert session.post(url("/api/stock/locations"), json={"code": "A-01", "pin": PIN}, timeout=10,
                        headers={"Idempotency-Key": "k-" + token[:8]}).status_code == 422
    assert session.get(url("/api/scan/orders"), timeout=10).status_code == 403
    assert session.get(url("/api/print/jobs"), timeout=10).status_code == 200
    assert session.post(url("/api/print/jobs"), json={"printer": "none", "template": "raw", "data": {"zpl": token}},
                        timeout=10).status_code in (404, 422)
    assert session.get(url("/api/stock/internal/x"), timeout=10).status_code == 404
    assert session.post(url("/api/auth/logout"), timeout=10).status_code == 200
    assert session.get(url("/api/stock/locations"), timeout=10).status_code == 401
    assert requests.get(debug_stack.url("stock") + "/api/stock/locations", timeout=10,
                        headers={"Authorization": "Bearer " + token, "X-Internal-Token": "guess"}).status_code == 401
    time.sleep(0.5)
    logs = {path.name: path.read_text(errors="replace") for path in debug_stack.log_dir.glob("*.log")}
    assert set(logs) == {"gateway.log", "stock.log", "scan.log", "print.log"}
    # The logs are really written at this level: each failed request left its line.
    assert "/api/auth/login" in logs["gateway.log"] and "/api/stock/locations" in logs["stock.log"]
    assert "/api/print/jobs" in logs["print.log"]
    secrets = {"PIN": PIN, "wrong PIN": WRONG_PIN, "bearer token": token,
               "INTERNAL_TOKEN": test_env["INTERNAL_TOKEN"], "IDENTITY_SECRET": test_env["IDENTITY_SECRET"]}
    found = [(what, name) for name, text in logs.items() for what, value in secrets.items() if value in text]
    assert found == []


def test_session_expires_after_ttl_idle_but_slides_while_used(gate):
    """expires_in is SESSION_TTL_SECONDS; use keeps the session alive past it; idle for longer: 401 everywhere."""
    token, session = _login(gate, "EDB_SM902")
    for _ in range(3):  # 3 × 1.5 s of use outlives one TTL: each call slides the expiry
        assert session.get(gate.url("/api/stock/locations"), timeout=10).status_code == 200
        time.sleep(TTL / 2)
    assert session.get(gate.url("/api/auth/me"), timeout=10).status_code == 200
    time.sleep(TTL + 1)
    for method, path in (("GET", "/api/stock/locations"), ("GET", "/api/auth/me"), ("POST", "/api/stock/moves")):
        assert_error(session.request(method, gate.url(path), json={}, timeout=10), 401, "session_expired")


def test_login_expires_in_is_the_configured_ttl(gate):
    """The login answer says how long the token lives: SESSION_TTL_SECONDS."""
    gate.add_operator("EDB_SM903", ("picker",), pin=PIN)
    answer = requests.post(gate.url("/api/auth/login"), timeout=10, json={"badge": "EDB_SM903", "pin": PIN})
    assert answer.status_code == 200 and answer.json()["expires_in"] == TTL


def test_logout_revokes_token_on_service_paths_only_for_that_session(gate, engine):
    """After logout the token is refused on proxied GETs, POSTs and a second logout; the other handheld stays in."""
    token, first = _login(gate, "EDB_SM904")
    _, second = _login(gate, "EDB_SM904")
    assert first.post(gate.url("/api/auth/logout"), timeout=10).status_code == 200
    assert_error(first.get(gate.url("/api/stock/locations"), timeout=10), 401, "session_expired")
    location = {"code": "A-01-01-01", "kind": "bin", "zone": "A", "sequence": 1}
    assert_error(first.post(gate.url("/api/stock/locations"), json=location, timeout=10), 401, "session_expired")
    assert_error(first.post(gate.url("/api/auth/logout"), timeout=10), 401, "session_expired")
    assert second.get(gate.url("/api/stock/locations"), timeout=10).status_code == 200
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM stock.locations")).scalar() == 0
