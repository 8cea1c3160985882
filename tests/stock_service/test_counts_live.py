"""Blind cycle counts over the live gateway: blind entries, recount by another person, approve/reject, races."""
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import pytest
from sqlalchemy import text

from common.testing import assert_error
from tests.stock_service.conftest import (
    Caller,
    ean13,
    ledger_matches_balances,
    movement_count,
    ok,
    setup_floor,
    stock_up,
)

pytestmark = pytest.mark.live


@pytest.fixture
def people(floor):
    """A stock manager, two counters and a supervisor, each logged in through the gateway."""
    return {name: Caller(floor.login(*roles, badge=badge), floor.base) for name, roles, badge in (
        ("manager", ("stock_manager",), "EDB_SM200"), ("counter", ("counter",), "EDB_CT201"),
        ("other", ("counter",), "EDB_CT202"), ("supervisor", ("supervisor",), "EDB_SV203"))}


def _variances(people, count_id):
    return {(v["location"], v["sku"]): v for v in ok(people["supervisor"].get(f"/counts/{count_id}/variances"), 200)[
        "items"]}


def test_counts_entries_are_blind_and_big_variance_needs_another_counter(people, engine):
    """Entries never show expected; over the threshold asks a recount that the first counter may not do."""
    setup_floor(people["manager"])
    stock_up(people["manager"], "S-1", 10, "A-01-01-01")
    count = ok(people["counter"].post("/counts", {"locations": ["A-01-01-01"]}))
    assert count["state"] == "open"
    entry = ok(people["counter"].post(f"/counts/{count['id']}/entries",
                                      {"location": "A-01-01-01", "code": ean13(1), "qty": 6}))
    assert "expected" not in entry and "variance" not in entry and 10 not in entry.values()
    assert "expected" not in ok(people["counter"].get(f"/counts/{count['id']}"), 200)
    assert_error(people["counter"].get(f"/counts/{count['id']}/variances"), 403, "forbidden")
    submitted = ok(people["counter"].post(f"/counts/{count['id']}/submit", {}), 200)
    assert submitted == {"id": count["id"], "state": "recount", "closed": False, "pending": 0,
                         "recount": [{"location": "A-01-01-01", "sku": "S-1"}]}
    assert_error(people["counter"].post(f"/counts/{count['id']}/entries",
                                        {"location": "A-01-01-01", "code": ean13(1), "qty": 9}),
                 409, "recount_needs_another_counter")
    ok(people["other"].post(f"/counts/{count['id']}/entries", {"location": "A-01-01-01", "code": ean13(1), "qty": 9}))
    assert ok(people["other"].post(f"/counts/{count['id']}/submit", {}), 200)["state"] == "submitted"
    line = _variances(people, count["id"])[("A-01-01-01", "S-1")]
    assert (line["expected"], line["counted"], line["variance"], line["state"]) == (10, 9, -1, "pending")
    assert line["recounted_by"] == "EDB_CT202"


def test_counts_approve_writes_exactly_one_adjustment(people, engine):
    """Approving a variance with a reason writes one adjust movement bringing the bin to the count."""
    setup_floor(people["manager"])
    stock_up(people["manager"], "S-1", 10, "A-01-01-01")
    count = ok(people["manager"].post("/counts", {"locations": ["A-01-01-01"]}))
    ok(people["counter"].post(f"/counts/{count['id']}/entries", {"location": "A-01-01-01", "code": ean13(1), "qty": 9}))
    assert ok(people["counter"].post(f"/counts/{count['id']}/submit", {}), 200)["state"] == "submitted"
    line = _variances(people, count["id"])[("A-01-01-01", "S-1")]
    before = movement_count(engine)
    assert_error(people["counter"].post(f"/counts/{count['id']}/lines/{line['line_id']}/approve", {"reason": "lost"}),
                 403, "forbidden")
    assert_error(people["supervisor"].post(f"/counts/{count['id']}/lines/{line['line_id']}/approve",
                                           {"reason": "stolen"}), 422, "invalid_input")
    adjustment = ok(people["supervisor"].post(f"/counts/{count['id']}/lines/{line['line_id']}/approve",
                                              {"reason": "lost", "note": "箱子破损"}))
    assert (adjustment["type"], adjustment["qty"], adjustment["from"], adjustment["to"]) == ("adjust", 1, "A-01-01-01",
                                                                                             None)
    assert_error(people["supervisor"].post(f"/counts/{count['id']}/lines/{line['line_id']}/approve",
                                           {"reason": "lost"}), 409, "line_not_pending")
    assert movement_count(engine) == before + 1
    assert ledger_matches_balances(engine)[("S-1", "A-01-01-01", "")] == 9
    assert ok(people["manager"].get(f"/counts/{count['id']}"), 200)["state"] == "closed"
    assert [c["id"] for c in ok(people["manager"].get("/counts?state=closed"), 200)["items"]] == [count["id"]]


