"""Receipts and receiving over real HTTP through the live gateway: races, refusals that change nothing."""
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text

from common.testing import assert_error
from tests.stock_service.conftest import (
    Caller,
    body,
    copies,
    ean13,
    ledger_matches_balances,
    movement_count,
    ok,
    setup_floor,
)

pytestmark = pytest.mark.live


@pytest.fixture
def http(floor) -> Caller:
    return Caller(floor.login("stock_manager", badge="EDB_SM200"), floor.base)


def line_of(engine, receipt_id: int, sku: str) -> tuple[int, int] | None:
    with engine.connect() as conn:
        found = conn.execute(text("SELECT expected, received FROM stock.receipt_lines"
                                  " WHERE receipt_id = :r AND sku = :s"), {"r": receipt_id, "s": sku}).one_or_none()
    return None if found is None else tuple(found)


def race(floor, badge: str, hands: int, count: int, send) -> tuple[list, list[int]]:
    """`count` requests at once from `hands` receivers, `send(caller, i)` each; the answers and their statuses."""
    callers = [Caller(floor.login("receiver", badge=f"{badge}{i}"), floor.base) for i in range(hands)]
    with ThreadPoolExecutor(max_workers=count) as pool:
        answers = list(pool.map(lambda i: send(callers[i % hands], i), range(count)))
    return answers, sorted(a.status_code for a in answers)


def test_receive_thirty_racing_for_twenty_expected_exactly_twenty_go_in(floor, http, engine):
    """30 receivers scan one unit each of a line expecting 20: 20 answered 200, 10 over_receipt, 20 on the shelf."""
    setup_floor(http)
    receipt = ok(http.post("/receipts", {"ref": "PO-RACE", "lines": [{"sku": "S-1", "qty": 20}]}))
    answers, statuses = race(floor, "EDB_RCV", 5, 30, lambda caller, _i: caller.post(
        f"/receipts/{receipt['id']}/receive", {"code": ean13(1), "qty": 1}, key=str(uuid.uuid4())))
    assert statuses.count(200) == 20 and statuses.count(409) == 10, statuses
    assert {body(a)["error"]["code"] for a in answers if a.status_code == 409} == {"over_receipt"}
    # Each answer saw the line as the receive before it left it: the counts 1..20, each once.
    assert sorted(body(a)["received"] for a in answers if a.status_code == 200) == list(range(1, 21))
    assert line_of(engine, receipt["id"], "S-1") == (20, 20)
    assert ledger_matches_balances(engine) == {("S-1", "RECEIVING", ""): 20}
    assert movement_count(engine) == 20


def test_receive_copies_racing_with_one_key_go_in_once(floor, http, engine):
    """A receive sent eight times at once with one key: the unit goes in once and every copy gets the first's answer.

    The line expects one unit: a copy that runs after the first is refused over_receipt by what
    the first did, and is answered the first's answer all the same.
    """
    setup_floor(http)
    receipt = ok(http.post("/receipts", {"ref": "PO-COPIES", "lines": [{"sku": "S-1", "qty": 1}]}))
    key = str(uuid.uuid4())
    answers = copies(floor, "receiver", "EDB_RCV9", 8, lambda caller: caller.post(
        f"/receipts/{receipt['id']}/receive", {"code": ean13(1), "qty": 1}, key=key))
    assert [a.status_code for a in answers] == [200] * 8, [(a.status_code, body(a)) for a in answers]
    assert len({a.text for a in answers}) == 1 and body(answers[0])["received"] == 1
    assert sum("Idempotent-Replayed" not in a.headers for a in answers) == 1
    assert line_of(engine, receipt["id"], "S-1") == (1, 1)
    assert ledger_matches_balances(engine) == {("S-1", "RECEIVING", ""): 1}
    assert movement_count(engine) == 1


