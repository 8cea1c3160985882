"""A walk's openings (allocations, pick plan, picks, shipments): a fixed number of statements, batch allocations."""
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from common.testing import assert_error, statements
from stock_service.domain import stock
from tests.stock_service.conftest import ean13, ledger_matches_balances, ok, setup_floor, stock_up

SKUS = 8


def stocked(manager, skus: int = SKUS, qty: int = 5) -> None:
    """SKUs S-1.. each with `qty` units in their own bin A-01-01-<n>."""
    setup_floor(manager, skus=skus, bins=skus)
    for n in range(1, skus + 1):
        stock_up(manager, f"S-{n}", qty, f"A-01-01-{n:02d}")


def lines(first: int, count: int, qty: int = 1) -> list[dict]:
    return [{"sku": f"S-{n}", "qty": qty} for n in range(first, first + count)]


def available(manager, sku: str) -> int:
    return ok(manager.get(f"/skus/{sku}/availability"), 200)["available"]


def test_pick_plan_statements_do_not_grow_with_its_skus(manager):
    """A plan of eight SKUs costs what a plan of one does: one statement (items, barcodes, bins)."""
    stocked(manager)
    with statements() as one:
        ok(manager.post("/internal/pick-plan", {"lines": lines(1, 1)}), 200)
    with statements() as eight:
        plan = ok(manager.post("/internal/pick-plan", {"lines": lines(1, SKUS)}), 200)
    assert len(plan["tasks"]) == SKUS and not plan["short"]
    assert len(one) == len(eight) == 1, (len(one), len(eight))


def test_picks_statements_do_not_grow_with_their_lines(manager, engine):
    """Moving eight lines into a basket costs the statements of moving one."""
    stocked(manager)
    with statements() as one:
        ok(manager.post("/internal/picks", {"reference": "pick:1", "basket": "BK-001", "lines": [
            {"sku": "S-1", "qty": 1, "from": "A-01-01-01"}]}))
    with statements() as eight:
        moved = ok(manager.post("/internal/picks", {"reference": "pick:2", "basket": "BK-001", "lines": [
            {"sku": f"S-{n}", "qty": 1, "from": f"A-01-01-{n:02d}"} for n in range(1, SKUS + 1)]}))
    assert [(m["sku"], m["from"], m["to"]) for m in moved["movements"]] == [
        (f"S-{n}", f"A-01-01-{n:02d}", "BK-001") for n in range(1, SKUS + 1)]
    assert 0 < len(one) == len(eight), (len(one), len(eight))
    balances = ledger_matches_balances(engine)
    assert balances[("S-1", "BK-001", "")] == 2 and balances[("S-1", "A-01-01-01", "")] == 3


def test_picks_are_six_statements_and_an_unknown_sku_moves_nothing(manager, engine):
    """The reference's lock and its movements, the basket, the ledger's three (with an Idempotency-Key,
    its insert at the commit): the SKUs are checked by the ledger's first. An unknown SKU is a 404
    naming its line, and nothing moves."""
    stocked(manager, skus=2)
    with statements() as sent:
        ok(manager.post("/internal/picks", {"reference": "pick:1", "basket": "BK-001", "lines": [
            {"sku": "S-1", "qty": 1, "from": "A-01-01-01"}, {"sku": "S-2", "qty": 1, "from": "A-01-01-02"}]}))
    assert len(sent) == 6, sent
    unknown = manager.post("/internal/picks", {"reference": "pick:2", "basket": "BK-002", "lines": [
        {"sku": "S-1", "qty": 1, "from": "A-01-01-01"}, {"sku": "NOPE", "qty": 1, "from": "A-01-01-02"}]})
    assert assert_error(unknown, 404, "unknown_sku") == {"lines.1.sku": "NOPE"}
    shipped = manager.post("/internal/shipments", {"order_no": "TB1", "basket": "BK-001", "lines": [
        {"sku": "S-1", "qty": 1}, {"sku": "NOPE", "qty": 1}, {"sku": "S-2", "qty": 1}]})
    assert assert_error(shipped, 404, "unknown_sku") == {"lines.1.sku": "NOPE"}
    assert ledger_matches_balances(engine) == {("S-1", "A-01-01-01", ""): 4, ("S-2", "A-01-01-02", ""): 4,
                                               ("S-1", "BK-001", ""): 1, ("S-2", "BK-001", ""): 1}
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM stock.locations WHERE code = 'BK-002'")).scalar() == 0


