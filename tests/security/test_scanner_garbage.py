"""Scanner garbage at every scan step: a clear 4xx (or an unknown_code scan answer) and nothing changed."""
from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import text

from tests.scan_service.floorkit import SKUS, call, ok, stock_up

pytestmark = pytest.mark.live

BARCODE = SKUS["TS-001-RED-M"][1]
SF = "SF1234567890123"
# What a confused scanner, a wrong keyboard layout or a wrong label sends instead of a code.
REFUSED = {  # never a valid code: the schema refuses them (422, the field named)
    "nul byte": BARCODE + "\x00",
    "escape sequence": "\x1b[2J" + BARCODE,
    "carriage return inside": BARCODE[:6] + "\r" + BARCODE[6:],
    "line feed at end": BARCODE + "\n",
    "delete char": "\x7f" + BARCODE,
    "bell": "\x07",
    "4 KB code": "6" * 4096,
    "empty": "",
}
UNKNOWN = {  # printable, but no code the floor knows
    "emoji": "📦" + BARCODE,
    "full-width digits": "".join(chr(ord(c) + 0xFEE0) for c in BARCODE),
    "latin-1 read as utf-8": "Ã©" + BARCODE,
    "arabic-indic digits": "".join(chr(0x0660 + int(c)) for c in BARCODE),
    "spaces": "   ",
    "zero-width joiner": BARCODE[:5] + "\u200d" + BARCODE[5:],
    "right-to-left mark": "\u200f" + BARCODE,
}
# Tables whose content a refused scan must leave exactly as it was (scan events may log a wrong scan).
WATCHED = ("stock.balances", "stock.movements", "stock.receipt_lines", "stock.receipts", "stock.count_lines",
           "stock.count_bins", "stock.counts", "scan.picks", "scan.pick_tasks", "scan.verifications",
           "scan.verification_lines", "scan.orders", "scan.shipment_outbox")
SCAN_RESULTS_FOR_WRONG_CODES = {"unknown_code", "wrong_item", "wrong_location"}
ORDERS = [
    {"order_no": "TB-GARBAGE-1", "waybill_no": SF, "carrier": "SF", "paid": True,
     "lines": [{"sku": "TS-001-RED-M", "qty": 1}]},
    {"order_no": "TB-GARBAGE-2", "waybill_no": "SF1234567890124", "carrier": "SF", "paid": True,
     "lines": [{"sku": "MUG-01", "qty": 2}]},
]


def snapshot(engine) -> dict[str, str]:
    """A digest of every watched table's rows."""
    with engine.connect() as conn:
        return {table: conn.execute(text(
            f"SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') "  # noqa: S608
            f"FROM {table} t")).scalar() for table in WATCHED}


@pytest.fixture
def scene(floor, live, engine):
    """Stock on the shelves, one order picked and under verification, one pick open, a receipt, a count."""
    stock_up(floor)
    supervisor = floor.login("supervisor", badge="EDB_ZG801")
    picker = floor.login("picker", badge="EDB_PH801")
    verifier = floor.login("verifier", badge="EDB_YH801")
    manager = floor.login("stock_manager", "receiver", badge="EDB_KG801")
    counter = floor.login("counter", badge="EDB_PD801")
    for order in ORDERS:
        ok(call(supervisor, floor, "POST", "/api/scan/orders", order), 201)
    first = ok(call(picker, floor, "POST", "/api/scan/picks", {"basket": "BK-801", "orders": ["TB-GARBAGE-1"]}), 201)
    task = first["tasks"][0]
    assert ok(call(picker, floor, "POST", f"/api/scan/picks/{first['id']}/scan", {"code": task["location"]}))[
        "result"] == "ok"
    assert ok(call(picker, floor, "POST", f"/api/scan/picks/{first['id']}/scan", {"code": BARCODE}))["result"] == "ok"
    ok(call(picker, floor, "POST", f"/api/scan/picks/{first['id']}/complete"))
    check = ok(call(verifier, floor, "POST", "/api/scan/verifications", {"waybill": SF}), 201)
    pick = ok(call(picker, floor, "POST", "/api/scan/picks", {"basket": "BK-802", "orders": ["TB-GARBAGE-2"]}), 201)
    receipt = ok(call(manager, floor, "POST", "/api/stock/receipts",
                      {"ref": "PO-GARBAGE", "lines": [{"sku": "CAP-9", "qty": 5}]}), 201)
    ok(call(manager, floor, "POST", f"/api/stock/receipts/{receipt['id']}/receive",
            {"code": SKUS["CAP-9"][1], "qty": 1}))
    count = ok(call(manager, floor, "POST", "/api/stock/counts", {"locations": ["A-01-02-01"]}), 201)
    bin_ = SKUS["TS-001-RED-M"][2]
    # Each scan step: who scans, how the code is sent, and the codes meant for another step.
    steps = {
        "pick scan": (picker, lambda c: ("POST", f"/api/scan/picks/{pick['id']}/scan", {"code": c}),
                      ["]C0" + SF, "BK-801", "]d2010690123456789" + "10LOT1"]),
        "verification waybill": (verifier, lambda c: ("POST", "/api/scan/verifications", {"waybill": c}),
                                 ["]E0" + BARCODE, bin_, "BK-801"]),
        "verification item": (verifier, lambda c: ("POST", f"/api/scan/verifications/{check['id']}/scan",
                                                   {"code": c, "qty": 1}), ["]C0" + SF, bin_, "BK-801"]),
        "receive": (manager, lambda c: ("POST", f"/api/stock/receipts/{receipt['id']}/receive", {"code": c, "qty": 1}),
                    ["]C0" + SF, bin_, "BK-801", "]E0" + BARCODE]),
        "putaway": (manager, lambda c: ("POST", "/api/stock/putaway", {"code": c, "qty": 1, "to": bin_}),
                    ["]C0" + SF, "BK-801", bin_]),
        "count entry": (counter, lambda c: ("POST", f"/api/stock/counts/{count['id']}/entries",
                                            {"location": bin_, "code": c, "qty": 1}), ["]C0" + SF, "BK-801", bin_]),
        "count entry location": (counter, lambda c: ("POST", f"/api/stock/counts/{count['id']}/entries",
                                                     {"location": c, "code": BARCODE, "qty": 1}),
                                 ["]E0" + BARCODE, "]C0" + SF, "BK-801"]),
        "lookup": (manager, lambda c: ("GET", "/api/stock/items/lookup", {"code": c}), ["]C0" + SF, bin_, "BK-801"]),
    }
    return {"floor": floor, "engine": engine, "steps": steps}


