"""The thin slice through the door: gateway → service over real HTTP."""
import uuid

import pytest
import requests
from sqlalchemy import text

from common.testing import assert_error

pytestmark = pytest.mark.live


def test_login_create_sku_read_back(floor):
    """A stock manager logs in, creates a SKU through the gateway and reads it back."""
    http = floor.login("stock_manager")
    created = http.post(floor.url("/api/stock/skus"), json={"sku": "TS-001-RED-M", "name": "T恤 红 M",
                                                            "barcodes": ["6901234567892"]})
    assert created.status_code == 201, created.text
    read = http.get(floor.url("/api/stock/skus/TS-001-RED-M"))
    assert read.status_code == 200
    assert read.json()["name"] == "T恤 红 M"
    assert read.json()["barcodes"] == ["6901234567892"]


def test_direct_call_without_internal_token_is_refused(live):
    """A service called straight, bypassing the gateway, answers 401."""
    for name in ("stock", "scan", "print"):
        answer = requests.post(live.url(name) + f"/api/{name}/anything", json={}, timeout=5)
        assert_error(answer, 401, "unauthorized")


def test_malformed_json_is_a_json_400(floor):
    """A body that is not JSON gets the api.md error body, not an HTML page."""
    http = floor.login("stock_manager")
    answer = http.post(floor.url("/api/stock/skus"), data=b'{"sku": "A",', headers={"Content-Type": "application/json"})
    assert_error(answer, 400, "malformed_json")


def test_idempotency_replay_returns_first_answer_and_one_row(floor, engine):
    """The same Idempotency-Key and body gives back the first answer and writes one SKU."""
    http = floor.login("stock_manager")
    key = str(uuid.uuid4())
    body = {"sku": "MUG-01", "name": "马克杯", "barcodes": ["6901234567809"]}
    first = http.post(floor.url("/api/stock/skus"), json=body, headers={"Idempotency-Key": key})
    again = http.post(floor.url("/api/stock/skus"), json=body, headers={"Idempotency-Key": key})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM stock.skus")).scalar() == 1


def test_wrong_pin_five_times_then_429(floor):
    """Five wrong PINs in five minutes lock the badge, even for the right PIN."""
    floor.add_operator("EDB_PH900", ("picker",), pin="1234")
    for _ in range(5):
        answer = requests.post(floor.url("/api/auth/login"), json={"badge": "EDB_PH900", "pin": "0000"}, timeout=10)
        assert_error(answer, 401, "bad_credentials")
    locked = requests.post(floor.url("/api/auth/login"), json={"badge": "EDB_PH900", "pin": "1234"}, timeout=10)
    assert_error(locked, 429, "too_many_attempts")


def test_healthz_degraded_when_a_service_is_stopped(live, clean):
    """With one service down the gateway still answers, and says which."""
    assert requests.get(live.url() + "/healthz", timeout=10).json()["status"] == "ok"
    live.stop("print")
    try:
        body = requests.get(live.url() + "/healthz", timeout=10).json()
        assert body["status"] == "degraded"
        assert body["services"] == {"stock": "ok", "scan": "ok", "print": "down"}
    finally:
        live.start("print")