def test_allocations_and_shipments_statements_do_not_grow_with_their_lines(manager):
    """An order of eight lines is allocated and shipped with the statements of an order of one."""
    stocked(manager)
    with statements() as one:
        ok(manager.post("/internal/allocations", {"order_no": "TB1", "lines": lines(1, 1)}))
    with statements() as eight:
        ok(manager.post("/internal/allocations", {"order_no": "TB8", "lines": lines(1, SKUS)}))
    assert 0 < len(one) == len(eight), (len(one), len(eight))
    picked = [{"sku": f"S-{n}", "qty": 1, "from": f"A-01-01-{n:02d}"} for n in range(1, SKUS + 1)]
    ok(manager.post("/internal/picks", {"reference": "pick:1", "basket": "BK-001", "lines": picked + picked[:1]}))
    with statements() as one:
        ok(manager.post("/internal/shipments", {"order_no": "TB1", "basket": "BK-001", "lines": lines(1, 1)}))
    with statements() as eight:
        shipped = ok(manager.post("/internal/shipments", {"order_no": "TB8", "basket": "BK-001",
                                                          "lines": lines(1, SKUS)}))
    assert len(shipped["movements"]) == SKUS
    assert 0 < len(one) == len(eight), (len(one), len(eight))
    assert ok(manager.get("/skus/S-1/availability"), 200)["allocated"] == 0


def test_allocations_batch_promises_every_order(manager):
    """A basket's orders in one call: each allocated as alone; a repeat answers 200 and changes nothing."""
    stocked(manager, skus=2, qty=3)
    batch = {"orders": [{"order_no": "TB1", "lines": [{"sku": "S-1", "qty": 2}]},
                        {"order_no": "TB2", "lines": [{"sku": "S-2", "qty": 1}, {"sku": "S-1", "qty": 1}]}]}
    answer = ok(manager.post("/internal/allocations/batch", batch))
    assert answer == {"allocations": [
        {"order_no": "TB1", "state": "open", "lines": [{"sku": "S-1", "qty": 2}]},
        {"order_no": "TB2", "state": "open", "lines": [{"sku": "S-1", "qty": 1}, {"sku": "S-2", "qty": 1}]}]}
    assert ok(manager.post("/internal/allocations/batch", batch), 200) == answer
    assert (available(manager, "S-1"), available(manager, "S-2")) == (0, 2)
    # Each order stays an allocation of its own: one alone answers as it stands.
    single = ok(manager.post("/internal/allocations", {"order_no": "TB2", "lines": [
        {"sku": "S-1", "qty": 1}, {"sku": "S-2", "qty": 1}]}), 200)
    assert single == answer["allocations"][1]


def test_allocations_batch_with_plan_answers_the_walk_in_the_same_call(manager):
    """`plan: true` adds the pick plan of all the orders' lines, as pick-plan answers it."""
    stocked(manager, skus=2, qty=3)
    batch = {"orders": [{"order_no": "TB1", "lines": [{"sku": "S-2", "qty": 1}]},
                        {"order_no": "TB2", "lines": [{"sku": "S-1", "qty": 1}, {"sku": "S-2", "qty": 1}]}],
             "plan": True}
    answer = ok(manager.post("/internal/allocations/batch", batch))
    assert [a["order_no"] for a in answer["allocations"]] == ["TB1", "TB2"]
    alone = ok(manager.post("/internal/pick-plan", {"lines": lines(1, 1) + lines(2, 1, qty=2)}), 200)
    assert answer["plan"] == alone
    assert [(t["seq"], t["sku"], t["qty"], t["barcodes"]) for t in alone["tasks"]] == [
        (1, "S-1", 1, [ean13(1)]), (2, "S-2", 2, [ean13(2)])]
    assert (available(manager, "S-1"), available(manager, "S-2")) == (2, 1)


def test_allocations_batch_refused_carries_no_plan_and_holds_nothing(manager):
    """A short batch asked for its plan is refused like any other: 409, nothing held."""
    stocked(manager, skus=1, qty=1)
    batch = {"orders": [{"order_no": "TB1", "lines": [{"sku": "S-1", "qty": 2}]}], "plan": True}
    assert_error(manager.post("/internal/allocations/batch", batch), 409, "insufficient_stock")
    assert available(manager, "S-1") == 1