def _send(scene, step: str, code: str):
    session, build, _ = scene["steps"][step]
    method, path, body = build(code)
    floor = scene["floor"]
    if method == "GET":
        return session.get(floor.url(path), params=body, timeout=15)
    return call(session, floor, method, path, body)


def _assert_refused_clearly(answer, field: str | None) -> None:
    assert 400 <= answer.status_code < 500, (answer.status_code, answer.text[:300])
    body = answer.json()
    assert set(body) == {"error"} and body["error"]["code"] and body["error"]["message"], body
    if field is not None:
        assert field in str(body["error"]["details"]), body


def _assert_unknown(answer, what) -> None:
    if answer.status_code == 200:
        assert answer.json()["result"] in SCAN_RESULTS_FOR_WRONG_CODES, (what, answer.json())
    else:
        _assert_refused_clearly(answer, None)


STEPS = ("pick scan", "verification waybill", "verification item", "receive", "putaway", "count entry",
         "count entry location", "lookup")
FIELD = {"verification waybill": "waybill", "count entry location": "location"}


def test_scan_steps_refuse_control_chars_and_oversize(scene):
    """Control characters, an empty scan and a 4 KB code at every step: 4xx naming the field, nothing changed."""
    before = snapshot(scene["engine"])
    for step in STEPS:
        for name, code in REFUSED.items():
            answer = _send(scene, step, code)
            assert answer.status_code in (400, 422), (step, name, answer.status_code, answer.text[:300])
            _assert_refused_clearly(answer, FIELD.get(step, "code"))
    assert snapshot(scene["engine"]) == before


def test_scan_steps_unknown_encodings_change_nothing(scene):
    """Emoji, full-width or Arabic-Indic digits, mojibake, invisible marks at every step: unknown, nothing changed."""
    before = snapshot(scene["engine"])
    for step in STEPS:
        for name, code in UNKNOWN.items():
            answer = _send(scene, step, code)
            assert answer.status_code < 500, (step, name, answer.text[:300])
            _assert_unknown(answer, (step, name))
    assert snapshot(scene["engine"]) == before


def test_scan_steps_wrong_step_codes_change_nothing(scene):
    """A waybill, bin, basket or AIM-prefixed code scanned at the wrong step: refused, nothing changed."""
    before = snapshot(scene["engine"])
    for step in STEPS:
        for code in scene["steps"][step][2]:
            answer = _send(scene, step, code)
            assert answer.status_code < 500, (step, code, answer.text[:300])
            _assert_unknown(answer, (step, code))
    assert snapshot(scene["engine"]) == before


def test_scan_steps_latin1_bytes_are_malformed_json(scene):
    """A body with raw latin-1 bytes (not UTF-8) at every POST step is 400 malformed_json and changes nothing."""
    before = snapshot(scene["engine"])
    for step in STEPS[:-1]:
        session, build, _ = scene["steps"][step]
        method, path, body = build("PLACEHOLDER")
        raw = json.dumps(body).replace("PLACEHOLDER", "69012\xe9").encode("latin-1")
        answer = session.request(method, scene["floor"].url(path), data=raw, timeout=15,
                                 headers={"Content-Type": "application/json", "Idempotency-Key": str(uuid.uuid4())})
        assert answer.status_code == 400, (step, answer.text[:300])
        assert answer.json()["error"]["code"] == "malformed_json"
    assert snapshot(scene["engine"]) == before


def test_lookup_latin1_query_bytes_refused(scene):
    """A lookup whose query string carries raw latin-1 bytes is a clear 4xx, never a 5xx."""
    session = scene["steps"]["lookup"][0]
    answer = session.get(scene["floor"].url("/api/stock/items/lookup") + "?code=69012%E9", timeout=15)
    assert 400 <= answer.status_code < 500, answer.text[:300]
    assert set(answer.json()) == {"error"}
