"""Blind cycle counts over the live gateway: blind entries, recount by another person, approve/reject."""
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