def test_items_names_the_known_skus_in_statements_that_do_not_grow(manager):
    """A parcel's SKUs described in one call: name, picture, barcodes; an unknown SKU is left out."""
    stocked(manager)
    with statements() as one:
        ok(manager.post("/internal/items", {"skus": ["S-1"]}), 200)
    with statements() as eight:
        answer = ok(manager.post("/internal/items", {"skus": [f"S-{n}" for n in range(SKUS, 0, -1)] + ["NOPE"]}),
                    200)
    assert 0 < len(one) == len(eight), (len(one), len(eight))
    assert sorted((i["sku"], i["name"], i["barcodes"]) for i in answer["items"]) == sorted(
        (f"S-{n}", f"商品 {n}", [ean13(n)]) for n in range(1, SKUS + 1))


def test_items_bad_input_is_422(manager):
    for body in ({}, {"skus": []}, {"skus": "S-1"}, {"skus": [""]}):
        assert_error(manager.post("/internal/items", body), 422, "invalid_input")


def test_allocations_batch_short_order_refuses_them_all(manager):
    """The orders of a batch count against each other; one short order and none is allocated (409 names it)."""
    stocked(manager, skus=2, qty=3)
    batch = {"orders": [{"order_no": "TB1", "lines": [{"sku": "S-1", "qty": 2}, {"sku": "S-2", "qty": 1}]},
                        {"order_no": "TB2", "lines": [{"sku": "S-1", "qty": 2}]}]}
    details = assert_error(manager.post("/internal/allocations/batch", batch), 409, "insufficient_stock")
    assert details == {"order_no": "TB2", "lines": [{"sku": "S-1", "qty": 2, "available": 1}]}
    assert (available(manager, "S-1"), available(manager, "S-2")) == (3, 3)
    assert_error(manager.post("/internal/allocations/TB1/release", {}), 404, "unknown_allocation")


def test_allocations_batch_changed_order_counts_its_own_hold(manager):
    """An open order sent again in a batch with more lines competes only for what it did not hold."""
    stocked(manager, skus=1, qty=3)
    ok(manager.post("/internal/allocations", {"order_no": "TB5", "lines": [{"sku": "S-1", "qty": 2}]}))
    answer = ok(manager.post("/internal/allocations/batch", {"orders": [
        {"order_no": "TB5", "lines": [{"sku": "S-1", "qty": 3}]}]}))
    assert answer["allocations"][0]["lines"] == [{"sku": "S-1", "qty": 3}]
    assert available(manager, "S-1") == 0


def test_allocations_batch_unknown_sku_is_404_naming_order_and_line(manager):
    """An unknown SKU names its order's and line's place in the batch; nothing is allocated."""
    stocked(manager, skus=1)
    details = assert_error(manager.post("/internal/allocations/batch", {"orders": [
        {"order_no": "TB1", "lines": [{"sku": "S-1", "qty": 1}]},
        {"order_no": "TB2", "lines": [{"sku": "S-1", "qty": 1}, {"sku": "NOPE", "qty": 1}]}]}), 404, "unknown_sku")
    assert details == {"orders.1.lines.1.sku": "NOPE"}
    assert available(manager, "S-1") == 5


def test_allocations_batch_same_order_twice_is_422(manager):
    """An order number given twice in one batch is refused before anything is read."""
    stocked(manager, skus=1)
    order = {"order_no": "TB1", "lines": [{"sku": "S-1", "qty": 1}]}
    assert_error(manager.post("/internal/allocations/batch", {"orders": [order, order]}), 422, "invalid_input")
    assert available(manager, "S-1") == 5


