"""Receipts, putaway, moves, availability and the internal order endpoints (in-process, real PostgreSQL)."""
from sqlalchemy import text

from common.testing import assert_error
from tests.stock_service.conftest import (
    Caller,
    body,
    ean13,
    ledger_matches_balances,
    movement_count,
    ok,
    setup_floor,
    stock_up,
)


def test_receive_over_expected_needs_force_by_stock_manager(service, manager, engine):
    """Over-receipt: 409 over_receipt; a receiver's force is 403; a stock manager's force goes in."""
    setup_floor(manager)
    receipt = ok(manager.post("/receipts", {"ref": "PO-2026-0042", "lines": [{"sku": "S-1", "qty": 3}]}))
    assert receipt["state"] == "open" and receipt["lines"][0]["expected"] == 3
    receiver = Caller(service("stock", "receiver", badge="EDB_RC001"))
    line = ok(receiver.post(f"/receipts/{receipt['id']}/receive", {"code": ean13(1), "qty": 3}), 200)
    assert (line["expected"], line["received"]) == (3, 3)
    assert_error(receiver.post(f"/receipts/{receipt['id']}/receive", {"code": ean13(1), "qty": 1}), 409, "over_receipt")
    assert_error(receiver.post(f"/receipts/{receipt['id']}/receive", {"code": ean13(1), "qty": 1, "force": True}),
                 403, "force_needs_stock_manager")
    forced = ok(manager.post(f"/receipts/{receipt['id']}/receive", {"code": ean13(1), "qty": 1, "force": True}), 200)
    assert forced["received"] == 4
    assert ok(manager.get("/balances?location=RECEIVING"), 200)["items"] == [
        {"sku": "S-1", "location": "RECEIVING", "lot": "", "qty": 4}]
    ledger_matches_balances(engine)


def test_availability_counts_in_transit_allocated_and_on_hand(manager):
    """in_transit = expected not yet received on open receipts; available = on hand − allocated."""
    setup_floor(manager)
    stock_up(manager, "S-1", 5, "A-01-01-02")
    ok(manager.post("/receipts", {"ref": "PO-OPEN", "lines": [{"sku": "S-1", "qty": 7}]}))
    ok(manager.post("/internal/allocations", {"order_no": "TB1", "lines": [{"sku": "S-1", "qty": 2}]}))
    answer = ok(manager.get("/skus/S-1/availability"), 200)
    assert answer == {"sku": "S-1", "on_hand": 5, "allocated": 2, "available": 3, "in_transit": 7}


def test_putaway_suggest_prefers_bin_holding_sku_else_empty_bin(manager):
    """Suggestion: the bin already holding the SKU, else the first empty bin in walking order."""
    setup_floor(manager)
    stock_up(manager, "S-1", 2, "A-01-01-02")
    assert ok(manager.get("/putaway/suggest?sku=S-1"), 200)["location"] == "A-01-01-02"
    assert ok(manager.get("/putaway/suggest?sku=S-2"), 200)["location"] == "A-01-01-01"


def test_putaway_suggest_home_bin_then_its_zone_never_another_skus_home(manager):
    """No bin holds it: its home bin while no other SKU fills it; then the first empty bin of the home's
    zone, then of the floor, never a bin that is another SKU's home; no empty bin at all is a 404."""
    setup_floor(manager)  # A-01-01-01..03 in zone A, sequence 10, 20, 30
    for code, sequence in (("B-01-01-01", 5), ("B-01-01-02", 6)):
        ok(manager.post("/locations", {"code": code, "kind": "bin", "zone": "B", "sequence": sequence}))
    ok(manager.post("/skus", {"sku": "H-1", "name": "有家", "barcodes": [ean13(7)], "home_bin": "A-01-01-02"}))
    ok(manager.post("/skus", {"sku": "H-2", "name": "也有家", "barcodes": [ean13(8)], "home_bin": "A-01-01-01"}))

    def suggest(sku):
        answer = ok(manager.get(f"/putaway/suggest?sku={sku}"), 200)
        return answer["location"], answer["reason"]

    assert suggest("H-1") == ("A-01-01-02", "home_bin")
    assert suggest("S-2") == ("B-01-01-01", "empty_bin")
    stock_up(manager, "S-1", 1, "A-01-01-02")  # another SKU fills H-1's home
    assert suggest("H-1") == ("A-01-01-03", "empty_bin")  # A-01-01-01 is H-2's home
    stock_up(manager, "S-1", 1, "A-01-01-03")
    assert suggest("H-1") == ("B-01-01-01", "empty_bin")
    stock_up(manager, "S-2", 1, "B-01-01-01")
    stock_up(manager, "S-2", 1, "B-01-01-02")
    assert suggest("S-1") == ("A-01-01-02", "holds_sku")
    assert suggest("H-2") == ("A-01-01-01", "home_bin")
    assert_error(manager.get("/putaway/suggest?sku=H-1"), 404, "no_empty_bin")
    assert_error(manager.get("/putaway/suggest?sku=NOPE"), 404, "unknown_sku")


