"""Property: after any run of receive / move / pick / ship / adjust / return, the ledger replays to the balances."""
import itertools

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from common import testing
from tests.stock_service.conftest import Caller, ean13, ledger_matches_balances, movement_count, setup_floor, stock_up

SKUS = ("S-1", "S-2")
BINS = ("A-01-01-01", "A-01-01-02", "A-01-01-03")
qty = st.integers(min_value=1, max_value=6)
steps = st.one_of(
    st.tuples(st.just("receive"), st.sampled_from(SKUS), qty),
    st.tuples(st.just("putaway"), st.sampled_from(SKUS), qty, st.sampled_from(BINS)),
    st.tuples(st.just("move"), st.sampled_from(SKUS), qty, st.sampled_from(BINS), st.sampled_from(BINS)),
    st.tuples(st.just("pick"), st.sampled_from(SKUS), qty, st.sampled_from(BINS)),
    st.tuples(st.just("ship"), st.sampled_from(SKUS), qty),
    st.tuples(st.just("adjust"), st.sampled_from(SKUS), st.integers(min_value=0, max_value=8), st.sampled_from(BINS)),
    st.tuples(st.just("return"), st.sampled_from(SKUS), qty),
)


class Floor:
    """Runs one step through the API; answers the statuses it got."""

    def __init__(self, service):
        self.manager = Caller(service("stock", "stock_manager", badge="EDB_SM300"))
        self.counters = [Caller(service("stock", "counter", badge=b)) for b in ("EDB_CT301", "EDB_CT302")]
        self.serial = itertools.count(1)

    def run(self, step) -> list[int]:
        kind, sku = step[0], step[1]
        code, n = ean13(int(sku[2:])), next(self.serial)
        post = self.manager.post
        if kind == "receive":
            receipt = post("/receipts", {"ref": f"PO-{n}", "lines": [{"sku": sku, "qty": step[2]}]}).get_json()
            return [post(f"/receipts/{receipt['id']}/receive", {"code": code, "qty": step[2]}).status_code]
        if kind == "putaway":
            return [post("/putaway", {"code": code, "qty": step[2], "to": step[3]}).status_code]
        if kind == "move":
            if step[3] == step[4]:
                return []
            return [post("/moves", {"sku": sku, "qty": step[2], "from": step[3], "to": step[4]}).status_code]
        if kind == "pick":
            return [post("/internal/picks", {"reference": f"pick:{n}", "basket": "BK-001",
                                             "lines": [{"sku": sku, "qty": step[2], "from": step[3]}]}).status_code]
        if kind == "ship":
            return [post("/internal/shipments", {"order_no": f"TB{n}", "basket": "BK-001",
                                                 "lines": [{"sku": sku, "qty": step[2]}]}).status_code]
        if kind == "return":
            return [post("/internal/returns", {"reference": f"RT{n}", "order_no": f"TB{n}",
                                               "lines": [{"sku": sku, "qty": step[2]}]}).status_code]
        return self.adjust(sku, code, step[2], step[3])

    def adjust(self, sku: str, code: str, counted: int, bin_: str) -> list[int]:
        """Count the bin (the SKU as `counted`, anything else as 0) and approve every variance."""
        opened = self.manager.post("/counts", {"locations": [bin_]})
        count, statuses = opened.get_json(), [opened.status_code]
        first, second = self.counters
        if counted:
            statuses.append(first.post(f"/counts/{count['id']}/entries",
                                       {"location": bin_, "code": code, "qty": counted}).status_code)
        submitted = first.post(f"/counts/{count['id']}/submit", {}).get_json()
        for line in submitted["recount"]:
            again = counted if line["sku"] == sku else 0
            if again:
                statuses.append(second.post(f"/counts/{count['id']}/entries", {
                    "location": bin_, "code": ean13(int(line["sku"][2:])), "qty": again}).status_code)
        if submitted["recount"]:
            statuses.append(second.post(f"/counts/{count['id']}/submit", {}).status_code)
        variances = self.manager.get(f"/counts/{count['id']}/variances").get_json()["items"]
        for line in variances:
            if line["state"] == "pending":
                statuses.append(self.manager.post(f"/counts/{count['id']}/lines/{line['line_id']}/approve",
                                                  {"reason": "other"}).status_code)
        return statuses


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(st.lists(steps, min_size=1, max_size=12))
def test_ledger_replay_equals_balances_after_every_step(service, engine, redis_conn, sequence):
    """Whatever the floor does, the balances are what the ledger says, and none goes negative."""
    testing.truncate_all(engine)
    redis_conn.flushdb()
    floor = Floor(service)
    setup_floor(floor.manager, skus=2, bins=3)
    # Some stock on the shelves from the start, so picks, moves and shipments have something to act on.
    stock_up(floor.manager, "S-1", 8, "A-01-01-01")
    stock_up(floor.manager, "S-2", 8, "A-01-01-02")
    floor.run(("pick", "S-1", 4, "A-01-01-01"))
    floor.run(("pick", "S-2", 4, "A-01-01-02"))
    for step in sequence:
        before = movement_count(engine)
        statuses = floor.run(step)
        assert all(s in (200, 201, 409) for s in statuses), (step, statuses)
        if any(s == 409 for s in statuses) and step[0] != "adjust":
            assert movement_count(engine) == before, step
        event(f"{step[0]} wrote movements" if movement_count(engine) > before else f"{step[0]} wrote none")
        balances = ledger_matches_balances(engine)
        assert all(q > 0 for q in balances.values()), balances
        if step[0] == "adjust" and 409 not in statuses:
            # An approved count leaves the bin holding exactly what was counted.
            in_bin = {k[0]: q for k, q in balances.items() if k[1] == step[3]}
            assert in_bin == ({step[1]: step[2]} if step[2] else {}), (step, in_bin)
