"""Demo orders of the scan side of the floor, imported through the gateway like the shop ERP would.

A handful of printed, paid orders with SF / ZTO / YTO waybills for the demo SKUs of
deploy/demo/stock.py, one with a buyer's note, one unpaid whose note allows shipping, and one
merged into another parcel. Importing is idempotent by order number, so a second run changes nothing.
"""
from __future__ import annotations

from typing import Any

SHOP = "天猫 · 示例旗舰店"
DEMO_ORDERS: list[dict[str, Any]] = [
    {"order_no": "TB20261122001", "waybill_no": "SF1234567890123", "carrier": "SF",
     "buyer_note": "请用纸箱包装，不要放发票",
     "lines": [{"sku": "TS-001-RED-M", "qty": 2}, {"sku": "MUG-005", "qty": 1}]},
    {"order_no": "TB20261122002", "waybill_no": "73100012345678", "carrier": "ZTO",
     "lines": [{"sku": "SK-004-WHT", "qty": 2}]},
    {"order_no": "TB20261122003", "waybill_no": "YT1234567890123", "carrier": "YTO",
     "seller_note": "赠品：贴纸一张",
     "lines": [{"sku": "CBL-008-1M", "qty": 1}, {"sku": "PWB-009", "qty": 1}]},
    {"order_no": "TB20261122004", "merge_into": "TB20261122001",
     "lines": [{"sku": "BTL-006", "qty": 1}]},
    {"order_no": "TB20261122005", "waybill_no": "SF1234567890124", "carrier": "SF", "paid": False,
     "seller_note": "老客户货到付款，允许未付款发货",
     "lines": [{"sku": "HD-002-GRY-L", "qty": 1}]},
    {"order_no": "TB20261122006", "waybill_no": "YT1234567890124", "carrier": "YTO",
     "lines": [{"sku": "NB-011-A5", "qty": 3}, {"sku": "PEN-012-BLK", "qty": 1}]},
]


def seed(client: Any) -> None:
    for order in DEMO_ORDERS:
        client.post("/api/scan/orders", {"shop": SHOP, "paid": True} | order,
                    headers={"Idempotency-Key": f"demo-order-{order['order_no']}"})
