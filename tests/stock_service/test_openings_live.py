"""A walk's openings racing each other over real HTTP (gunicorn, one connection per thread): no oversell, no double."""
import uuid
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
import requests
from sqlalchemy import text

from common.testing import identity_headers
from tests.stock_service.conftest import Caller, ledger_matches_balances, ok, setup_floor, stock_up

pytestmark = pytest.mark.live
RACERS = 16


class Internal:
    """scan_service's side of the internal endpoints: straight to stock, internal token and signed identity."""

    def __init__(self, base: str):
        self.base = base
        self.session = requests.Session()

    def post(self, path: str, body: dict, key: str | None = None) -> requests.Response:
        headers = identity_headers("EDB_PH001", ("picker",)) | {"Idempotency-Key": key or str(uuid.uuid4())}
        return self.session.post(f"{self.base}/api/stock/internal{path}", json=body, headers=headers, timeout=30)


@pytest.fixture
def stock(floor) -> Caller:
    return Caller(floor.login("stock_manager", badge="EDB_SM200"), floor.base)


def race(live, calls: list) -> list[requests.Response]:
    """Each call(internal) on its own thread and connection, released together."""
    start = Barrier(len(calls))
    callers = [Internal(live.url("stock")) for _ in calls]

    def run(index: int) -> requests.Response:
        start.wait()
        return calls[index](callers[index])

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, range(len(calls))))


def allocated(engine, sku: str) -> int:
    with engine.connect() as conn:
        return conn.execute(text(
            "SELECT coalesce(sum(l.qty), 0) FROM stock.allocation_lines l JOIN stock.allocations a "
            "USING (order_no) WHERE a.state = 'open' AND l.sku = :sku"), {"sku": sku}).scalar()


def test_allocations_racing_for_the_last_unit_one_wins(live, stock, engine):
    """Orders racing for a SKU's last unit, alone and in batches: exactly one is promised it."""
    setup_floor(stock, skus=2)
    stock_up(stock, "S-1", 1, "A-01-01-01")
    stock_up(stock, "S-2", RACERS, "A-01-01-02")

    def alone(n: int):
        return lambda api: api.post("/allocations", {"order_no": f"TB{n}", "lines": [{"sku": "S-1", "qty": 1}]})

    def batch(n: int):
        # The batch also wants a SKU with plenty, before and after the scarce one in its lines.
        return lambda api: api.post("/allocations/batch", {"orders": [
            {"order_no": f"TB{n}A", "lines": [{"sku": "S-2", "qty": 1}]},
            {"order_no": f"TB{n}B", "lines": [{"sku": "S-1", "qty": 1}, {"sku": "S-2", "qty": 1}]}]})

    answers = race(live, [alone(n) if n % 2 else batch(n) for n in range(RACERS)])
    statuses = sorted(a.status_code for a in answers)
    assert statuses.count(201) == 1 and statuses.count(409) == RACERS - 1, statuses
    assert {a.json()["error"]["code"] for a in answers if a.status_code == 409} == {"insufficient_stock"}
    assert allocated(engine, "S-1") == 1
    won = next(a for a in answers if a.status_code == 201).json()
    # A losing batch left nothing behind: only the winner's S-2 is promised.
    assert allocated(engine, "S-2") == (2 if "allocations" in won else 0)


def test_allocations_batches_sharing_skus_never_oversell_or_deadlock(live, stock, engine):
    """Batches wanting the same SKUs in opposite line orders: each SKU promised at most what is on hand."""
    setup_floor(stock, skus=3)
    for n in range(1, 4):
        stock_up(stock, f"S-{n}", 5, f"A-01-01-0{n}")

    def batch(n: int):
        skus = ["S-1", "S-2", "S-3"] if n % 2 else ["S-3", "S-2", "S-1"]
        return lambda api: api.post("/allocations/batch", {"orders": [
            {"order_no": f"TB{n}-{k}", "lines": [{"sku": sku, "qty": 1}]} for k, sku in enumerate(skus)]})

    answers = race(live, [batch(n) for n in range(RACERS)])
    statuses = sorted(a.status_code for a in answers)
    assert set(statuses) <= {201, 409}, [a.text[:200] for a in answers if a.status_code not in (201, 409)]
    assert statuses.count(201) == 5, statuses
    assert [allocated(engine, f"S-{n}") for n in range(1, 4)] == [5, 5, 5]


def test_picks_racing_for_a_bins_last_units_never_go_negative(live, stock, engine):
    """Picks of the same bins into different baskets, lines in opposite orders: as many win as there are units."""
    setup_floor(stock, skus=2)
    stock_up(stock, "S-1", 5, "A-01-01-01")
    stock_up(stock, "S-2", 5, "A-01-01-02")

    def pick(n: int):
        picked = [{"sku": "S-1", "qty": 1, "from": "A-01-01-01"}, {"sku": "S-2", "qty": 1, "from": "A-01-01-02"}]
        body = {"reference": f"pick:{n}", "basket": f"BK-{n:03d}", "lines": picked if n % 2 else picked[::-1]}
        return lambda api: api.post("/picks", body)

    answers = race(live, [pick(n) for n in range(RACERS)])
    statuses = sorted(a.status_code for a in answers)
    assert statuses.count(201) == 5 and statuses.count(409) == RACERS - 5, statuses
    balances = ledger_matches_balances(engine)
    assert ("S-1", "A-01-01-01", "") not in balances and ("S-2", "A-01-01-02", "") not in balances
    assert sum(qty for (sku, place, _), qty in balances.items() if place.startswith("BK-")) == 10
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM stock.balances WHERE qty < 0")).scalar() == 0


