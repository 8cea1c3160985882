"""The whole floor over real HTTP: import → pick → verify → ship, with stock_service moving goods."""
from __future__ import annotations

import threading
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from rq import SimpleWorker
from sqlalchemy import text

from common.testing import assert_error
from scan_service import jobs
from tests.scan_service.floorkit import SKUS, call, movements, ok, on_hand, stock_up

pytestmark = pytest.mark.live
SF = "SF1234567890123"
ORDER = {"order_no": "TB20261122001", "shop": "天猫旗舰店", "waybill_no": SF, "carrier": "SF", "paid": True,
         "buyer_note": "请用纸箱", "lines": [{"sku": "TS-001-RED-M", "qty": 2}, {"sku": "MUG-01", "qty": 1}]}


@pytest.fixture
def crew(floor, live, monkeypatch):
    """A stocked floor, its supervisor, picker and verifier, and the shipping worker's settings."""
    stock_up(floor)
    monkeypatch.setenv("STOCK_URL", live.url("stock"))
    jobs._context.cache_clear()
    yield (floor.login("supervisor", badge="EDB_ZG001"), floor.login("picker", badge="EDB_PH001"),
           floor.login("verifier", badge="EDB_YH001"))
    jobs._context.cache_clear()


def run_shipping(redis_conn, scheduler: bool = False) -> None:
    SimpleWorker([jobs.SHIPPING_QUEUE], connection=redis_conn).work(burst=True, with_scheduler=scheduler)


def pick_all(floor, picker, refs, basket="BK-017") -> dict:
    pick = ok(call(picker, floor, "POST", "/api/scan/picks", {"basket": basket, "orders": refs}), 201)
    for task in pick["tasks"]:
        assert ok(call(picker, floor, "POST", f"/api/scan/picks/{pick['id']}/scan",
                       {"code": task["location"]}))["result"] == "ok"
        for _ in range(task["qty"]):
            answer = ok(call(picker, floor, "POST", f"/api/scan/picks/{pick['id']}/scan",
                             {"code": SKUS[task["sku"]][1]}))
            assert answer["result"] == "ok", answer
    return ok(call(picker, floor, "POST", f"/api/scan/picks/{pick['id']}/complete"))


def verify_all(floor, verifier, waybill=SF) -> dict:
    check = ok(call(verifier, floor, "POST", "/api/scan/verifications", {"waybill": waybill}), 201)
    for line in check["lines"]:
        ok(call(verifier, floor, "POST", f"/api/scan/verifications/{check['id']}/scan",
                {"code": SKUS[line["sku"]][1], "qty": line["expected"]}))
    return check


