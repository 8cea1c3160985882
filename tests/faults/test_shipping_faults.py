"""Shipping under faults: stock_service killed during a verification, the RQ worker killed mid-delivery.

The parcel always ships at the packing table; its stock movement reaches stock_service exactly once.
"""
from __future__ import annotations

import signal
import time

import pytest
from rq import Queue
from rq.registry import StartedJobRegistry

from common.testing import wait_for
from scan_service import jobs
from tests.faults.conftest import ledger_matches_balances, signal_tree
from tests.scan_service.floorkit import SKUS, call, movements, ok, on_hand, stock_up
from tests.scan_service.test_flow_live import ORDER, SF, pick_all, verify_all

# One xdist worker runs the whole faults suite: a second copy of its stack would only cost time.
pytestmark = [pytest.mark.live, pytest.mark.xdist_group("faults")]


@pytest.fixture
def crew(floor):
    """A stocked floor with its supervisor, picker and verifier logged in."""
    stock_up(floor)
    return (floor.login("supervisor", badge="EDB_ZG001"), floor.login("picker", badge="EDB_PH001"),
            floor.login("verifier", badge="EDB_YH001"))


def outbox(supervisor, floor, state: str) -> list[dict]:
    return ok(call(supervisor, floor, "GET", f"/api/scan/shipments?state={state}"))["items"]


def assert_shipped_once(supervisor, floor, engine) -> None:
    """The order's units left once: ship movements, bins and baskets, and the ledger agree."""
    assert sum(m["qty"] for m in movements(supervisor, floor, "TS-001-RED-M", "ship")) == 2
    assert sum(m["qty"] for m in movements(supervisor, floor, "MUG-01", "ship")) == 1
    assert on_hand(supervisor, floor, "TS-001-RED-M") == {"A-01-02-01": 8}
    assert on_hand(supervisor, floor, "MUG-01") == {"A-01-01-01": 9}
    assert ledger_matches_balances(engine) == []


def test_faults_stock_killed_during_verification_ships_once_when_back(fresh, floor, crew, workers):
    """stock_service SIGKILLed mid-verification: the verifier ships, stock moves once when it is back."""
    supervisor, picker, verifier = crew
    ok(call(supervisor, floor, "POST", "/api/scan/orders", ORDER), 201)
    pick_all(floor, picker, [SF])
    workers.start(1)
    check = ok(call(verifier, floor, "POST", "/api/scan/verifications", {"waybill": SF}), 201)
    first, *rest = check["lines"]
    ok(call(verifier, floor, "POST", f"/api/scan/verifications/{check['id']}/scan",
            {"code": SKUS[first["sku"]][1], "qty": first["expected"]}))
    fresh.kill_service("stock")
    for line in rest:
        ok(call(verifier, floor, "POST", f"/api/scan/verifications/{check['id']}/scan",
                {"code": SKUS[line["sku"]][1], "qty": line["expected"]}))
    shipped = ok(call(verifier, floor, "POST", f"/api/scan/verifications/{check['id']}/complete"))
    assert shipped["state"] == "shipped"
    # The worker tries while stock_service is dead: the row stays pending with its attempts counted.
    failed = wait_for(lambda: [r for r in outbox(supervisor, floor, "pending") if r["attempts"] >= 2], 30)
    assert [r["order_no"] for r in failed] == ["TB20261122001"]
    fresh.live.start("stock")
    # RQ's retry backoff (1, 2, 5, 10 s ...) brings the delivery back without anyone doing anything.
    wait_for(lambda: not outbox(supervisor, floor, "pending"), 40)
    [delivered] = outbox(supervisor, floor, "delivered")
    assert delivered["order_no"] == "TB20261122001"
    # A re-drive and a second delivery job of the same row change nothing.
    ok(call(supervisor, floor, "POST", "/api/scan/shipments/redrive", {}))
    jobs.enqueue_shipment(fresh.redis, delivered["id"])
    wait_for(lambda: Queue(jobs.SHIPPING_QUEUE, connection=fresh.redis).count == 0, 10)
    time.sleep(1)
    assert_shipped_once(supervisor, floor, fresh.engine)


def test_faults_worker_killed_mid_delivery_ships_once(fresh, floor, crew, workers):
    """Worker SIGKILLed while stock_service holds its request: stock commits it, the retry replays it, once."""
    supervisor, picker, verifier = crew
    ok(call(supervisor, floor, "POST", "/api/scan/orders", ORDER), 201)
    pick_all(floor, picker, [SF])
    check = verify_all(floor, verifier)
    assert ok(call(verifier, floor, "POST", f"/api/scan/verifications/{check['id']}/complete"))["state"] == "shipped"
    stock_pid = fresh.live.procs["stock"].pid
    # Freeze stock_service: the worker's request reaches its socket and waits there unanswered.
    signal_tree(stock_pid, signal.SIGSTOP)
    try:
        [worker] = workers.start(1)
        registry = StartedJobRegistry(queue=Queue(jobs.SHIPPING_QUEUE, connection=fresh.redis))
        [(entry, expires)] = wait_for(lambda: fresh.redis.zrange(registry.key, 0, -1, withscores=True), 20)
        assert entry.decode().split(":")[0].startswith("scan-ship-")
        time.sleep(1)  # the request is written to stock_service's socket
        workers.kill(worker)
    finally:
        signal_tree(stock_pid, signal.SIGCONT)
    # stock_service wakes up and serves the request the dead worker sent: the units leave once...
    wait_for(lambda: sum(m["qty"] for m in movements(supervisor, floor, "MUG-01", "ship")) == 1, 20)
    # ...but scan_service never heard the answer: its row is still pending.
    [pending] = outbox(supervisor, floor, "pending")
    assert pending["order_no"] == "TB20261122001"
    # RQ's maintenance finds the job abandoned once its heartbeat entry expires (a minute and a half
    # after the worker's last beat) and retries it; the cleanup runs here at that moment instead of waiting.
    assert expires - time.time() < 120
    registry.cleanup(timestamp=expires + 1)
    workers.start(1)
    wait_for(lambda: not outbox(supervisor, floor, "pending"), 30)
    [delivered] = outbox(supervisor, floor, "delivered")
    assert delivered["attempts"] == 1
    assert_shipped_once(supervisor, floor, fresh.engine)