def test_picks_same_reference_racing_moves_once(live, stock, engine):
    """One pick sent by many threads with different keys: one writes (201), the rest answer its movements (200)."""
    setup_floor(stock)
    stock_up(stock, "S-1", 10, "A-01-01-01")
    body = {"reference": "pick:7", "basket": "BK-007", "lines": [{"sku": "S-1", "qty": 3, "from": "A-01-01-01"}]}
    answers = race(live, [lambda api: api.post("/picks", body) for _ in range(RACERS)])
    statuses = sorted(a.status_code for a in answers)
    assert statuses.count(201) == 1 and statuses.count(200) == RACERS - 1, statuses
    assert len({a.text for a in answers}) == 1
    assert ledger_matches_balances(engine) == {("S-1", "A-01-01-01", ""): 7, ("S-1", "BK-007", ""): 3}


def test_batch_allocation_copies_with_one_key_promise_once(live, stock, engine):
    """A pick start's allocation retried with its key while the first runs: promised once, one answer for all."""
    setup_floor(stock)
    stock_up(stock, "S-1", 5, "A-01-01-01")
    body = {"orders": [{"order_no": "TB21", "lines": [{"sku": "S-1", "qty": 2}]},
                       {"order_no": "TB22", "lines": [{"sku": "S-1", "qty": 1}]}], "plan": True}
    answers = race(live, [lambda api: api.post("/allocations/batch", body, key="alloc-batch:BK-021")
                          for _ in range(RACERS)])
    assert [a.status_code for a in answers] == [201] * RACERS, [(a.status_code, a.text) for a in answers]
    assert len({a.text for a in answers}) == 1
    assert sum("Idempotent-Replayed" not in a.headers for a in answers) == 1
    assert allocated(engine, "S-1") == 3


def test_shipments_racing_with_the_same_key_ship_once(live, stock, engine):
    """A shipment retried with its Idempotency-Key while the first is running: the units leave once."""
    setup_floor(stock)
    stock_up(stock, "S-1", 4, "A-01-01-01")
    internal = Internal(live.url("stock"))
    ok(internal.post("/allocations", {"order_no": "TB9", "lines": [{"sku": "S-1", "qty": 2}]}))
    ok(internal.post("/picks", {"reference": "pick:9", "basket": "BK-009",
                                "lines": [{"sku": "S-1", "qty": 2, "from": "A-01-01-01"}]}))
    body = {"order_no": "TB9", "basket": "BK-009", "lines": [{"sku": "S-1", "qty": 2}]}
    answers = race(live, [lambda api: api.post("/shipments", body, key="TB9") for _ in range(RACERS)])
    first = [a for a in answers if a.status_code == 201 and "Idempotent-Replayed" not in a.headers]
    assert len(first) == 1, [(a.status_code, a.headers.get("Idempotent-Replayed")) for a in answers]
    # The key is claimed at the commit: a copy waits for the first and gets its answer, never a new one.
    for answer in answers:
        assert answer.status_code == 201 and answer.json() == first[0].json(), (answer.status_code, answer.text)
    assert ledger_matches_balances(engine) == {("S-1", "A-01-01-01", ""): 2}
    assert allocated(engine, "S-1") == 0


def test_allocation_changed_while_intercepted_leaves_no_line_held_by_a_closed_order(live, stock, engine):
    """An order re-allocated while it is intercepted: whichever wins, only open orders hold units."""
    setup_floor(stock)
    stock_up(stock, "S-1", 4 * RACERS, "A-01-01-01")
    internal = Internal(live.url("stock"))
    orders = [f"TB{n}" for n in range(RACERS // 2)]
    for order_no in orders:
        ok(internal.post("/allocations", {"order_no": order_no, "lines": [{"sku": "S-1", "qty": 1}]}))

    def change(order_no: str):
        return lambda api: api.post("/allocations", {"order_no": order_no, "lines": [{"sku": "S-1", "qty": 2}]})

    def stop(order_no: str):
        return lambda api: api.post("/intercepts", {"order_no": order_no, "basket": "BK-001",
                                                   "lines": [{"sku": "S-1", "qty": 1}]})

    answers = race(live, [make(order_no) for order_no in orders for make in (change, stop)])
    assert {a.status_code for a in answers} <= {200, 201}, [a.text[:200] for a in answers]
    with engine.connect() as conn:
        wrong = conn.execute(text("SELECT count(*) FROM stock.allocation_lines l JOIN stock.allocations a "
                                  "USING (order_no) WHERE l.held <> (a.state = 'open')")).scalar()
        promised = conn.execute(text("SELECT coalesce(sum(l.qty), 0) FROM stock.allocation_lines l "
                                     "JOIN stock.allocations a USING (order_no) WHERE a.state = 'open'")).scalar()
    assert wrong == 0
    assert ok(stock.get("/skus/S-1/availability"), 200)["allocated"] == promised