def test_flow_import_pick_verify_ship_moves_exactly_the_order(floor, crew, redis_conn):
    """Stock leaves the bins once, stats and audit count the work once for the right people."""
    supervisor, picker, verifier = crew
    ok(call(supervisor, floor, "POST", "/api/scan/orders", ORDER), 201)
    pick = ok(call(picker, floor, "POST", "/api/scan/picks", {"basket": "BK-017", "orders": [SF]}), 201)
    assert pick["picker"] == "EDB_PH001" and pick["orders"] == ["TB20261122001"]
    assert [t["location"] for t in pick["tasks"]] == ["A-01-01-01", "A-01-02-01"]  # walking order
    first = ok(call(picker, floor, "POST", f"/api/scan/picks/{pick['id']}/scan", {"code": "6901234567892"}))
    assert first["result"] == "wrong_location" and first["next_state"]
    wrong_bin = ok(call(picker, floor, "POST", f"/api/scan/picks/{pick['id']}/scan", {"code": "B-02-01-01"}))
    assert wrong_bin["result"] == "wrong_location"
    at_bin = ok(call(picker, floor, "POST", f"/api/scan/picks/{pick['id']}/scan", {"code": "A-01-01-01"}))
    assert at_bin["result"] == "ok" and at_bin["next_state"] == "scan_item"
    wrong = ok(call(picker, floor, "POST", f"/api/scan/picks/{pick['id']}/scan", {"code": "012345678905"}))
    assert wrong["result"] == "wrong_item"
    unknown = ok(call(picker, floor, "POST", f"/api/scan/picks/{pick['id']}/scan", {"code": "6900000000002"}))
    assert unknown["result"] == "unknown_code"
    mug = ok(call(picker, floor, "POST", f"/api/scan/picks/{pick['id']}/scan", {"code": "]E06901234567809"}))
    assert mug["result"] == "ok" and mug["next_task"]["location"] == "A-01-02-01" and mug["next_state"] == "scan_bin"
    over = ok(call(picker, floor, "POST", f"/api/scan/picks/{pick['id']}/scan", {"code": "6901234567809"}))
    assert over["result"] == "over_qty"
    assert_error(call(picker, floor, "POST", f"/api/scan/picks/{pick['id']}/complete"), 409, "pick_incomplete")
    ok(call(picker, floor, "POST", f"/api/scan/picks/{pick['id']}/scan", {"code": "A-01-02-01"}))
    for _ in range(2):
        last = ok(call(picker, floor, "POST", f"/api/scan/picks/{pick['id']}/scan", {"code": "6901234567892"}))
    assert last["done"] is True and last["next_state"] == "complete"
    done = ok(call(picker, floor, "POST", f"/api/scan/picks/{pick['id']}/complete"))
    assert done["state"] == "picked"
    assert on_hand(supervisor, floor, "TS-001-RED-M") == {"A-01-02-01": 8, "BK-017": 2}

    check = verify_all(floor, verifier)
    assert check["notes"][0]["text"] == "请用纸箱"
    shipped = ok(call(verifier, floor, "POST", f"/api/scan/verifications/{check['id']}/complete"))
    assert shipped["state"] == "shipped"
    run_shipping(redis_conn)
    assert on_hand(supervisor, floor, "TS-001-RED-M") == {"A-01-02-01": 8}
    assert on_hand(supervisor, floor, "MUG-01") == {"A-01-01-01": 9}
    assert sum(m["qty"] for m in movements(supervisor, floor, "TS-001-RED-M", "ship")) == 2

    today = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    stats = {row["badge"]: row for row in
             ok(call(supervisor, floor, "GET", f"/api/scan/stats/operators?date={today}"))["items"]}
    assert (stats["EDB_PH001"]["orders_picked"], stats["EDB_PH001"]["items_picked"]) == (1, 3)
    assert stats["EDB_PH001"]["wrong_scans"] == 5
    assert (stats["EDB_YH001"]["verifications"], stats["EDB_YH001"]["items_verified"]) == (1, 3)
    audit = ok(call(supervisor, floor, "GET", f"/api/scan/audit?date={today}"))
    assert audit["totals"] == {"imported": 1, "picked": 1, "verified": 1, "shipped": 1}
    assert not audit["verified_not_shipped"] and not audit["picked_not_verified"]
    timeline = ok(call(supervisor, floor, "GET", "/api/scan/orders/TB20261122001"))["events"]
    who = {(e["kind"], e["operator"]) for e in timeline}
    assert {("imported", "EDB_ZG001"), ("picked", "EDB_PH001"), ("verified", "EDB_YH001"),
            ("shipped", "EDB_YH001")} <= who
    assert all(e["device"] == "HH-01" for e in timeline)


def test_flow_stock_down_during_verification_ships_once_after(floor, live, crew, redis_conn):
    """stock_service stopped at complete: the parcel ships, the stock moves once when it is back."""
    supervisor, picker, verifier = crew
    ok(call(supervisor, floor, "POST", "/api/scan/orders", ORDER), 201)
    pick_all(floor, picker, ["TB20261122001"])
    check = verify_all(floor, verifier)
    live.stop("stock")
    try:
        shipped = ok(call(verifier, floor, "POST", f"/api/scan/verifications/{check['id']}/complete"))
        assert shipped["state"] == "shipped"
        run_shipping(redis_conn)
        pending = ok(call(supervisor, floor, "GET", "/api/scan/shipments?state=pending"))["items"]
        assert [(p["order_no"], p["attempts"]) for p in pending] == [("TB20261122001", 1)]
    finally:
        live.start("stock")
    deadline = time.monotonic() + 20
    while ok(call(supervisor, floor, "GET", "/api/scan/shipments?state=pending"))["items"]:
        assert time.monotonic() < deadline, "the retried delivery never ran"
        time.sleep(0.5)  # the retry is scheduled with backoff; the scheduler enqueues it when due
        run_shipping(redis_conn, scheduler=True)
    ok(call(supervisor, floor, "POST", "/api/scan/shipments/redrive", {}))
    jobs.deliver_shipment(1)  # a duplicate delivery of the same row finds it delivered
    run_shipping(redis_conn)
    assert sum(m["qty"] for m in movements(supervisor, floor, "TS-001-RED-M", "ship")) == 2
    assert on_hand(supervisor, floor, "TS-001-RED-M") == {"A-01-02-01": 8}


