"""The internal client: identity and request id carried, errors passed on, no unsafe retries."""
from http.server import BaseHTTPRequestHandler

import pytest

from common.auth import Identity
from common.errors import ServiceUnavailableError
from common.http import ServiceClient, ServiceError
from common.testing import TEST_SECRETS, free_port, http_peer

STOCK_MANAGER = Identity(badge="EDB_KG001", name="杨帆", roles=("stock_manager",), device="svc")


def client(url):
    return ServiceClient(url, internal_token=TEST_SECRETS["INTERNAL_TOKEN"],
                         identity_secret=TEST_SECRETS["IDENTITY_SECRET"], timeout=3)


@pytest.mark.live
def test_request_as_identity_creates_and_reads(live, clean):
    """A sibling service calls as the operator who caused the call."""
    stock = client(live.url("stock"))
    created = stock.request("POST", "/api/stock/skus", STOCK_MANAGER, json={"sku": "BAG-1", "name": "袋子"},
                            idempotency_key="k-1")
    assert created["sku"] == "BAG-1"
    assert stock.request("GET", "/api/stock/skus/BAG-1", STOCK_MANAGER)["name"] == "袋子"


@pytest.mark.live
def test_request_error_keeps_code_and_status(live, clean):
    """The other service's error code and status reach the caller unchanged."""
    with pytest.raises(ServiceError) as exc:
        client(live.url("stock")).request("GET", "/api/stock/skus/NOPE", STOCK_MANAGER)
    assert exc.value.status == 404 and exc.value.code == "unknown_sku"


@pytest.mark.live
def test_request_refused_role_is_403(live, clean):
    """The identity's roles are checked by the service called."""
    picker = Identity(badge="EDB_PH001", roles=("picker",))
    with pytest.raises(ServiceError) as exc:
        client(live.url("stock")).request("POST", "/api/stock/skus", picker, json={"sku": "X", "name": "x"})
    assert exc.value.status == 403


def test_request_to_a_dead_service_is_503():
    """Nobody listening: a ServiceUnavailableError the caller can turn into a clear 503."""
    with pytest.raises(ServiceUnavailableError):
        client(f"http://127.0.0.1:{free_port()}").request("GET", "/api/stock/skus/A", STOCK_MANAGER)


class Flaky(BaseHTTPRequestHandler):
    """Fails the first `failures` requests (a 503, or a connection closed unanswered), then answers 201."""

    failures = 2
    unanswered = False
    seen: list[str] = []

    def do_POST(self) -> None:  # noqa: N802 - the http.server API
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.seen.append(self.headers.get("Idempotency-Key") or "")
        if len(self.seen) <= self.failures:
            if self.unanswered:
                self.close_connection = True
                return
            self._send(503, b"")
            return
        self._send(201, b'{"ok": true}')

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(params=[False, True], ids=["503", "closed unanswered"])
def flaky(request):
    handler = type("FlakyPeer", (Flaky,), {"seen": [], "unanswered": request.param})
    server, url = http_peer(handler)
    yield handler, url
    server.shutdown()


def test_a_post_with_a_key_is_repeated_until_it_lands(flaky):
    """A restarting service: the keyed POST is sent again, with its key, and its one answer comes back."""
    handler, url = flaky
    assert client(url).request("POST", "/api/stock/internal/picks", STOCK_MANAGER, json={}, idempotency_key="k-9") \
        == {"ok": True}
    assert handler.seen == ["k-9", "k-9", "k-9"]


def test_a_post_without_a_key_is_sent_once(flaky):
    """Repeating it could double its effect: one try, then the 503 the caller shows."""
    handler, url = flaky
    with pytest.raises(ServiceUnavailableError):
        client(url).request("POST", "/api/stock/internal/picks", STOCK_MANAGER, json={})
    assert handler.seen == [""]


def test_a_service_failing_every_try_is_given_up_after_four(flaky):
    handler, url = flaky
    handler.failures = 10
    with pytest.raises(ServiceUnavailableError):
        client(url).request("POST", "/api/stock/internal/picks", STOCK_MANAGER, json={}, idempotency_key="k-10")
    assert handler.seen == ["k-10"] * 4
