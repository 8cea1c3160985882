"""Helpers for stock tests: a tiny floor (SKUs, bins, staging) set up through the API itself."""
from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier
from typing import Any

import pytest
import requests
from sqlalchemy import text
from sqlalchemy.engine import Engine

from codes.gtin import check_digit


def ean13(n: int) -> str:
    """A valid EAN-13 in the 690 range, distinct per n."""
    payload = f"690{n:09d}"
    return payload + str(check_digit(payload))


class Caller:
    """Same calls over the in-process test client or a live gateway session; answers (status, json)."""

    def __init__(self, client: Any, base: str = ""):
        self.client, self.base = client, base

    def post(self, path: str, body: Any = None, key: str | None = None, **kwargs: Any) -> Any:
        headers = {"Idempotency-Key": key} if key else {}
        return self.client.post(self.base + "/api/stock" + path, json=body, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(self.base + "/api/stock" + path, **kwargs)


def copies(floor: Any, role: str, badge: str, count: int, send: Any) -> list:
    """`count` copies of one operator's request at once through the gateway, each on its own connection."""
    login = floor.login(role, badge=badge)
    callers = []
    for _ in range(count):
        session = requests.Session()
        session.headers.update(login.headers)
        callers.append(Caller(session, floor.base))
    start = Barrier(count)

    def run(caller: Caller) -> Any:
        start.wait()
        return send(caller)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, callers))


def body(response: Any) -> Any:
    return response.get_json() if hasattr(response, "get_json") else response.json()


def ok(response: Any, status: int = 201) -> Any:
    assert response.status_code == status, (response.status_code, body(response))
    return body(response)


def setup_floor(api: Caller, skus: int = 2, bins: int = 3) -> dict[str, Any]:
    """SKUs S-1.., bins A-01-01-01.. (walking order), a staging area and a basket."""
    for i in range(1, bins + 1):
        ok(api.post("/locations", {"code": f"A-01-01-{i:02d}", "kind": "bin", "zone": "A", "sequence": i * 10}))
    ok(api.post("/locations", {"code": "RECEIVING", "kind": "staging"}))
    ok(api.post("/locations", {"code": "BK-001", "kind": "basket"}))
    for i in range(1, skus + 1):
        ok(api.post("/skus", {"sku": f"S-{i}", "name": f"商品 {i}", "barcodes": [ean13(i)]}))
    return {"barcode": {f"S-{i}": ean13(i) for i in range(1, skus + 1)}}


def stock_up(api: Caller, sku: str, qty: int, bin_: str) -> None:
    """Receive `qty` of `sku` on a new receipt and put it away into `bin_`."""
    receipt = ok(api.post("/receipts", {"ref": f"PO-{uuid.uuid4().hex[:10]}", "lines": [{"sku": sku, "qty": qty}]}))
    code = ean13(int(sku.split("-")[1]))
    ok(api.post(f"/receipts/{receipt['id']}/receive", {"code": code, "qty": qty}), 200)
    ok(api.post("/putaway", {"code": code, "qty": qty, "to": bin_}))


def ledger_matches_balances(engine: Engine) -> dict[tuple[str, str, str], int]:
    """Replay the ledger from the database and compare with the balance rows; returns the balances."""
    with engine.connect() as conn:
        replayed = dict(((r.sku, r.loc, r.lot), r.qty) for r in conn.execute(text(
            "SELECT sku, loc, lot, sum(q) AS qty FROM ("
            " SELECT sku, to_location AS loc, lot, qty AS q FROM stock.movements WHERE to_location IS NOT NULL"
            " UNION ALL SELECT sku, from_location, lot, -qty FROM stock.movements WHERE from_location IS NOT NULL"
            ") m GROUP BY sku, loc, lot HAVING sum(q) <> 0")))
        balances = dict(((r.sku, r.location, r.lot), r.qty) for r in conn.execute(text(
            "SELECT sku, location, lot, qty FROM stock.balances WHERE qty <> 0")))
    assert replayed == balances
    return balances


def movement_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM stock.movements")).scalar()


@pytest.fixture
def manager(service) -> Caller:
    return Caller(service("stock", "stock_manager", badge="EDB_SM001"))
