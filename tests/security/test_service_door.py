"""The gateway is the only door: a service answers 401 to any call without its token and a signed identity."""
from __future__ import annotations

import base64
import time

import orjson
import pytest
import requests
from sqlalchemy import text

from common import auth
from common.testing import TEST_SECRETS, assert_error, identity_headers

pytestmark = pytest.mark.live

# One state-changing and one reading path per service, each valid for an admin.
DOORS = {
    "stock": (("POST", "/api/stock/locations", {"code": "A-01-01-01", "kind": "bin", "zone": "A", "sequence": 10}),
              ("GET", "/api/stock/locations", None), "SELECT count(*) FROM stock.locations"),
    "scan": (("POST", "/api/scan/orders", {"order_no": "TB-DOOR-1", "waybill_no": "SF1234567890123", "carrier": "SF",
                                           "paid": True, "lines": [{"sku": "S-1", "qty": 1}]}),
             ("GET", "/api/scan/orders", None), "SELECT count(*) FROM scan.orders"),
    "print": (("POST", "/api/print/printers", {"name": "door-1", "uri": "file:///tmp/wms-door-spool"}),
              ("GET", "/api/print/printers", None), "SELECT count(*) FROM print.printers"),
}


def _forged(headers: dict[str, str], **change) -> dict[str, str]:
    """The same identity header with a field changed, keeping the old signature."""
    payload = orjson.loads(base64.urlsafe_b64decode(headers[auth.IDENTITY_HEADER]))
    encoded = base64.urlsafe_b64encode(orjson.dumps(payload | change)).decode()
    return headers | {auth.IDENTITY_HEADER: encoded}


def _bad_headers() -> dict[str, dict[str, str]]:
    good = identity_headers(roles=("picker",))
    token = {auth.TOKEN_HEADER: TEST_SECRETS["INTERNAL_TOKEN"]}
    other_secret = auth.sign(auth.Identity(badge="EDB_X", roles=("admin",)), "not-the-secret")
    stale = auth.sign(auth.Identity(badge="EDB_X", roles=("admin",)), TEST_SECRETS["IDENTITY_SECRET"],
                      now=time.time() - auth.MAX_SKEW_SECONDS - 60)
    return {
        "nothing": {},
        "identity without token": {k: v for k, v in good.items() if k != auth.TOKEN_HEADER},
        "wrong token": good | {auth.TOKEN_HEADER: "guessed-token"},
        "token without identity": dict(token),
        "identity without signature": {k: v for k, v in good.items() if k != auth.SIGNATURE_HEADER},
        "signed with another secret": token | other_secret,
        "roles raised after signing": _forged(good, roles=["admin"]),
        "badge swapped after signing": _forged(good, badge="EDB_AD001"),
        "signature of another identity": good | {auth.SIGNATURE_HEADER: other_secret[auth.SIGNATURE_HEADER]},
        "expired signature": token | stale,
        "garbage identity": token | {auth.IDENTITY_HEADER: "!!", auth.SIGNATURE_HEADER: "00"},
    }


def _rows(engine, sql: str) -> int:
    with engine.connect() as conn:
        return conn.execute(text(sql)).scalar()


@pytest.mark.parametrize("service", sorted(DOORS))
@pytest.mark.parametrize("case", sorted(_bad_headers()))
def test_service_direct_call_refused_401(live, engine, clean, service, case):
    """A call straight to a service without the gateway's token and a valid signed identity: 401, nothing stored."""
    post, get, count_sql = DOORS[service]
    headers = _bad_headers()[case]
    before = _rows(engine, count_sql)
    for method, path, body in (post, get):
        answer = requests.request(method, live.url(service) + path, json=body, headers=headers, timeout=10)
        assert answer.status_code == 401, (case, method, path, answer.status_code, answer.text[:200])
        assert set(answer.json()) == {"error"}
    assert _rows(engine, count_sql) == before


@pytest.mark.parametrize("service", sorted(DOORS))
def test_service_direct_call_with_valid_signature_passes(live, engine, clean, service):
    """The control: the same calls with the token and a fresh signature get through (so the 401s mean something)."""
    post, get, count_sql = DOORS[service]
    headers = identity_headers(roles=("admin",))
    answer = requests.request(get[0], live.url(service) + get[1], headers=headers, timeout=10)
    assert answer.status_code == 200, answer.text
    answer = requests.request(post[0], live.url(service) + post[1], json=post[2], headers=headers, timeout=10)
    assert answer.status_code != 401 and answer.status_code < 500, answer.text


def test_gateway_refuses_bad_bearer_tokens(floor):
    """Through the gateway, a missing, malformed or made-up bearer token is 401 on a POST and a GET."""
    for header in ({}, {"Authorization": "Bearer"}, {"Authorization": "Basic YWRtaW46MTIzNA=="},
                   {"Authorization": "Bearer " + "A" * 43}, {"Authorization": "Bearer \u00e9\u00e9"}):
        for method, path in (("GET", "/api/stock/locations"), ("POST", "/api/scan/orders")):
            answer = requests.request(method, floor.url(path), json={}, headers=header, timeout=10)
            assert answer.status_code == 401, (header, path, answer.text)
            assert answer.json()["error"]["code"] in ("unauthorized", "session_expired")


def test_gateway_does_not_pass_client_identity_headers(floor, engine):
    """A client's own X-Internal-Token / X-Identity headers are replaced, never trusted: a picker stays a picker."""
    picker = floor.login("picker")
    forged = identity_headers(roles=("admin",))
    answer = picker.post(floor.url("/api/stock/locations"), headers=forged, timeout=10,
                         json={"code": "A-01-01-09", "kind": "bin", "zone": "A", "sequence": 90})
    assert_error(answer, 403, "forbidden")
    assert _rows(engine, "SELECT count(*) FROM stock.locations") == 0