def test_allocation_released_then_allocated_again_is_promised_again(manager):
    """Release gives the units back; the same order allocated again holds them again; shipping ends it."""
    stocked(manager, skus=1, qty=3)
    ok(manager.post("/internal/allocations", {"order_no": "TB1", "lines": [{"sku": "S-1", "qty": 2}]}))
    ok(manager.post("/internal/allocations/TB1/release", {}), 200)
    assert available(manager, "S-1") == 3
    again = ok(manager.post("/internal/allocations", {"order_no": "TB1", "lines": [{"sku": "S-1", "qty": 3}]}))
    assert again == {"order_no": "TB1", "state": "open", "lines": [{"sku": "S-1", "qty": 3}]}
    assert available(manager, "S-1") == 0
    ok(manager.post("/internal/picks", {"reference": "pick:1", "basket": "BK-001", "lines": [
        {"sku": "S-1", "qty": 3, "from": "A-01-01-01"}]}))
    ok(manager.post("/internal/shipments", {"order_no": "TB1", "basket": "BK-001", "lines": lines(1, 1, qty=3)}))
    assert ok(manager.get("/skus/S-1/availability"), 200) == {
        "sku": "S-1", "on_hand": 0, "allocated": 0, "available": 0, "in_transit": 0}
    assert ok(manager.post("/internal/allocations/TB1/release", {}), 200) == {
        "order_no": "TB1", "released": False, "state": "shipped"}


def test_allocated_reads_open_orders_only_however_many_shipped(manager, engine):
    """What a SKU has promised is summed from its open orders' lines by index, never from the shipped ones."""
    stocked(manager, skus=1, qty=3)
    ok(manager.post("/internal/allocations", {"order_no": "TB1", "lines": [{"sku": "S-1", "qty": 1}]}))
    with engine.begin() as conn:
        # A season of shipped orders for the same SKU, written the fast way.
        conn.execute(text("INSERT INTO stock.allocations (order_no, state) "
                          "SELECT 'H' || g, 'shipped' FROM generate_series(1, 20000) g"))
        conn.execute(text("INSERT INTO stock.allocation_lines (order_no, sku, qty, held) "
                          "SELECT 'H' || g, 'S-1', 1, false FROM generate_series(1, 20000) g"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM (ANALYZE) stock.allocations, stock.allocation_lines"))
    assert available(manager, "S-1") == 2
    sent = []
    with Session(engine) as session:
        event.listen(engine, "before_cursor_execute", keep := lambda *args: sent.append(args[2:4]))
        try:
            assert stock.allocated_of(session, "S-1") == 1
        finally:
            event.remove(engine, "before_cursor_execute", keep)
        statement, parameters = sent[-1]
        plan = "\n".join(row[0] for row in session.connection().exec_driver_sql(
            "EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters))
    assert "allocation_lines_held_sku" in plan and "allocations " not in plan, plan
    assert "Rows Removed" not in plan, plan


def test_allocations_batch_statements_do_not_grow_with_orders_or_lines(manager):
    """A basket of five orders of eight lines, with its plan, costs the statements of one order of one line."""
    stocked(manager, qty=10)
    with statements() as one:
        ok(manager.post("/internal/allocations/batch", {"orders": [{"order_no": "TB1", "lines": lines(1, 1)}],
                                                        "plan": True}))
    basket = [{"order_no": f"TB{n}", "lines": lines(1, SKUS)} for n in range(2, 7)]
    with statements() as five:
        answer = ok(manager.post("/internal/allocations/batch", {"orders": basket, "plan": True}))
    assert 0 < len(one) == len(five), (len(one), len(five))
    assert [a["order_no"] for a in answer["allocations"]] == [f"TB{n}" for n in range(2, 7)]
    assert sum(task["qty"] for task in answer["plan"]["tasks"]) == 5 * SKUS
    assert available(manager, "S-1") == 10 - 6


def test_picks_make_a_new_basket_once_and_refuse_a_bin_as_basket(manager, engine):
    """A basket is made on its first pick (a racing first pick reads it); a bin named as basket is a 409."""
    stocked(manager, skus=2)
    one = {"sku": "S-1", "qty": 1, "from": "A-01-01-01"}
    assert_error(manager.post("/internal/picks", {"reference": "pick:bin", "basket": "A-01-01-02", "lines": [one]}),
                 409, "not_a_basket")
    ok(manager.post("/internal/picks", {"reference": "pick:new", "basket": "BK-NEW", "lines": [one]}))
    ok(manager.post("/internal/picks", {"reference": "pick:again", "basket": "BK-NEW", "lines": [one]}))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT kind FROM stock.locations WHERE code = 'BK-NEW'")).scalar_one() == "basket"
    assert ledger_matches_balances(engine)[("S-1", "BK-NEW", "")] == 2
    assert ("S-1", "A-01-01-02", "") not in ledger_matches_balances(engine)
