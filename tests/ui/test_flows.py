"""The handheld scenarios end to end: a real browser, the live gateway and services, real scans."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.ui.stockroom import ITEMS, ORDER, SF, get, on_hand, post, stock_up

pytestmark = pytest.mark.live
BARCODE = {sku: v[1] for sku, v in ITEMS.items()}
BIN = {sku: v[2] for sku, v in ITEMS.items()}


def picked_order(floor, manager):
    """The order imported and picked through the API, ready for the verifier."""
    post(manager, floor, "/api/scan/orders", ORDER, 201)
    picker = floor.login("picker", badge="EDB_PH950")
    pick = post(picker, floor, "/api/scan/picks", {"basket": "BK-950", "orders": [ORDER["order_no"]]}, 201)
    for task in pick["tasks"]:
        post(picker, floor, f"/api/scan/picks/{pick['id']}/scan", {"code": task["location"]})
        for _ in range(task["qty"]):
            answer = post(picker, floor, f"/api/scan/picks/{pick['id']}/scan", {"code": BARCODE[task["sku"]]})
            assert answer["result"] == "ok", answer
    post(picker, floor, f"/api/scan/picks/{pick['id']}/complete", {})


def test_pick_whole_basket_in_walking_order(handheld, floor):
    """A picker scans the basket, each bin and each unit, and completes: the server counts every unit."""
    manager = stock_up(floor)
    post(manager, floor, "/api/scan/orders", ORDER, 201)
    handheld.login("EDB_PH201", ("picker",))
    handheld.task("pick")
    handheld.state("pick", "scan_basket")
    handheld.scan("BK-017")
    handheld.state("pick", "scan_bin")
    page = handheld.page
    expect(page.locator("#task-bin")).to_have_text(BIN["MUG-01"])  # walking order: aisle 01 first
    handheld.scan("A-01-09-09")
    handheld.message("error")  # a bin with nothing to pick
    handheld.state("pick", "scan_bin")
    handheld.scan(BIN["MUG-01"])
    handheld.state("pick", "scan_item")
    expect(page.locator("#qty-left")).to_have_text("1")
    handheld.scan(BARCODE["MUG-01"])
    handheld.state("pick", "scan_bin")
    expect(page.locator("#task-bin")).to_have_text(BIN["TS-001-RED-M"])
    handheld.scan(BIN["TS-001-RED-M"])
    handheld.state("pick", "scan_item")
    expect(page.locator("#qty-left")).to_have_text("2")
    handheld.scan(BARCODE["TS-001-RED-M"])
    expect(page.locator("#qty-left")).to_have_text("1")
    handheld.scan(BARCODE["TS-001-RED-M"])  # a quantity step: the same code again is one more unit
    handheld.state("pick", "complete")
    page.locator("#complete").tap()
    handheld.state("pick", "done")
    expect(page.locator("#pick-state")).to_have_attribute("data-state", "picked")
    pick = get(manager, floor, "/api/scan/orders/" + ORDER["order_no"])
    assert pick["state"] not in ("new", "printed", "audited"), pick["state"]


def test_verify_wrong_item_red_row_then_right_item_green(handheld, floor):
    """Buyer's note first; a wrong item shows a red row without a refresh; the right ones go green; ship."""
    manager = stock_up(floor)
    picked_order(floor, manager)
    post(manager, floor, "/api/stock/skus", {"sku": "SOCK-1", "name": "袜子", "barcodes": ["6901234567816"]})
    handheld.login("EDB_YH202", ("verifier",))
    handheld.task("verify")
    handheld.scan(SF)
    handheld.state("verify", "read_notes")
    expect(handheld.page.locator("#notes")).to_contain_text("请用纸箱")
    handheld.page.locator("#notes-ack").tap()
    handheld.state("verify", "scan_item")
    page = handheld.page
    page.evaluate("() => { document.getElementById('verify-lines').dataset.marker = 'same-table'; }")
    handheld.scan("6901234567816")
    handheld.message("error")
    expect(page.locator("#wrong-row")).to_be_visible()
    expect(page.locator("#wrong-row")).to_contain_text("6901234567816")
    handheld.shot("verify-wrong-item")
    assert page.url.endswith("/")  # no navigation, no reload
    assert page.evaluate("() => sessionStorage.getItem('wms.token') !== null")
    handheld.scan(BARCODE["MUG-01"])
    handheld.message("ok")
    expect(page.locator("#wrong-row")).to_have_count(0)
    expect(page.locator("tr.row-ok[data-sku='MUG-01']")).to_be_visible()
    expect(page.locator("tr[data-sku='MUG-01'] .scanned")).to_have_text("1")
    handheld.scan(BARCODE["TS-001-RED-M"])
    handheld.scan(BARCODE["TS-001-RED-M"])
    handheld.state("verify", "complete")
    page.locator("#verify-complete").tap()
    handheld.state("verify", "done")
    expect(page.locator("#verify-state")).to_have_attribute("data-state", "shipped")
    lines = get(manager, floor, "/api/scan/orders/" + ORDER["order_no"])
    assert lines["state"] == "shipped"


