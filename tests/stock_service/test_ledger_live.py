"""The ledger over real HTTP through the live gateway: races, replays, bad input, the DB trigger."""
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

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
    stock_up,
)

pytestmark = pytest.mark.live


@pytest.fixture
def http(floor) -> Caller:
    return Caller(floor.login("stock_manager", badge="EDB_SM100"), floor.base)


def test_moves_fifty_racing_for_ten_units_exactly_ten_win(floor, http, engine):
    """50 threads move 1 unit each out of a bin holding 10: 10 succeed, 40 get 409, nothing negative."""
    setup_floor(http)
    stock_up(http, "S-1", 10, "A-01-01-01")
    sessions = [Caller(floor.login("stock_manager", badge=f"EDB_RACE{i}"), floor.base) for i in range(5)]

    def take(i: int):
        return sessions[i % 5].post("/moves", {"sku": "S-1", "qty": 1, "from": "A-01-01-01", "to": "A-01-01-02"},
                                    key=str(uuid.uuid4()))

    with ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(pool.map(take, range(50)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses.count(201) == 10, statuses
    assert statuses.count(409) == 40, statuses
    assert {body(a)["error"]["code"] for a in answers if a.status_code == 409} == {"insufficient_stock"}
    balances = ledger_matches_balances(engine)
    assert balances == {("S-1", "A-01-01-02", ""): 10}
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM stock.balances WHERE qty < 0")).scalar() == 0


def test_move_copies_racing_with_one_key_move_once(floor, http, engine):
    """A move sent eight times at once with one key moves its units once; every copy gets one answer.

    The bin holds just the units moved: a copy that runs after the first is refused by what the
    first did (insufficient_stock), and is answered the first's answer all the same.
    """
    setup_floor(http)
    stock_up(http, "S-1", 3, "A-01-01-01")
    key = str(uuid.uuid4())
    answers = copies(floor, "stock_manager", "EDB_SM101", 8, lambda caller: caller.post(
        "/moves", {"sku": "S-1", "qty": 3, "from": "A-01-01-01", "to": "A-01-01-02"}, key=key))
    assert [a.status_code for a in answers] == [201] * 8, [(a.status_code, body(a)) for a in answers]
    assert len({a.text for a in answers}) == 1
    assert sum("Idempotent-Replayed" not in a.headers for a in answers) == 1
    assert ledger_matches_balances(engine) == {("S-1", "A-01-01-02", ""): 3}


def test_moves_racing_both_ways_between_two_bins_never_deadlock_nor_lose_a_unit(floor, http, engine):
    """40 threads move units A→B and B→A at once: rows lock in one order, so every answer is 201 or 409."""
    setup_floor(http)
    stock_up(http, "S-1", 20, "A-01-01-01")
    stock_up(http, "S-1", 20, "A-01-01-02")
    sessions = [Caller(floor.login("stock_manager", badge=f"EDB_BOTH{i}"), floor.base) for i in range(4)]

    def move(i: int):
        there, back = ("A-01-01-01", "A-01-01-02") if i % 2 else ("A-01-01-02", "A-01-01-01")
        return sessions[i % 4].post("/moves", {"sku": "S-1", "qty": 3, "from": there, "to": back},
                                    key=str(uuid.uuid4()))

    with ThreadPoolExecutor(max_workers=40) as pool:
        answers = list(pool.map(move, range(40)))
    assert {a.status_code for a in answers} <= {201, 409}, [body(a) for a in answers if a.status_code not in (201, 409)]
    assert sum(a.status_code == 201 for a in answers) == movement_count(engine) - 4   # 2 receipts + 2 putaways
    balances = ledger_matches_balances(engine)
    assert balances.get(("S-1", "A-01-01-01", ""), 0) + balances.get(("S-1", "A-01-01-02", ""), 0) == 40


def test_moves_replayed_idempotency_key_writes_one_movement(http, engine):
    """The same Idempotency-Key twice: same answer, replay header, one movement."""
    setup_floor(http)
    stock_up(http, "S-1", 5, "A-01-01-01")
    before = movement_count(engine)
    key = str(uuid.uuid4())
    move = {"sku": "S-1", "qty": 2, "from": "A-01-01-01", "to": "A-01-01-02"}
    first = http.post("/moves", move, key=key)
    again = http.post("/moves", move, key=key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    assert movement_count(engine) == before + 1
    with engine.connect() as conn:
        last = conn.execute(text("SELECT idempotency_key FROM stock.movements ORDER BY id DESC LIMIT 1")).scalar()
    assert last == key


BAD_MOVES = [
    ({"qty": 0}, "qty"), ({"qty": -1}, "qty"), ({"qty": 10**12}, "qty"), ({"qty": 1.5}, "qty"), ({"qty": "2"}, "qty"),
    ({"qty": True}, "qty"), ({"sku": 12}, "sku"), ({"sku": "x" * 65}, "sku"), ({"reason": "r" * 201}, "reason"),
    ({"reason": "a\x00b"}, "reason"), ({"colour": "red"}, "colour"), ({"from": None}, "from"),
]


@pytest.mark.parametrize(("change", "field"), BAD_MOVES)
def test_moves_bad_input_is_422_naming_the_field(http, engine, change, field):
    """Zero, negative, huge, fractional, wrong types, over-long, unknown fields: 422 with the field, no movement."""
    setup_floor(http)
    stock_up(http, "S-1", 5, "A-01-01-01")
    before = movement_count(engine)
    move = {"sku": "S-1", "qty": 1, "from": "A-01-01-01", "to": "A-01-01-02"} | change
    details = assert_error(http.post("/moves", move, key=str(uuid.uuid4())), 422, "invalid_input")
    assert field in details["fields"]
    assert movement_count(engine) == before


@pytest.mark.parametrize(("change", "code", "field"), [
    ({"sku": "NOPE"}, "unknown_sku", "sku"), ({"from": "Z-99"}, "unknown_location", "from"),
    ({"to": "Z-98"}, "unknown_location", "to")])
def test_moves_unknown_sku_or_location_is_404_naming_it(http, engine, change, code, field):
    """An unknown SKU or location: 404 naming it, nothing written."""
    setup_floor(http)
    stock_up(http, "S-1", 5, "A-01-01-01")
    before = movement_count(engine)
    move = {"sku": "S-1", "qty": 1, "from": "A-01-01-01", "to": "A-01-01-02"} | change
    details = assert_error(http.post("/moves", move), 404, code)
    assert details[field] == change[field]
    assert movement_count(engine) == before


def test_skus_wrong_check_digit_is_422_invalid_barcode(http, engine):
    """An EAN-13 with a wrong check digit is refused and no SKU is written."""
    details = assert_error(http.post("/skus", {"sku": "BAD-1", "name": "坏条码", "barcodes": ["6901234567893"]}),
                           422, "invalid_barcode")
    assert details["barcode"] == "6901234567893"
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM stock.skus")).scalar() == 0


def test_movements_trigger_refuses_update_and_delete(http, engine):
    """The database itself refuses to edit or delete a ledger row; TRUNCATE stays possible."""
    setup_floor(http)
    stock_up(http, "S-1", 1, "A-01-01-01")
    for statement in ("UPDATE stock.movements SET qty = 99", "DELETE FROM stock.movements"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    assert movement_count(engine) == 2


def test_movements_list_pages_with_cursor(http):
    """The movements list pages by cursor and names from/to as api.md says."""
    setup_floor(http)
    stock_up(http, "S-1", 3, "A-01-01-01")
    first = ok(http.get("/movements?sku=S-1&limit=1"), 200)
    assert first["items"][0]["type"] == "receive" and first["items"][0]["from"] is None
    second = ok(http.get(f"/movements?sku=S-1&limit=1&cursor={first['next_cursor']}"), 200)
    assert second["items"][0]["type"] == "putaway" and second["next_cursor"] is None
    assert set(second["items"][0]) >= {"id", "type", "sku", "qty", "from", "to", "operator", "device", "reason",
                                       "reference", "at"}
    assert second["items"][0]["device"] == "HH-01"


def test_skus_import_gbk_csv_through_the_gateway(http):
    """A GBK-encoded CSV posted as text/csv through the gateway imports with its Chinese names."""
    data = f"sku,name,spec,barcode,bin\nG-1,保温杯 银,500ml,{ean13(42)},\n".encode("gbk")
    answer = http.client.post(http.base + "/api/stock/skus/import", data=data, headers={"Content-Type": "text/csv"})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"created": 1, "updated": 0, "errors": [], "applied": True}
    assert ok(http.get("/skus/G-1"), 200)["name"] == "保温杯 银"