def test_putaway_copies_racing_with_one_key_move_once(floor, http, engine):
    """A putaway sent eight times at once with one key moves its units once; every copy gets one answer."""
    setup_floor(http)
    receipt = ok(http.post("/receipts", {"ref": "PO-UP2", "lines": [{"sku": "S-1", "qty": 4}]}))
    ok(http.post(f"/receipts/{receipt['id']}/receive", {"code": ean13(1), "qty": 4}), 200)
    key = str(uuid.uuid4())
    answers = copies(floor, "receiver", "EDB_PUT9", 8, lambda caller: caller.post(
        "/putaway", {"code": ean13(1), "qty": 3, "to": "A-01-01-01"}, key=key))
    assert [a.status_code for a in answers] == [201] * 8, [(a.status_code, body(a)) for a in answers]
    assert len({a.text for a in answers}) == 1
    assert ledger_matches_balances(engine) == {("S-1", "RECEIVING", ""): 1, ("S-1", "A-01-01-01", ""): 3}
    assert movement_count(engine) == 2


def test_receipt_racing_opens_of_one_ref_make_one_receipt(floor, http, engine):
    """Ten receipts opened at once with one ref: one 201, the rest 409 receipt_exists, one receipt with its lines."""
    setup_floor(http)

    def open_(_i: int):
        lines = [{"sku": "S-1", "qty": 2}, {"sku": "S-2", "qty": 1}]
        return http.post("/receipts", {"ref": "PO-TWICE", "lines": lines})

    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(open_, range(10)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses.count(201) == 1 and statuses.count(409) == 9, statuses
    assert {body(a)["error"]["code"] for a in answers if a.status_code == 409} == {"receipt_exists"}
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM stock.receipts WHERE ref = 'PO-TWICE'")).scalar() == 1
        assert conn.execute(text("SELECT count(*) FROM stock.receipt_lines")).scalar() == 2


def test_receipt_open_merges_lines_in_first_seen_order(http):
    setup_floor(http, skus=3)
    receipt = ok(http.post("/receipts", {"ref": "PO-MERGE", "lines": [
        {"sku": "S-2", "qty": 1}, {"sku": "S-1", "qty": 4}, {"sku": "S-2", "qty": 2}]}))
    assert [(ln["sku"], ln["expected"], ln["received"]) for ln in receipt["lines"]] == [("S-2", 3, 0), ("S-1", 4, 0)]
    assert (receipt["state"], receipt["location"], receipt["created_by"]) == ("open", "RECEIVING", "EDB_SM200")
    assert receipt["created_at"]
    assert ok(http.get(f"/receipts/{receipt['id']}"), 200)["lines"] == receipt["lines"]


def test_receipt_open_refusals_name_the_field_and_make_nothing(http, engine):
    setup_floor(http)
    one = [{"sku": "S-1", "qty": 1}]
    unknown = http.post("/receipts", {"ref": "PO-X", "lines": [*one, {"sku": "NOPE", "qty": 1}]})
    assert assert_error(unknown, 404, "unknown_sku") == {"lines.1.sku": "NOPE"}
    nowhere = http.post("/receipts", {"ref": "PO-X", "lines": one, "location": "NOWHERE"})
    assert assert_error(nowhere, 404, "unknown_location") == {"location": "NOWHERE"}
    assert_error(http.post("/receipts", {"ref": "PO-X", "lines": one, "location": "A-01-01-01"}),
                 409, "not_a_staging_location")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM stock.receipts")).scalar() == 0


def test_receive_refusals_change_nothing(floor, http, engine):
    """Unknown receipt or code, an item not on the receipt, over, closed: the line and the ledger stay as they were."""
    setup_floor(http, skus=3)
    receipt = ok(http.post("/receipts", {"ref": "PO-NO", "lines": [{"sku": "S-1", "qty": 5}]}))
    path = f"/receipts/{receipt['id']}/receive"
    assert_error(http.post("/receipts/999999/receive", {"code": ean13(1), "qty": 1}), 404, "unknown_receipt")
    assert assert_error(http.post(path, {"code": "NO-SUCH-CODE", "qty": 1}), 404, "unknown_code") == {
        "code": "NO-SUCH-CODE"}
    assert_error(http.post(path, {"code": ean13(2), "qty": 1}), 409, "not_on_receipt")
    assert_error(http.post(path, {"code": ean13(1), "qty": 6}), 409, "over_receipt")
    ok(http.post(f"/receipts/{receipt['id']}/close", {}), 200)
    assert_error(http.post(path, {"code": ean13(1), "qty": 1}), 409, "receipt_closed")
    assert line_of(engine, receipt["id"], "S-1") == (5, 0)
    assert line_of(engine, receipt["id"], "S-2") is None
    assert movement_count(engine) == 0


def test_receive_by_gtin14_and_sku_code_and_forced_new_line(floor, http, engine):
    """The code resolves as anywhere else (GTIN-14 of the EAN, the SKU code); a forced item not on the receipt
    gets a line expecting 0, by a stock manager only."""
    setup_floor(http, skus=2)
    receipt = ok(http.post("/receipts", {"ref": "PO-FORMS", "lines": [{"sku": "S-1", "qty": 5}]}))
    path = f"/receipts/{receipt['id']}/receive"
    assert ok(http.post(path, {"code": "0" + ean13(1), "qty": 2}), 200)["received"] == 2
    assert ok(http.post(path, {"code": "S-1", "qty": 1}), 200)["received"] == 3
    receiver = Caller(floor.login("receiver", badge="EDB_RCV9"), floor.base)
    assert_error(receiver.post(path, {"code": ean13(2), "qty": 1, "force": True}), 403, "force_needs_stock_manager")
    assert line_of(engine, receipt["id"], "S-2") is None
    forced = ok(http.post(path, {"code": ean13(2), "qty": 2, "force": True}), 200)
    assert (forced["sku"], forced["expected"], forced["received"]) == ("S-2", 0, 2)
    assert forced["receipt_id"] == receipt["id"]
    movements = ok(http.get("/movements?type=receive"), 200)["items"]
    assert sorted((m["sku"], m["qty"], m["reason"]) for m in movements) == [
        ("S-1", 1, ""), ("S-1", 2, ""), ("S-2", 2, "over_receipt")]
    ledger_matches_balances(engine)


def test_putaway_twelve_racing_for_five_received_exactly_five_go_up(floor, http, engine):
    """Five units wait in receiving; twelve putaways of one race for them: five 201, seven insufficient_stock."""
    setup_floor(http)
    receipt = ok(http.post("/receipts", {"ref": "PO-UP", "lines": [{"sku": "S-1", "qty": 5}]}))
    ok(http.post(f"/receipts/{receipt['id']}/receive", {"code": ean13(1), "qty": 5}), 200)
    answers, statuses = race(floor, "EDB_PUT", 4, 12, lambda caller, i: caller.post(
        "/putaway", {"code": ean13(1), "qty": 1, "to": f"A-01-01-0{1 + i % 3}"}, key=str(uuid.uuid4())))
    assert statuses.count(201) == 5 and statuses.count(409) == 7, statuses
    assert {body(a)["error"]["code"] for a in answers if a.status_code == 409} == {"insufficient_stock"}
    balances = ledger_matches_balances(engine)
    assert sum(qty for (sku, place, _), qty in balances.items() if place.startswith("A-")) == 5
    assert ("S-1", "RECEIVING", "") not in balances


def test_putaway_refusals_name_what_is_wrong_and_move_nothing(http, engine):
    setup_floor(http)
    assert assert_error(http.post("/putaway", {"code": "NOPE", "qty": 1, "to": "A-01-01-01"}), 404,
                        "unknown_code") == {"code": "NOPE"}
    assert assert_error(http.post("/putaway", {"code": ean13(1), "qty": 1, "to": "NOWHERE"}), 404,
                        "unknown_location") == {"to": "NOWHERE"}
    assert_error(http.post("/putaway", {"code": ean13(1), "qty": 1, "to": "BK-001"}), 409, "not_a_bin")
    assert_error(http.post("/putaway", {"code": ean13(1), "qty": 1, "to": "A-01-01-01"}), 409, "insufficient_stock")
    assert movement_count(engine) == 0