def test_putaway_to_a_non_bin_is_refused(manager, engine):
    """Putaway goes into a bin, not a basket."""
    setup_floor(manager)
    receipt = ok(manager.post("/receipts", {"ref": "PO-1", "lines": [{"sku": "S-1", "qty": 1}]}))
    ok(manager.post(f"/receipts/{receipt['id']}/receive", {"code": ean13(1), "qty": 1}), 200)
    assert_error(manager.post("/putaway", {"code": ean13(1), "qty": 1, "to": "BK-001"}), 409, "not_a_bin")


def test_moves_insufficient_stock_is_409_and_changes_nothing(manager, engine):
    """Moving more than the bin holds: 409 insufficient_stock, balances untouched."""
    setup_floor(manager)
    stock_up(manager, "S-1", 2, "A-01-01-01")
    details = assert_error(manager.post("/moves", {"sku": "S-1", "qty": 3, "from": "A-01-01-01", "to": "A-01-01-02"}),
                           409, "insufficient_stock")
    assert details["on_hand"] == 2
    moved = ok(manager.post("/moves", {"sku": "S-1", "qty": 2, "from": "A-01-01-01", "to": "A-01-01-02",
                                       "reason": "re-slot"}))
    assert (moved["from"], moved["to"], moved["type"], moved["operator"]) == ("A-01-01-01", "A-01-01-02", "move",
                                                                              "EDB_SM001")
    assert ledger_matches_balances(engine)[("S-1", "A-01-01-02", "")] == 2


def test_pick_plan_splits_a_sku_over_bins_in_walking_order(manager):
    """A SKU one bin cannot cover is split, tasks sorted by bin sequence."""
    floor = setup_floor(manager)
    stock_up(manager, "S-1", 2, "A-01-01-03")
    stock_up(manager, "S-1", 2, "A-01-01-01")
    stock_up(manager, "S-2", 5, "A-01-01-02")
    plan = ok(manager.post("/internal/pick-plan", {"lines": [{"sku": "S-1", "qty": 3}, {"sku": "S-2", "qty": 1}]}),
              200)
    assert [(t["seq"], t["location"], t["sku"], t["qty"]) for t in plan["tasks"]] == [
        (1, "A-01-01-01", "S-1", 2), (2, "A-01-01-02", "S-2", 1), (3, "A-01-01-03", "S-1", 1)]
    assert plan["tasks"][0]["name"] == "商品 1"
    # Each task carries its item's barcodes: a pick start needs no lookup per SKU.
    assert [t["barcodes"] for t in plan["tasks"]] == [[floor["barcode"][t["sku"]]] for t in plan["tasks"]]


def test_internal_pick_ship_return_are_idempotent_by_reference(manager, engine):
    """Repeats of a pick, a shipment and a return write nothing new and answer the first movements."""
    setup_floor(manager)
    stock_up(manager, "S-1", 4, "A-01-01-01")
    allocation = ok(manager.post("/internal/allocations", {"order_no": "TB9", "lines": [{"sku": "S-1", "qty": 2}]}))
    assert allocation["lines"] == [{"sku": "S-1", "qty": 2}]
    again = ok(manager.post("/internal/allocations", {"order_no": "TB9", "lines": [{"sku": "S-1", "qty": 2}]}), 200)
    assert again["order_no"] == "TB9"
    pick = {"reference": "pick:1", "basket": "BK-001", "lines": [{"sku": "S-1", "qty": 2, "from": "A-01-01-01"}]}
    first = ok(manager.post("/internal/picks", pick))
    assert ok(manager.post("/internal/picks", pick), 200) == first
    ship = {"order_no": "TB9", "basket": "BK-001", "lines": [{"sku": "S-1", "qty": 2}]}
    shipped = ok(manager.post("/internal/shipments", ship))
    assert ok(manager.post("/internal/shipments", ship), 200) == shipped
    ret = {"reference": "RT-1", "order_no": "TB9", "lines": [{"sku": "S-1", "qty": 1}], "condition": "damaged"}
    returned = ok(manager.post("/internal/returns", ret))
    assert ok(manager.post("/internal/returns", ret), 200) == returned
    assert returned["movements"][0]["to"] == "RETURNS"
    balances = ledger_matches_balances(engine)
    assert balances == {("S-1", "A-01-01-01", ""): 2, ("S-1", "RETURNS", ""): 1}
    assert ok(manager.get("/skus/S-1/availability"), 200)["allocated"] == 0


def test_pick_of_many_lines_short_on_its_last_is_409_and_moves_nothing(manager, engine):
    """Lines move in one unit: the last one short refuses them all, with what its bin held, and no row changes."""
    setup_floor(manager)
    stock_up(manager, "S-1", 4, "A-01-01-01")
    stock_up(manager, "S-2", 1, "A-01-01-02")
    before = ledger_matches_balances(engine)
    moved = movement_count(engine)
    # The same bin twice: the second line is checked against what the first left (4 - 3 = 1 < 2).
    details = assert_error(manager.post("/internal/picks", {"reference": "pick:77", "basket": "BK-001", "lines": [
        {"sku": "S-2", "qty": 1, "from": "A-01-01-02"}, {"sku": "S-1", "qty": 3, "from": "A-01-01-01"},
        {"sku": "S-1", "qty": 2, "from": "A-01-01-01"}]}), 409, "insufficient_stock")
    assert details == {"sku": "S-1", "location": "A-01-01-01", "lot": "", "on_hand": 1, "requested": 2}
    assert ledger_matches_balances(engine) == before and movement_count(engine) == moved
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM stock.balances WHERE location = 'BK-001'")).scalar() == 0


