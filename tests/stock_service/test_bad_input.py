"""Bad input on every writing endpoint: a 4xx JSON error naming the field, and the ledger untouched."""
import pytest

from common import testing
from common.testing import assert_error
from tests.stock_service.conftest import Caller, ean13, movement_count, ok, setup_floor, stock_up

CASES = [
    ("receive", {"code": "EAN", "qty": 0}, "qty"),
    ("receive", {"code": "EAN", "qty": 1, "force": "yes"}, "force"),
    ("receive", {"code": "", "qty": 1}, "code"),
    ("putaway", {"code": "EAN", "qty": -2, "to": "A-01-01-02"}, "qty"),
    ("putaway", {"code": "EAN", "qty": 1, "to": "A-01-01-02", "extra": 1}, "extra"),
    ("receipt", {"ref": "PO-X", "lines": [{"sku": "S-1", "qty": 2.5}]}, "lines"),
    ("receipt", {"ref": "PO-X", "lines": []}, "lines"),
    ("entry", {"location": "A-01-01-01", "code": "EAN", "qty": 0}, "qty"),
    ("entry", {"location": "A-01-01-01", "code": "EAN", "qty": 1_000_001}, "qty"),
    ("pick", {"reference": "p1", "basket": "BK-001", "lines": [{"sku": "S-1", "qty": 1}]}, "lines"),
    ("ship", {"order_no": "T" * 65, "basket": "BK-001", "lines": [{"sku": "S-1", "qty": 1}]}, "order_no"),
    ("location", {"code": "B-1", "kind": "shelf"}, "kind"),
    ("location", {"code": "B-1", "kind": "bin", "sequence": "10"}, "sequence"),
]


def _path(kind: str, receipt: int, count: int) -> str:
    return {"receive": f"/receipts/{receipt}/receive", "putaway": "/putaway", "receipt": "/receipts",
            "entry": f"/counts/{count}/entries", "pick": "/internal/picks", "ship": "/internal/shipments",
            "location": "/locations"}[kind]


@pytest.mark.parametrize(("kind", "payload", "field"), CASES)
def test_writes_bad_input_is_422_naming_field_and_writes_nothing(manager, engine, kind, payload, field):
    """Zero, negative, huge, fractional, wrong types, unknown fields: 422 with the field; no movement."""
    setup_floor(manager)
    stock_up(manager, "S-1", 3, "A-01-01-01")
    receipt = ok(manager.post("/receipts", {"ref": "PO-OPEN", "lines": [{"sku": "S-1", "qty": 5}]}))
    count = ok(manager.post("/counts", {"locations": ["A-01-01-01"]}))
    payload = {k: (ean13(1) if v == "EAN" else v) for k, v in payload.items()}
    before = movement_count(engine)
    details = assert_error(manager.post(_path(kind, receipt["id"], count["id"]), payload), 422, "invalid_input")
    assert field in details["fields"], details
    assert movement_count(engine) == before


def test_receive_unknown_code_is_404_unknown_code(manager, engine):
    """A barcode no SKU carries: 404 unknown_code naming it."""
    setup_floor(manager)
    receipt = ok(manager.post("/receipts", {"ref": "PO-1", "lines": [{"sku": "S-1", "qty": 1}]}))
    details = assert_error(manager.post(f"/receipts/{receipt['id']}/receive", {"code": "6999999999999", "qty": 1}),
                           404, "unknown_code")
    assert details == {"code": "6999999999999"}
    assert movement_count(engine) == 0


def test_moves_insufficient_stock_message_in_chinese(apps, manager):
    """A zh-CN operator reads the error in Chinese."""
    setup_floor(manager)
    chinese = Caller(testing.ServiceClient(apps["stock"], "EDB_SM009", ("stock_manager",), lang="zh-CN"))
    answer = chinese.post("/moves", {"sku": "S-1", "qty": 1, "from": "A-01-01-01", "to": "A-01-01-02"})
    assert_error(answer, 409, "insufficient_stock")
    assert answer.get_json()["error"]["message"] == "库存不足。"
