"""A small stocked floor over the live gateway: SKUs, bins in walking order, stock on the shelves."""
from __future__ import annotations

import uuid

import requests

SKUS = {
    "TS-001-RED-M": ("T恤 红 M", "6901234567892", "A-01-02-01", 1020),
    "MUG-01": ("马克杯", "6901234567809", "A-01-01-01", 1010),
    "CAP-9": ("棒球帽", "012345678905", "B-02-01-01", 2010),
}


def call(http: requests.Session, floor, method: str, path: str, body=None, key: str | None = None, **kw):
    headers = {"Idempotency-Key": key or str(uuid.uuid4())} if method == "POST" else {}
    return http.request(method, floor.url(path), json=body, headers=headers, timeout=30, **kw)


def ok(answer: requests.Response, *statuses: int) -> dict:
    assert answer.status_code in (statuses or (200, 201)), (answer.status_code, answer.text)
    return answer.json()


def stock_up(floor, qty: int = 10) -> None:
    """Every demo SKU with `qty` units on its bin, received and put away through stock_service."""
    manager = floor.login("stock_manager", "receiver", badge="EDB_KG001")
    for sku, (name, barcode, bin_code, sequence) in SKUS.items():
        ok(call(manager, floor, "POST", "/api/stock/skus", {"sku": sku, "name": name, "barcodes": [barcode]}))
        ok(call(manager, floor, "POST", "/api/stock/locations",
                {"code": bin_code, "kind": "bin", "zone": bin_code[0], "sequence": sequence}))
    receipt = ok(call(manager, floor, "POST", "/api/stock/receipts",
                      {"ref": "PO-TEST-1", "lines": [{"sku": sku, "qty": qty} for sku in SKUS]}))
    for sku, (_name, barcode, bin_code, _seq) in SKUS.items():
        ok(call(manager, floor, "POST", f"/api/stock/receipts/{receipt['id']}/receive", {"code": barcode, "qty": qty}))
        ok(call(manager, floor, "POST", "/api/stock/putaway", {"code": barcode, "qty": qty, "to": bin_code}))


def on_hand(http: requests.Session, floor, sku: str) -> dict[str, int]:
    """Where a SKU's units are, by location (zero balances left out)."""
    items = ok(call(http, floor, "GET", f"/api/stock/balances?sku={sku}&limit=500"))["items"]
    found: dict[str, int] = {}
    for item in items:
        found[item["location"]] = found.get(item["location"], 0) + item["qty"]
    return {loc: qty for loc, qty in found.items() if qty}


def movements(http: requests.Session, floor, sku: str, kind: str) -> list[dict]:
    return ok(call(http, floor, "GET", f"/api/stock/movements?sku={sku}&type={kind}&limit=500"))["items"]