def test_allocation_short_is_409_with_lines(manager):
    """Allocating more than available names the short lines."""
    setup_floor(manager)
    stock_up(manager, "S-1", 1, "A-01-01-01")
    details = assert_error(manager.post("/internal/allocations", {"order_no": "TB2", "lines": [
        {"sku": "S-1", "qty": 2}]}), 409, "insufficient_stock")
    assert details["lines"] == [{"sku": "S-1", "qty": 2, "available": 1}]
    released = ok(manager.post("/internal/allocations", {"order_no": "TB3", "lines": [{"sku": "S-1", "qty": 1}]}))
    assert released["state"] == "open"
    assert ok(manager.post("/internal/allocations/TB3/release", {}), 200)["released"] is True
    assert ok(manager.get("/skus/S-1/availability"), 200)["available"] == 1


def test_allocation_changed_order_replaces_lines_counting_its_own_hold(manager):
    """An order changed before picking re-allocates against what it already held; a shipped one stays."""
    setup_floor(manager)
    stock_up(manager, "S-1", 3, "A-01-01-01")
    ok(manager.post("/internal/allocations", {"order_no": "TB5", "lines": [{"sku": "S-1", "qty": 2}]}))
    changed = ok(manager.post("/internal/allocations", {"order_no": "TB5", "lines": [{"sku": "S-1", "qty": 3}]}))
    assert changed["lines"] == [{"sku": "S-1", "qty": 3}]
    assert ok(manager.get("/skus/S-1/availability"), 200)["available"] == 0
    assert_error(manager.post("/internal/allocations", {"order_no": "TB6", "lines": [{"sku": "S-1", "qty": 1}]}),
                 409, "insufficient_stock")


def test_internal_shipment_without_basket_ships_from_bins(manager, engine):
    """An order verified without a pick session ships from its bins in walking order, once."""
    setup_floor(manager)
    stock_up(manager, "S-1", 1, "A-01-01-01")
    stock_up(manager, "S-1", 5, "A-01-01-03")
    ok(manager.post("/internal/allocations", {"order_no": "TB7", "lines": [{"sku": "S-1", "qty": 3}]}))
    ship = {"order_no": "TB7", "basket": None, "lines": [{"sku": "S-1", "qty": 3}]}
    shipped = ok(manager.post("/internal/shipments", ship))
    assert [(m["from"], m["qty"]) for m in shipped["movements"]] == [("A-01-01-01", 1), ("A-01-01-03", 2)]
    assert ok(manager.post("/internal/shipments", ship), 200) == shipped
    assert ledger_matches_balances(engine) == {("S-1", "A-01-01-03", ""): 3}
    assert ok(manager.get("/skus/S-1/availability"), 200)["allocated"] == 0


def test_internal_shipment_without_basket_short_is_409(manager, engine):
    """Bins holding too little refuse the shipment and move nothing."""
    setup_floor(manager)
    stock_up(manager, "S-1", 1, "A-01-01-01")
    before = movement_count(engine)
    answer = manager.post("/internal/shipments", {"order_no": "TB8", "lines": [{"sku": "S-1", "qty": 2}]})
    assert answer.status_code == 409 and body(answer)["error"]["code"] == "insufficient_stock"
    assert movement_count(engine) == before


def test_internal_intercept_moves_basket_to_shelf_once(manager, engine):
    """A stopped parcel's units go from its basket to the intercept shelf, once; its stock is freed."""
    setup_floor(manager)
    stock_up(manager, "S-1", 4, "A-01-01-01")
    ok(manager.post("/internal/allocations", {"order_no": "TB5", "lines": [{"sku": "S-1", "qty": 3}]}))
    # A short pick: two of the three units reached the basket.
    ok(manager.post("/internal/picks", {"reference": "pick:5", "basket": "BK-005",
                                        "lines": [{"sku": "S-1", "qty": 2, "from": "A-01-01-01"}]}))
    stop = {"order_no": "TB5", "basket": "BK-005", "lines": [{"sku": "S-1", "qty": 3}]}
    moved = ok(manager.post("/internal/intercepts", stop))
    assert [(m["from"], m["to"], m["qty"]) for m in moved["movements"]] == [("BK-005", "INTERCEPT", 2)]
    assert ok(manager.post("/internal/intercepts", stop), 200) == moved
    assert ledger_matches_balances(engine) == {("S-1", "A-01-01-01", ""): 2, ("S-1", "INTERCEPT", ""): 2}
    assert ok(manager.get("/skus/S-1/availability"), 200)["allocated"] == 0
