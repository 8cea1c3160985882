"""Data for the UI tests, made through the live gateway the way the office would make it."""
from __future__ import annotations

import uuid

import requests

# sku: (name, barcode, bin, walking order)
ITEMS = {
    "MUG-01": ("马克杯", "6901234567809", "A-01-01-01", 1010),
    "TS-001-RED-M": ("T恤 红 M", "6901234567892", "A-01-02-01", 1020),
}
SF = "SF1234567890123"
ORDER = {"order_no": "TB20261122001", "shop": "天猫旗舰店", "waybill_no": SF, "carrier": "SF", "paid": True,
         "buyer_note": "请用纸箱 please use a box",
         "lines": [{"sku": "MUG-01", "qty": 1}, {"sku": "TS-001-RED-M", "qty": 2}]}


def post(http: requests.Session, floor, path: str, body: dict, *statuses: int) -> dict:
    answer = http.post(floor.url(path), json=body, headers={"Idempotency-Key": str(uuid.uuid4())}, timeout=30)
    assert answer.status_code in (statuses or (200, 201, 202)), (path, answer.status_code, answer.text)
    return answer.json()


def get(http: requests.Session, floor, path: str) -> dict:
    answer = http.get(floor.url(path), timeout=30)
    assert answer.status_code == 200, (path, answer.status_code, answer.text)
    return answer.json()


def stock_up(floor, qty: int = 10) -> requests.Session:
    """Both items on their bins, `qty` units each, received and put away; returns the manager's session."""
    manager = floor.login("stock_manager", "receiver", "supervisor", badge="EDB_KG900")
    for sku, (name, barcode, bin_code, sequence) in ITEMS.items():
        post(manager, floor, "/api/stock/skus", {"sku": sku, "name": name, "barcodes": [barcode]})
        post(manager, floor, "/api/stock/locations", {"code": bin_code, "kind": "bin", "zone": bin_code[0],
                                                      "sequence": sequence})
    receipt = post(manager, floor, "/api/stock/receipts",
                   {"ref": "PO-UI-1", "lines": [{"sku": sku, "qty": qty} for sku in ITEMS]})
    for _sku, (_name, barcode, bin_code, _seq) in ITEMS.items():
        post(manager, floor, f"/api/stock/receipts/{receipt['id']}/receive", {"code": barcode, "qty": qty})
        post(manager, floor, "/api/stock/putaway", {"code": barcode, "qty": qty, "to": bin_code})
    return manager


def on_hand(http: requests.Session, floor, sku: str) -> dict[str, int]:
    found: dict[str, int] = {}
    for item in get(http, floor, f"/api/stock/balances?sku={sku}&limit=500")["items"]:
        found[item["location"]] = found.get(item["location"], 0) + item["qty"]
    return {loc: qty for loc, qty in found.items() if qty}