def test_counts_reject_moves_nothing(people, engine):
    """Rejecting a variance leaves stock untouched."""
    setup_floor(people["manager"])
    stock_up(people["manager"], "S-1", 10, "A-01-01-01")
    count = ok(people["manager"].post("/counts", {"skus": ["S-1"]}))
    assert count["locations"] == ["A-01-01-01"]
    ok(people["counter"].post(f"/counts/{count['id']}/entries",
                              {"location": "A-01-01-01", "code": ean13(1), "qty": 11}))
    ok(people["counter"].post(f"/counts/{count['id']}/submit", {}), 200)
    line = _variances(people, count["id"])[("A-01-01-01", "S-1")]
    before = movement_count(engine)
    rejected = ok(people["manager"].post(f"/counts/{count['id']}/lines/{line['line_id']}/reject", {"note": "recheck"}),
                  200)
    assert rejected["state"] == "rejected"
    assert movement_count(engine) == before
    assert ledger_matches_balances(engine)[("S-1", "A-01-01-01", "")] == 10


def test_counts_movement_during_count_is_no_false_variance(people, engine):
    """A pick out of the bin after its first scan is accounted for: the right count shows no variance."""
    setup_floor(people["manager"])
    stock_up(people["manager"], "S-1", 10, "A-01-01-01")
    stock_up(people["manager"], "S-2", 4, "A-01-01-01")
    count = ok(people["manager"].post("/counts", {"locations": ["A-01-01-01"]}))
    ok(people["counter"].post(f"/counts/{count['id']}/entries", {"location": "A-01-01-01", "code": ean13(2), "qty": 4}))
    ok(people["manager"].post("/moves", {"sku": "S-1", "qty": 3, "from": "A-01-01-01", "to": "A-01-01-02"}))
    ok(people["counter"].post(f"/counts/{count['id']}/entries", {"location": "A-01-01-01", "code": ean13(1), "qty": 7}))
    assert ok(people["counter"].post(f"/counts/{count['id']}/submit", {}), 200) == {
        "id": count["id"], "state": "submitted", "closed": True, "pending": 0, "recount": []}
    lines = _variances(people, count["id"])
    assert {k: (v["expected"], v["counted"], v["state"]) for k, v in lines.items()} == {
        ("A-01-01-01", "S-1"): (7, 7, "ok"), ("A-01-01-01", "S-2"): (4, 4, "ok")}
    with engine.connect() as conn:
        assert conn.execute(text("SELECT snapshot_qty FROM stock.count_lines WHERE sku = 'S-1'")).scalar() == 10


