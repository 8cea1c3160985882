"""Forwarding: timeouts fit the call, and a slow service is a clear 503."""
import time
from http.server import BaseHTTPRequestHandler

import pytest

import gateway
from common.auth import Identity
from common.testing import assert_error, http_peer
from gateway.domain import sessions


class SlowService(BaseHTTPRequestHandler):
    """Answers every POST after half a second, like a service busy with a big file."""

    def do_POST(self):  # noqa: N802 - the name http.server calls
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        time.sleep(0.5)
        body = b'{"created": 1}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def slow_gateway(test_env, clean, redis_conn):
    server, url = http_peer(SlowService)
    app = gateway.create_app({"http_timeout_seconds": 0.2, "import_timeout_seconds": 5,
                              "service_urls": {"stock": url, "scan": url, "print": url}})
    token = sessions.open_session(redis_conn, Identity(badge="EDB_KG001", roles=("stock_manager",)), 60)
    yield app.test_client(), {"Authorization": f"Bearer {token}"}
    server.shutdown()


def test_forward_import_waits_longer_than_a_scan(slow_gateway):
    """A CSV import gets the long timeout; a scan past the short one is a JSON 503."""
    client, headers = slow_gateway
    imported = client.post("/api/stock/skus/import", data=b"sku,name\n", headers=headers | {"Content-Type": "text/csv"})
    assert imported.status_code == 200 and imported.get_json() == {"created": 1}
    moved = client.post("/api/stock/moves", json={}, headers=headers)
    details = assert_error(moved, 503, "service_unavailable")
    assert details["service"] == "stock"