def test_flow_two_verifiers_race_same_waybill_ship_once(floor, crew, redis_conn):
    """Two verifiers completing the same parcel at once through the gateway: exactly one ships it."""
    supervisor, picker, verifier = crew
    other = floor.login("verifier", badge="EDB_YH002")
    ok(call(supervisor, floor, "POST", "/api/scan/orders", ORDER), 201)
    pick_all(floor, picker, ["TB20261122001"])
    checks = [verify_all(floor, verifier), verify_all(floor, other)]
    barrier = threading.Barrier(2)
    answers = []

    def finish(http, check):
        barrier.wait()
        answers.append(call(http, floor, "POST", f"/api/scan/verifications/{check['id']}/complete"))

    threads = [threading.Thread(target=finish, args=pair) for pair in zip((verifier, other), checks)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(a.status_code for a in answers) == [200, 409]
    run_shipping(redis_conn)
    assert sum(m["qty"] for m in movements(supervisor, floor, "MUG-01", "ship")) == 1


def test_flow_pick_scan_replay_counts_once(floor, crew):
    """A pick scan replayed with its Idempotency-Key (patchy Wi-Fi) picks one unit, not two."""
    supervisor, picker, _verifier = crew
    ok(call(supervisor, floor, "POST", "/api/scan/orders", ORDER), 201)
    pick = ok(call(picker, floor, "POST", "/api/scan/picks", {"basket": "BK-017"}), 201)
    assert pick["orders"] == ["TB20261122001"]
    ok(call(picker, floor, "POST", f"/api/scan/picks/{pick['id']}/scan", {"code": "A-01-01-01"}))
    first = call(picker, floor, "POST", f"/api/scan/picks/{pick['id']}/scan", {"code": "6901234567809"}, key="k-1")
    again = call(picker, floor, "POST", f"/api/scan/picks/{pick['id']}/scan", {"code": "6901234567809"}, key="k-1")
    assert again.headers.get("Idempotent-Replayed") == "true" and again.json() == first.json()
    tasks = ok(call(picker, floor, "GET", f"/api/scan/picks/{pick['id']}"))["tasks"]
    assert [t["picked"] for t in tasks] == [1, 0]
    badge = ok(call(picker, floor, "POST", f"/api/scan/picks/{pick['id']}/scan", {"code": "EDB_PH007"}))
    assert badge["result"] == "ok"
    assert ok(call(picker, floor, "GET", f"/api/scan/picks/{pick['id']}"))["picker"] == "EDB_PH007"
    assert_error(call(picker, floor, "POST", "/api/scan/picks", {"basket": "BK-017"}), 409, "basket_in_use")


def test_flow_a_basket_on_a_walk_claims_nothing(floor, crew):
    """A start on a basket already on a walk is 409 basket_in_use, whether it names its orders or takes
    the next waiting: the waiting orders stay waiting, unclaimed, for the next basket."""
    supervisor, picker, _verifier = crew
    ok(call(supervisor, floor, "POST", "/api/scan/orders", ORDER), 201)
    second = ORDER | {"order_no": "TB20261122009", "waybill_no": "SF1234567890999"}
    ok(call(supervisor, floor, "POST", "/api/scan/orders", second), 201)
    ok(call(picker, floor, "POST", "/api/scan/picks", {"basket": "BK-017", "orders": [SF]}), 201)
    for named in ({"orders": ["TB20261122009"]}, {"orders": ["TB-NOPE"]}, {}):
        assert_error(call(picker, floor, "POST", "/api/scan/picks", {"basket": "BK-017"} | named), 409,
                     "basket_in_use")
    assert ok(call(supervisor, floor, "GET", "/api/scan/orders/TB20261122009"))["state"] == "printed"
    assert_error(call(picker, floor, "POST", "/api/scan/picks", {"basket": "BK-018", "orders": ["TB-NOPE"]}),
                 404, "unknown_order")
    moved = ok(call(picker, floor, "POST", "/api/scan/picks", {"basket": "BK-018"}), 201)
    assert moved["orders"] == ["TB20261122009"]
    assert_error(call(picker, floor, "POST", "/api/scan/picks", {"basket": "BK-019"}), 409, "no_waiting_orders")


def test_flow_pick_short_opens_count_and_order_goes_short(floor, crew):
    """A shortage while picking is recorded, opens a count of the bin, and the order goes short."""
    supervisor, picker, _verifier = crew
    ok(call(supervisor, floor, "POST", "/api/scan/orders", ORDER), 201)
    pick = ok(call(picker, floor, "POST", "/api/scan/picks", {"basket": "BK-018", "orders": ["TB20261122001"]}), 201)
    ok(call(picker, floor, "POST", f"/api/scan/picks/{pick['id']}/scan", {"code": "A-01-01-01"}))
    ok(call(picker, floor, "POST", f"/api/scan/picks/{pick['id']}/scan", {"code": "6901234567809"}))
    assert_error(call(picker, floor, "POST", f"/api/scan/picks/{pick['id']}/short",
                      {"location": "A-01-02-01", "sku": "TS-001-RED-M", "qty": 3}), 409, "over_qty")
    short = ok(call(picker, floor, "POST", f"/api/scan/picks/{pick['id']}/short",
                    {"location": "A-01-02-01", "sku": "TS-001-RED-M", "qty": 2}), 201)
    assert short["count"]["state"] == "open" and short["done"] is True
    counts = ok(call(supervisor, floor, "GET", "/api/stock/counts"))["items"]
    assert len(counts) == 1
    done = ok(call(picker, floor, "POST", f"/api/scan/picks/{pick['id']}/complete"))
    assert done["state"] == "short"
    assert ok(call(supervisor, floor, "GET", "/api/scan/orders/TB20261122001"))["state"] == "short"
    assert on_hand(supervisor, floor, "MUG-01") == {"A-01-01-01": 9, "BK-018": 1}


def test_flow_return_arrival_moves_stock_to_returns(floor, crew, redis_conn):
    """A shipped parcel coming back puts its units on the returns shelf once and marks the order."""
    supervisor, picker, verifier = crew
    ok(call(supervisor, floor, "POST", "/api/scan/orders", ORDER), 201)
    pick_all(floor, picker, [SF])
    check = verify_all(floor, verifier)
    ok(call(verifier, floor, "POST", f"/api/scan/verifications/{check['id']}/complete"))
    run_shipping(redis_conn)
    body = {"waybill": SF, "lines": [{"sku": "MUG-01", "qty": 1}], "condition": "ok"}
    first = call(supervisor, floor, "POST", "/api/scan/returns", body, key="ret-1")
    again = call(supervisor, floor, "POST", "/api/scan/returns", body, key="ret-1")
    assert first.status_code == again.status_code == 201
    assert_error(call(supervisor, floor, "POST", "/api/scan/returns", body), 409, "over_return")
    assert sum(m["qty"] for m in movements(supervisor, floor, "MUG-01", "return")) == 1
    order = ok(call(supervisor, floor, "GET", "/api/scan/orders/TB20261122001"))
    assert order["events"][-1]["kind"] == "returned" and order["returned_at"]


def test_flow_insufficient_stock_refuses_pick_and_changes_nothing(floor, crew):
    """More than the shelves hold: 409 insufficient_stock, the order still waits, nothing allocated."""
    supervisor, picker, _verifier = crew
    ok(call(supervisor, floor, "POST", "/api/scan/orders", ORDER | {"lines": [{"sku": "MUG-01", "qty": 50}]}), 201)
    details = assert_error(call(picker, floor, "POST", "/api/scan/picks", {"basket": "BK-017"}), 409,
                           "insufficient_stock")
    assert details["lines"]
    assert ok(call(supervisor, floor, "GET", "/api/scan/orders/TB20261122001"))["state"] == "printed"
    assert ok(call(supervisor, floor, "GET", "/api/stock/skus/MUG-01/availability"))["allocated"] == 0
    assert ok(call(picker, floor, "POST", "/api/scan/picks", {"basket": "BK-017"}), 409)


def test_flow_basket_with_one_short_order_holds_nothing(floor, crew):
    """A basket of two orders, the second more than the shelves hold: refused whole, the first holds nothing."""
    supervisor, picker, _verifier = crew
    ok(call(supervisor, floor, "POST", "/api/scan/orders", ORDER | {"lines": [{"sku": "MUG-01", "qty": 1}]}), 201)
    ok(call(supervisor, floor, "POST", "/api/scan/orders", ORDER | {
        "order_no": "TB20261122002", "waybill_no": "SF1234567890124", "lines": [{"sku": "CAP-9", "qty": 50}]}), 201)
    details = assert_error(call(picker, floor, "POST", "/api/scan/picks", {"basket": "BK-017"}), 409,
                           "insufficient_stock")
    assert details["order_no"] == "TB20261122002"
    for sku in ("MUG-01", "CAP-9"):
        assert ok(call(supervisor, floor, "GET", f"/api/stock/skus/{sku}/availability"))["allocated"] == 0
    for order_no in ("TB20261122001", "TB20261122002"):
        assert ok(call(supervisor, floor, "GET", f"/api/scan/orders/{order_no}"))["state"] == "printed"


def test_flow_intercept_after_pick_blocks_verification_and_releases(floor, crew):
    """A refund after picking: the waybill scan is refused loudly and the allocation is released."""
    supervisor, picker, verifier = crew
    ok(call(supervisor, floor, "POST", "/api/scan/orders", ORDER), 201)
    pick_all(floor, picker, [SF])
    assert ok(call(supervisor, floor, "GET", "/api/stock/skus/MUG-01/availability"))["allocated"] == 1
    assert ok(call(supervisor, floor, "POST", "/api/scan/orders/TB20261122001/cancel",
                   {"reason": "refund"}))["state"] == "intercepted"
    assert ok(call(supervisor, floor, "GET", "/api/stock/skus/MUG-01/availability"))["allocated"] == 0
    # The picked units left the basket for the intercept shelf, where the verifier puts the parcel.
    shelf = ok(call(supervisor, floor, "GET", "/api/stock/balances", params={"location": "INTERCEPT"}))["items"]
    assert sorted((b["sku"], b["qty"]) for b in shelf) == sorted((ln["sku"], ln["qty"]) for ln in ORDER["lines"])
    assert_error(call(verifier, floor, "POST", "/api/scan/verifications", {"waybill": SF}), 409, "order_intercepted")
    audit = ok(call(supervisor, floor, "GET", "/api/scan/audit",
                    params={"date": datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()}))
    assert [o["order_no"] for o in audit["intercepted_open"]] == ["TB20261122001"]


def test_flow_merged_parcel_picked_and_shipped_together(floor, crew, redis_conn):
    """Picking one order of a merged parcel brings the others; verification needs every item of both."""
    supervisor, picker, verifier = crew
    ok(call(supervisor, floor, "POST", "/api/scan/orders", ORDER), 201)
    ok(call(supervisor, floor, "POST", "/api/scan/orders",
            {"order_no": "TB20261122002", "merge_into": "TB20261122001", "lines": [{"sku": "CAP-9", "qty": 1}]}), 201)
    done = pick_all(floor, picker, ["TB20261122001"])
    assert sorted(done["orders"]) == ["TB20261122001", "TB20261122002"]
    check = ok(call(verifier, floor, "POST", "/api/scan/verifications", {"waybill": SF}), 201)
    for line in check["lines"]:
        if line["sku"] != "CAP-9":
            ok(call(verifier, floor, "POST", f"/api/scan/verifications/{check['id']}/scan",
                    {"code": SKUS[line["sku"]][1], "qty": line["expected"]}))
    details = assert_error(call(verifier, floor, "POST", f"/api/scan/verifications/{check['id']}/complete"), 409,
                           "lines_missing")
    assert [line["sku"] for line in details["lines"]] == ["CAP-9"]
    ok(call(verifier, floor, "POST", f"/api/scan/verifications/{check['id']}/scan", {"code": "012345678905"}))
    ok(call(verifier, floor, "POST", f"/api/scan/verifications/{check['id']}/complete"))
    run_shipping(redis_conn)
    assert sum(m["qty"] for m in movements(supervisor, floor, "CAP-9", "ship")) == 1
    assert sum(m["qty"] for m in movements(supervisor, floor, "TS-001-RED-M", "ship")) == 2


def test_flow_pick_without_orders_takes_the_next_waiting_skipping_unpaid_and_bringing_merged(floor, crew):
    """No orders named: the oldest waiting ones; unpaid only with a note allowing it; a merged parcel whole."""
    supervisor, picker, _verifier = crew
    mug = [{"sku": "MUG-01", "qty": 1}]
    for number, extra in (("TB-A1", {}), ("TB-B1", {"paid": False}), ("TB-C1", {"paid": False}), ("TB-D1", {})):
        ok(call(supervisor, floor, "POST", "/api/scan/orders", {"order_no": number, "waybill_no": f"SF-{number}",
                                                                "carrier": "SF", "lines": mug} | extra), 201)
    ok(call(supervisor, floor, "POST", "/api/scan/orders/TB-C1/notes", {"text": "客户已确认，允许未付款发货"}), 201)
    ok(call(supervisor, floor, "POST", "/api/scan/orders", {"order_no": "TB-D2", "merge_into": "TB-D1",
                                                            "lines": mug}), 201)
    pick = ok(call(picker, floor, "POST", "/api/scan/picks", {"basket": "BK-020", "max_orders": 4}), 201)
    # The four oldest are A, B, C and D1: B waits for payment, D2 comes along with D1.
    assert pick["orders"] == ["TB-A1", "TB-C1", "TB-D1", "TB-D2"]
    assert sum(task["qty"] for task in pick["tasks"]) == 4
    states = {no: ok(call(supervisor, floor, "GET", f"/api/scan/orders/{no}"))["state"]
              for no in ("TB-A1", "TB-B1", "TB-C1", "TB-D1", "TB-D2")}
    assert states == {"TB-A1": "picking", "TB-B1": "printed", "TB-C1": "picking", "TB-D1": "picking",
                      "TB-D2": "picking"}
    assert_error(call(picker, floor, "POST", "/api/scan/picks", {"basket": "BK-021", "orders": ["TB-D2"]}), 409,
                 "order_not_waiting")


def test_flow_racing_scans_and_picks_never_double(floor, crew):
    """Threads on the live gateway: one order goes into one basket, the last unit is picked once."""
    supervisor, picker, _verifier = crew
    ok(call(supervisor, floor, "POST", "/api/scan/orders", ORDER | {"lines": [{"sku": "MUG-01", "qty": 1}]}), 201)
    other = floor.login("picker", badge="EDB_PH002")
    barrier = threading.Barrier(2)
    starts: list = []

    def start(http, basket):
        barrier.wait()
        starts.append(call(http, floor, "POST", "/api/scan/picks", {"basket": basket, "orders": [SF]}))

    threads = [threading.Thread(target=start, args=pair) for pair in ((picker, "BK-001"), (other, "BK-002"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(a.status_code for a in starts) == [201, 409]
    pick = next(a.json() for a in starts if a.status_code == 201)
    ok(call(picker, floor, "POST", f"/api/scan/picks/{pick['id']}/scan", {"code": "A-01-01-01"}))
    results: list = []
    barrier = threading.Barrier(4)

    def scan_mug():
        barrier.wait()
        results.append(call(picker, floor, "POST", f"/api/scan/picks/{pick['id']}/scan", {"code": "6901234567809"}))

    threads = [threading.Thread(target=scan_mug) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    outcomes = sorted(a.json()["result"] for a in results if a.status_code == 200)
    assert outcomes.count("ok") == 1 and set(outcomes) <= {"ok", "over_qty"}
    assert ok(call(picker, floor, "GET", f"/api/scan/picks/{pick['id']}"))["tasks"][0]["picked"] == 1


def test_flow_intercept_while_stock_down_still_stops_parcel(floor, live, crew):
    """A refund with stock_service away still intercepts; repeating the cancel later releases the stock."""
    supervisor, picker, verifier = crew
    ok(call(supervisor, floor, "POST", "/api/scan/orders", ORDER), 201)
    pick_all(floor, picker, [SF])
    live.stop("stock")
    try:
        stopped = ok(call(supervisor, floor, "POST", "/api/scan/orders/TB20261122001/cancel", {"reason": "refund"}))
        assert stopped["state"] == "intercepted"
        assert_error(call(verifier, floor, "POST", "/api/scan/verifications", {"waybill": SF}), 409,
                     "order_intercepted")
    finally:
        live.start("stock")
    assert ok(call(supervisor, floor, "GET", "/api/stock/skus/MUG-01/availability"))["allocated"] == 1
    ok(call(supervisor, floor, "POST", "/api/scan/orders/TB20261122001/cancel", {"reason": "refund"}))
    assert ok(call(supervisor, floor, "GET", "/api/stock/skus/MUG-01/availability"))["allocated"] == 0


def _race(count: int, send) -> list:
    """`count` threads released together, each calling `send()` once; their answers."""
    barrier, answers = threading.Barrier(count), []

    def one():
        barrier.wait()
        answers.append(send())

    threads = [threading.Thread(target=one) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def _walk_at_its_bin(floor, crew, sku: str, qty: int) -> str:
    """An order of `qty` × `sku`, its pick started in BK-017 and the SKU's bin scanned: the pick's path."""
    supervisor, picker, _verifier = crew
    ok(call(supervisor, floor, "POST", "/api/scan/orders", ORDER | {"lines": [{"sku": sku, "qty": qty}]}), 201)
    pick = ok(call(picker, floor, "POST", "/api/scan/picks", {"basket": "BK-017", "orders": [SF]}), 201)
    path = f"/api/scan/picks/{pick['id']}"
    ok(call(picker, floor, "POST", f"{path}/scan", {"code": SKUS[sku][2]}))
    return path


def test_flow_racing_item_scans_count_every_unit_once(floor, crew):
    """Sixteen racing scans of an item wanted 8 times: 8 count, in the task, the check and the journal."""
    supervisor, picker, verifier = crew
    path = _walk_at_its_bin(floor, crew, "TS-001-RED-M", 8)
    picks = _race(16, lambda: call(picker, floor, "POST", f"{path}/scan", {"code": "6901234567892"}))
    results = sorted(ok(answer)["result"] for answer in picks)
    assert results == ["ok"] * 8 + ["over_qty"] * 8
    assert ok(call(picker, floor, "GET", path))["tasks"][0]["picked"] == 8
    ok(call(picker, floor, "POST", f"{path}/complete"))
    check = ok(call(verifier, floor, "POST", "/api/scan/verifications", {"waybill": SF}), 201)
    scan = f"/api/scan/verifications/{check['id']}/scan"
    checks = _race(16, lambda: call(verifier, floor, "POST", scan, {"code": "6901234567892"}))
    results = sorted(ok(answer)["result"] for answer in checks)
    assert results == ["ok"] * 8 + ["over_qty"] * 8
    assert ok(call(verifier, floor, "GET", f"/api/scan/verifications/{check['id']}"))["lines"][0]["scanned"] == 8
    assert [a.json()["complete"] for a in checks if a.json()["result"] == "ok"].count(True) == 1
    ok(call(verifier, floor, "POST", f"/api/scan/verifications/{check['id']}/complete"))
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    stats = {row["badge"]: row for row in
             ok(call(supervisor, floor, "GET", f"/api/scan/stats/operators?date={today}"))["items"]}
    assert (stats["EDB_PH001"]["items_picked"], stats["EDB_YH001"]["items_verified"]) == (8, 8)


def _one_answer_and_its_replays(answers: list) -> dict:
    """Every copy answered 200 with the same body: one fresh, the rest marked as replays of it."""
    assert [a.status_code for a in answers] == [200] * len(answers), [a.text for a in answers]
    fresh = [a for a in answers if "Idempotent-Replayed" not in a.headers]
    assert len(fresh) == 1
    assert all(a.json() == fresh[0].json() for a in answers)
    return fresh[0].json()


def test_flow_racing_copies_of_one_keyed_scan_count_once(floor, crew, engine):
    """Twelve copies of one scan with one key, sent at once (an outbox resending on patchy Wi-Fi):
    one unit counts, in the task, the check and the journal; every copy gets the same answer."""
    _supervisor, picker, verifier = crew
    path = _walk_at_its_bin(floor, crew, "TS-001-RED-M", 3)
    first = _one_answer_and_its_replays(
        _race(12, lambda: call(picker, floor, "POST", f"{path}/scan", {"code": "6901234567892"}, key="pick-k1")))
    assert first["result"] == "ok"
    assert ok(call(picker, floor, "GET", path))["tasks"][0]["picked"] == 1
    for _ in range(2):
        ok(call(picker, floor, "POST", f"{path}/scan", {"code": "6901234567892"}))
    ok(call(picker, floor, "POST", f"{path}/complete"))
    check = ok(call(verifier, floor, "POST", "/api/scan/verifications", {"waybill": SF}), 201)
    scan = f"/api/scan/verifications/{check['id']}/scan"
    first = _one_answer_and_its_replays(
        _race(12, lambda: call(verifier, floor, "POST", scan, {"code": "6901234567892"}, key="check-k1")))
    assert first["result"] == "ok"
    assert ok(call(verifier, floor, "GET", f"/api/scan/verifications/{check['id']}"))["lines"][0]["scanned"] == 1
    with engine.connect() as conn:
        journal = conn.execute(text("SELECT kind, count(*) FROM scan.events WHERE kind IN ('pick_scan', 'verify_scan') "
                                    "AND code = '6901234567892' GROUP BY kind")).all()
    assert dict(journal) == {"pick_scan": 3, "verify_scan": 1}


def test_flow_racing_copies_of_a_keyed_complete_and_opening_act_once(floor, crew, engine, redis_conn):
    """Eight copies of a pick's complete, a waybill's opening and a verification's complete, each with
    one key and sent at once: each acts once (units into the basket once, one verification, one
    shipment), and every copy gets the first's answer."""
    _supervisor, picker, verifier = crew
    path = _walk_at_its_bin(floor, crew, "MUG-01", 1)
    ok(call(picker, floor, "POST", f"{path}/scan", {"code": "6901234567809"}))
    done = _one_answer_and_its_replays(
        _race(8, lambda: call(picker, floor, "POST", f"{path}/complete", key="complete-k1")))
    assert done["state"] == "picked"
    assert on_hand(picker, floor, "MUG-01") == {"A-01-01-01": 9, "BK-017": 1}
    opened = _race(8, lambda: call(verifier, floor, "POST", "/api/scan/verifications", {"waybill": SF}, key="open-k1"))
    assert [a.status_code for a in opened] == [201] * 8, [a.text for a in opened]
    assert len({a.text for a in opened}) == 1 and sum("Idempotent-Replayed" not in a.headers for a in opened) == 1
    check = opened[0].json()
    ok(call(verifier, floor, "POST", f"/api/scan/verifications/{check['id']}/scan", {"code": "6901234567809"}))
    shipped = _one_answer_and_its_replays(_race(8, lambda: call(
        verifier, floor, "POST", f"/api/scan/verifications/{check['id']}/complete", key="shipped-k1")))
    assert shipped["state"] == "shipped"
    run_shipping(redis_conn)
    assert on_hand(picker, floor, "MUG-01") == {"A-01-01-01": 9}
    assert len(movements(picker, floor, "MUG-01", "ship")) == 1
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM scan.verifications")).scalar() == 1
        assert conn.execute(text("SELECT count(*) FROM scan.shipment_outbox")).scalar() == 1


def test_flow_a_scan_replayed_after_its_walk_closed_gets_its_first_answer(floor, crew):
    """The last scan's answer was lost, the walk was closed since: its replay gets that answer, not a 409."""
    _supervisor, picker, verifier = crew
    path = _walk_at_its_bin(floor, crew, "MUG-01", 1)
    last = ok(call(picker, floor, "POST", f"{path}/scan", {"code": "6901234567809"}, key="last-pick"))
    ok(call(picker, floor, "POST", f"{path}/complete"))
    again = call(picker, floor, "POST", f"{path}/scan", {"code": "6901234567809"}, key="last-pick")
    assert (again.status_code, again.headers.get("Idempotent-Replayed")) == (200, "true")
    assert again.json() == last
    assert_error(call(picker, floor, "POST", f"{path}/scan", {"code": "6901234567809"}), 409, "pick_closed")
    check = ok(call(verifier, floor, "POST", "/api/scan/verifications", {"waybill": SF}), 201)
    scan = f"/api/scan/verifications/{check['id']}/scan"
    last = ok(call(verifier, floor, "POST", scan, {"code": "6901234567809"}, key="last-check"))
    ok(call(verifier, floor, "POST", f"/api/scan/verifications/{check['id']}/complete"))
    again = call(verifier, floor, "POST", scan, {"code": "6901234567809"}, key="last-check")
    assert (again.status_code, again.headers.get("Idempotent-Replayed"), again.json()) == (200, "true", last)
    # The same key with another code is the operator's mistake, not a replay: refused, nothing counted.
    assert_error(call(verifier, floor, "POST", scan, {"code": "A-01-01-01"}, key="last-check"), 422,
                 "idempotency_key_reused")


def test_flow_verification_knows_picked_items_without_stock(floor, live, crew):
    """The waybill opens with names and barcodes from the parcel's pick: no call to stock per SKU."""
    supervisor, picker, verifier = crew
    ok(call(supervisor, floor, "POST", "/api/scan/orders", ORDER), 201)
    pick_all(floor, picker, [SF])
    live.stop("stock")
    try:
        check = ok(call(verifier, floor, "POST", "/api/scan/verifications", {"waybill": SF}), 201)
        assert {line["sku"]: line["name"] for line in check["lines"]} == {"TS-001-RED-M": "T恤 红 M",
                                                                          "MUG-01": "马克杯"}
        scan = ok(call(verifier, floor, "POST", f"/api/scan/verifications/{check['id']}/scan",
                       {"code": "6901234567809"}))
        assert (scan["result"], scan["line"]["sku"]) == ("ok", "MUG-01")
    finally:
        live.start("stock")


def test_flow_two_pickers_racing_for_one_basket_one_wins_the_other_holds_nothing(floor, crew):
    """Two starts on the same basket at the same moment: one pick, one 409 basket_in_use, and the
    loser's order waits again with no stock promised to it."""
    supervisor, picker, _verifier = crew
    other = floor.login("picker", badge="EDB_PH002", device="HH-02")
    for round_ in range(3):
        numbers = [f"TB2026RACE{round_}{n}" for n in (1, 2)]
        for n, number in enumerate(numbers):
            ok(call(supervisor, floor, "POST", "/api/scan/orders",
                    ORDER | {"order_no": number, "waybill_no": f"SF98765432{round_}{n}"}), 201)
        basket = f"BK-3{round_}0"
        gate, answers = threading.Barrier(2), {}

        def start(http, number: str) -> None:
            gate.wait()
            answers[number] = call(http, floor, "POST", "/api/scan/picks", {"basket": basket, "orders": [number]})

        threads = [threading.Thread(target=start, args=(http, number))
                   for http, number in zip((picker, other), numbers, strict=True)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        statuses = sorted(answer.status_code for answer in answers.values())
        assert statuses == [201, 409], {n: (a.status_code, a.text) for n, a in answers.items()}
        [loser] = [n for n, a in answers.items() if a.status_code == 409]
        assert_error(answers[loser], 409, "basket_in_use")
        assert ok(call(supervisor, floor, "GET", f"/api/scan/orders/{loser}"))["state"] == "printed"
        held = ok(call(supervisor, floor, "GET", "/api/stock/skus/MUG-01/availability"))["allocated"]
        assert held == round_ + 1, held  # one unit of MUG-01 per winning pick so far
