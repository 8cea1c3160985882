"""scan_service's stock client against a real HTTP peer: what it sends, and with which key."""
from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler

from common.auth import Identity
from common.http import ServiceClient
from common.testing import TEST_SECRETS, http_peer
from scan_service.domain.stock import Stock

PICKER = Identity(badge="EDB_JH001", name="王芳", roles=("picker",), lang="zh", device="HH-07")


class StockPeer(BaseHTTPRequestHandler):
    """Keeps what it was sent; answers an allocation with a one-task plan and items with one known SKU."""

    protocol_version = "HTTP/1.1"
    seen: list[tuple[str, str | None, dict]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.seen.append((self.path, self.headers.get("Idempotency-Key"), body))
        if self.path.endswith("/items"):
            answer = {"items": [{"sku": "TS-1", "name": "T恤", "image_url": None, "barcodes": ["6901234567892"]}]}
        else:
            answer = {"allocations": [], "plan": {"tasks": [{"seq": 1, "sku": "TS-1"}], "short": []}}
        data = json.dumps(answer).encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_args: object) -> None:
        pass


def stock_at(url: str) -> Stock:
    client = ServiceClient(url, internal_token=TEST_SECRETS["INTERNAL_TOKEN"],
                           identity_secret=TEST_SECRETS["IDENTITY_SECRET"], timeout=2)
    return Stock(client, PICKER)


def test_each_allocation_attempt_has_its_own_key_and_asks_for_the_plan():
    """A start that failed released its orders: the next attempt must allocate them again, not be replayed."""
    server, url = http_peer(StockPeer)
    StockPeer.seen = []
    try:
        stock = stock_at(url)
        orders = [{"order_no": "TB1", "lines": [{"sku": "TS-1", "qty": 1}]}]
        first = stock.allocate_orders(orders, plan=True)
        stock.allocate_orders(orders, plan=True)
    finally:
        server.shutdown()
    assert first["plan"]["tasks"] == [{"seq": 1, "sku": "TS-1"}]
    [(path, key_1, body), (_, key_2, _)] = StockPeer.seen
    assert path == "/api/stock/internal/allocations/batch"
    assert body == {"orders": orders, "plan": True}
    assert key_1 and key_2 and key_1 != key_2


def test_items_asks_once_for_every_sku_and_answers_by_sku():
    server, url = http_peer(StockPeer)
    StockPeer.seen = []
    try:
        found = stock_at(url).items(["TS-1", "MUG-9"])
    finally:
        server.shutdown()
    assert [(path, body) for path, _, body in StockPeer.seen] == [
        ("/api/stock/internal/items", {"skus": ["TS-1", "MUG-9"]})]
    assert found == {"TS-1": {"sku": "TS-1", "name": "T恤", "image_url": None, "barcodes": ["6901234567892"]}}