def test_verify_intercepted_waybill_raises_blocking_alarm(handheld, floor):
    """A parcel cancelled after printing: a full-screen alarm that blocks scanning until acknowledged."""
    manager = stock_up(floor)
    picked_order(floor, manager)
    post(manager, floor, f"/api/scan/orders/{ORDER['order_no']}/cancel", {"reason": "refund"})
    handheld.login("EDB_YH203", ("verifier",))
    handheld.task("verify")
    handheld.scan(SF)
    alarm = handheld.page.locator("#alarm")
    expect(alarm).to_be_visible()
    expect(alarm).to_have_attribute("role", "alertdialog")
    box = alarm.bounding_box()
    assert box and box["width"] >= 360 and box["height"] >= 640
    handheld.shot("verify-alarm-intercepted")
    handheld.scan(BARCODE["MUG-01"])  # scanning on does nothing but buzz
    handheld.message("error")
    expect(alarm).to_be_visible()
    handheld.page.locator("#alarm-ack").tap()
    expect(alarm).to_be_hidden()
    handheld.state("verify", "scan_waybill")
    assert get(manager, floor, "/api/scan/orders/" + ORDER["order_no"])["state"] == "intercepted"


def test_pick_scan_offline_is_replayed_exactly_once(handheld, floor):
    """An item scanned with the Wi-Fi down waits in the outbox, then counts once on the server."""
    manager = stock_up(floor)
    post(manager, floor, "/api/scan/orders", ORDER, 201)
    handheld.login("EDB_PH204", ("picker",))
    handheld.task("pick")
    handheld.scan("BK-018")
    handheld.scan(BIN["MUG-01"])
    handheld.state("pick", "scan_item")
    pick_id = handheld.page.evaluate("() => import('/ui/js/app.js').then(m => m.runner.data.pick.id)")
    handheld.context.set_offline(True)
    handheld.scan(BARCODE["MUG-01"])
    handheld.message("warn")
    expect(handheld.page.locator("#outbox-count")).to_have_attribute("data-count", "1")
    handheld.shot("pick-offline-waiting")
    picker = floor.login("picker", badge="EDB_PH204")
    before = get(picker, floor, f"/api/scan/picks/{pick_id}")
    assert [t["picked"] for t in before["tasks"] if t["sku"] == "MUG-01"] == [0]
    handheld.context.set_offline(False)
    expect(handheld.page.locator("#outbox-count")).to_have_attribute("data-count", "0", timeout=15_000)
    handheld.page.wait_for_timeout(500)
    after = get(picker, floor, f"/api/scan/picks/{pick_id}")
    assert [t["picked"] for t in after["tasks"] if t["sku"] == "MUG-01"] == [1]
    handheld.state("pick", "scan_bin")
    expect(handheld.page.locator("#task-bin")).to_have_text(BIN["TS-001-RED-M"])


def test_blind_count_never_shows_expected_and_submits(handheld, floor):
    """A counter scans the bin and units, types a quantity, submits; the screen never shows the expected 10."""
    manager = stock_up(floor)
    handheld.login("EDB_PD205", ("counter",))
    handheld.task("count")
    handheld.scan(BIN["MUG-01"])
    handheld.state("count", "scan_items")
    handheld.scan(BARCODE["MUG-01"])
    handheld.scan(BARCODE["MUG-01"])  # a quantity step: a repeat counts
    row = handheld.page.locator("#count-lines tr[data-code='6901234567809'] td.num")
    expect(row).to_have_text("2")
    handheld.page.locator("#count-qty").fill("5")
    handheld.page.locator("#count-add").tap()
    expect(row).to_have_text("7")
    assert "10" not in handheld.page.locator("main").inner_text()
    handheld.shot("count-scan-items")
    handheld.page.locator("#count-submit").tap()
    handheld.state("count", "done")
    state = handheld.page.locator("#count-state").get_attribute("data-state")
    assert state in ("submitted", "recount")
    counts = get(manager, floor, "/api/stock/counts?limit=10")["items"]
    assert len(counts) == 1 and counts[0]["state"] != "open"
    variances = get(manager, floor, f"/api/stock/counts/{counts[0]['id']}/variances")["items"]
    assert [(v["sku"], v["counted"], v["expected"]) for v in variances] == [("MUG-01", 7, 10)]


def test_lookup_and_putaway(handheld, floor):
    """Lookup shows the item big with its bins; putaway moves received units to the scanned bin."""
    manager = stock_up(floor)
    receipt = post(manager, floor, "/api/stock/receipts", {"ref": "PO-UI-2", "lines": [{"sku": "MUG-01", "qty": 3}]})
    post(manager, floor, f"/api/stock/receipts/{receipt['id']}/receive", {"code": BARCODE["MUG-01"], "qty": 3})
    handheld.login("EDB_SH206", ("receiver",))
    handheld.task("lookup")
    handheld.scan(BARCODE["MUG-01"])
    handheld.state("lookup", "item")
    expect(handheld.page.locator("h1.item-name")).to_have_text("马克杯")
    expect(handheld.page.locator("main table")).to_contain_text(BIN["MUG-01"])
    handheld.page.locator("#home").tap()
    handheld.task("putaway")
    handheld.scan(BARCODE["MUG-01"])
    handheld.state("putaway", "scan_bin")
    expect(handheld.page.locator("#suggested-bin")).to_have_text(BIN["MUG-01"])
    handheld.page.locator("#putaway-qty").fill("3")
    handheld.scan(BIN["MUG-01"])
    handheld.state("putaway", "scan_item")
    handheld.message("ok")
    assert on_hand(manager, floor, "MUG-01").get(BIN["MUG-01"]) == 13