def _together(*calls):
    """Run the calls at the same moment, one thread each (the live stock service has eight); their answers."""
    start = threading.Barrier(len(calls))

    def run(call):
        start.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def test_counts_concurrent_entries_lose_and_double_nothing(floor, people, engine):
    """Eight counters scan the same SKU in two unseen bins at once: one snapshot per bin, one line per
    (bin, SKU), every unit counted once, and each entry answers its own running total."""
    setup_floor(people["manager"], skus=3)
    for sku, qty, bin_ in (("S-1", 10, "A-01-01-01"), ("S-2", 4, "A-01-01-01"), ("S-1", 5, "A-01-01-02"),
                           ("S-3", 7, "A-01-01-02")):
        stock_up(people["manager"], sku, qty, bin_)
    count = ok(people["manager"].post("/counts", {"locations": ["A-01-01-01", "A-01-01-02"]}))
    counters = [Caller(floor.login("counter", badge=f"EDB_CT4{n:02d}"), floor.base) for n in range(8)]
    plan = [[("A-01-01-01" if (n + j) % 2 == 0 else "A-01-01-02", 1 + (n * 6 + j) % 5) for j in range(6)]
            for n in range(8)]

    def scans(caller, entries):
        return [(bin_, qty, caller.post(f"/counts/{count['id']}/entries", {"location": bin_, "code": ean13(1),
                                                                             "qty": qty})) for bin_, qty in entries]

    calls = [partial(scans, caller, entries) for caller, entries in zip(counters, plan, strict=True)]
    done = [answer for answers in _together(*calls) for answer in answers]
    totals = {}
    for bin_, qty, answer in done:
        entry = ok(answer)
        totals.setdefault(bin_, []).append(entry["counted"])
        assert (entry["sku"], entry["location"], entry["qty"]) == ("S-1", bin_, qty)
    entered = {bin_: sum(qty for b, qty, _ in done if b == bin_) for bin_ in totals}
    for bin_, seen in totals.items():
        assert len(set(seen)) == len(seen) and max(seen) == entered[bin_], (bin_, sorted(seen))
    with engine.connect() as conn:
        bins = conn.execute(text("SELECT location, count(*) FROM stock.count_bins WHERE count_id = :c "
                                 "GROUP BY location ORDER BY location"), {"c": count["id"]}).all()
        rows = conn.execute(text("SELECT location, sku, snapshot_qty, counted, counted_by FROM stock.count_lines "
                                 "WHERE count_id = :c ORDER BY location, sku"), {"c": count["id"]}).all()
    assert [tuple(b) for b in bins] == [("A-01-01-01", 1), ("A-01-01-02", 1)]
    assert [tuple(r[:4]) for r in rows] == [
        ("A-01-01-01", "S-1", 10, entered["A-01-01-01"]), ("A-01-01-01", "S-2", 4, 0),
        ("A-01-01-02", "S-1", 5, entered["A-01-01-02"]), ("A-01-01-02", "S-3", 7, 0)]
    badges = {c.client.badge for c in counters}
    assert [r[4] in badges for r in rows] == [True, False, True, False]


def test_counts_entry_sent_six_times_at_once_with_one_key_counts_once(people, engine):
    """A handheld's retries racing its first send (one Idempotency-Key): one answer for all, the units once."""
    setup_floor(people["manager"], skus=1)
    stock_up(people["manager"], "S-1", 10, "A-01-01-01")
    count = ok(people["manager"].post("/counts", {"locations": ["A-01-01-01"]}))
    entry = {"location": "A-01-01-01", "code": ean13(1), "qty": 3}
    send = partial(people["counter"].post, f"/counts/{count['id']}/entries", entry, key="entry-race-1")
    answers = _together(*[send] * 6)
    bodies = [ok(answer) for answer in answers]
    assert all(b == bodies[0] for b in bodies) and bodies[0]["counted"] == 3
    assert sum(answer.headers.get("Idempotent-Replayed") == "true" for answer in answers) == 5
    with engine.connect() as conn:
        counted = conn.execute(text("SELECT counted FROM stock.count_lines WHERE count_id = :c AND sku = 'S-1'"),
                               {"c": count["id"]}).scalar()
    assert counted == 3


def test_counts_first_scan_racing_a_move_shows_no_false_variance(people, engine):
    """A move out of the bin at the moment of its first scan is either in the snapshot or after it, never both
    or neither: counting what is left is no variance."""
    setup_floor(people["manager"])
    stock_up(people["manager"], "S-1", 12, "A-01-01-01")
    stock_up(people["manager"], "S-2", 3, "A-01-01-01")
    for _ in range(4):
        count = ok(people["manager"].post("/counts", {"locations": ["A-01-01-01"]}))
        path = f"/counts/{count['id']}/entries"
        moved, entered = _together(
            lambda: people["manager"].post("/moves", {"sku": "S-1", "qty": 1, "from": "A-01-01-01",
                                                      "to": "A-01-01-03"}),
            lambda: people["counter"].post(path, {"location": "A-01-01-01", "code": ean13(2), "qty": 3}))
        ok(moved)
        ok(entered)
        left = ledger_matches_balances(engine)[("S-1", "A-01-01-01", "")]
        ok(people["counter"].post(path, {"location": "A-01-01-01", "code": ean13(1), "qty": left}))
        assert ok(people["counter"].post(f"/counts/{count['id']}/submit", {}), 200) == {
            "id": count["id"], "state": "submitted", "closed": True, "pending": 0, "recount": []}
    assert left == 8
