"""Demo data of the stock side of the floor: SKUs, bins, baskets, and stock on the shelves.

Everything goes through the gateway's API. Creations answer 409 on a second run; receipts and
putaways carry fixed Idempotency-Keys so a second run replays them instead of adding stock.
"""
from __future__ import annotations

from typing import Any

from codes.gtin import check_digit

# sku, name, spec, units to put on the shelf
DEMO_SKUS = [
    ("TS-001-RED-M", "T恤 红 M", "纯棉 180g", 30),
    ("TS-001-RED-L", "T恤 红 L", "纯棉 180g", 30),
    ("TS-001-BLU-M", "T恤 蓝 M", "纯棉 180g", 25),
    ("TS-001-BLU-L", "T恤 蓝 L", "纯棉 180g", 25),
    ("HD-002-GRY-L", "连帽卫衣 灰 L", "加绒 320g", 15),
    ("HD-002-BLK-XL", "连帽卫衣 黑 XL", "加绒 320g", 15),
    ("JN-003-30", "直筒牛仔裤 30码", "弹力 蓝色", 12),
    ("JN-003-32", "直筒牛仔裤 32码", "弹力 蓝色", 12),
    ("SK-004-WHT", "运动袜 白 三双装", "棉混纺 均码", 60),
    ("SK-004-BLK", "运动袜 黑 三双装", "棉混纺 均码", 60),
    ("MUG-005", "陶瓷马克杯", "350ml 白色", 20),
    ("BTL-006", "不锈钢保温杯", "500ml 银色", 18),
    ("CASE-007-IP15", "手机壳 iPhone 15", "透明 硅胶", 40),
    ("CBL-008-1M", "快充数据线 Type-C", "1米 编织", 50),
    ("PWB-009", "充电宝 10000mAh", "白色 22.5W", 10),
    ("TWL-010", "纯棉毛巾", "34x76cm 米色", 35),
    ("NB-011-A5", "笔记本 A5", "80页 横线", 45),
    ("PEN-012-BLK", "中性笔 黑 十支装", "0.5mm", 40),
    ("UMB-013", "折叠雨伞", "三折 黑胶防晒", 8),
    ("BAG-014", "帆布手提袋", "米白 40x35cm", 22),
]
BINS = [f"A-01-{shelf:02d}-{level:02d}" for shelf in range(1, 6) for level in range(1, 7)]


def ean13(index: int) -> str:
    """A valid EAN-13 in the GS1 China range (690-699), one per demo SKU."""
    payload = f"69{index % 10}1234{index:05d}"
    return payload + str(check_digit(payload))


def seed(client: Any) -> None:
    for sequence, code in enumerate(BINS, start=1):
        client.post("/api/stock/locations", {"code": code, "kind": "bin", "zone": "A", "sequence": sequence * 10})
    for code, kind in (("RECEIVING", "staging"), ("RETURNS", "returns"), ("INTERCEPT", "intercept")):
        client.post("/api/stock/locations", {"code": code, "kind": kind, "zone": ""})
    for n in range(1, 21):
        client.post("/api/stock/locations", {"code": f"BK-{n:03d}", "kind": "basket"})
    for index, (sku, name, spec, _qty) in enumerate(DEMO_SKUS):
        client.post("/api/stock/skus", {"sku": sku, "name": name, "spec": spec, "barcodes": [ean13(index)],
                                        "home_bin": BINS[index]})
    lines = [{"sku": sku, "qty": qty} for sku, _name, _spec, qty in DEMO_SKUS]
    receipt = client.post("/api/stock/receipts", {"ref": "PO-DEMO-0001", "lines": lines},
                          headers={"Idempotency-Key": "demo-receipt-PO-DEMO-0001"})
    if receipt.status_code != 201:
        return
    receipt_id = receipt.json()["id"]
    for index, (sku, _name, _spec, qty) in enumerate(DEMO_SKUS):
        client.post(f"/api/stock/receipts/{receipt_id}/receive", {"code": ean13(index), "qty": qty},
                    headers={"Idempotency-Key": f"demo-receive-{sku}"})
        client.post("/api/stock/putaway", {"code": ean13(index), "qty": qty, "to": BINS[index]},
                    headers={"Idempotency-Key": f"demo-putaway-{sku}"})
