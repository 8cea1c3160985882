"""Count entries: how a scan resolves, what a bin's first scan freezes, recounts, refusals, statements sent."""
import psycopg
import pytest
from sqlalchemy import event, select, text

from common import db
from common.auth import Identity
from common.testing import assert_error, statements
from stock_service.domain import counts
from stock_service.models import CountLine
from tests.stock_service.conftest import Caller, ean13, ok, setup_floor, stock_up

BIN, OTHER_BIN = "A-01-01-01", "A-01-01-02"
UPC_A = "036000291452"


@pytest.fixture
def team(service):
    """A stock manager, two counters: in-process clients of the stock app."""
    return {name: Caller(service("stock", role, badge=badge)) for name, role, badge in (
        ("manager", "stock_manager", "EDB_SM300"), ("counter", "counter", "EDB_CT301"),
        ("other", "counter", "EDB_CT302"))}


@pytest.fixture
def stocked(team):
    """S-1 ×10 and S-2 ×4 in the bin, S-3 ×3 in another bin, S-4 nowhere (its barcode a UPC-A)."""
    manager = team["manager"]
    setup_floor(manager, skus=3)
    ok(manager.post("/skus", {"sku": "S-4", "name": "商品 4", "barcodes": [UPC_A]}))
    stock_up(manager, "S-1", 10, BIN)
    stock_up(manager, "S-2", 4, BIN)
    stock_up(manager, "S-3", 3, OTHER_BIN)
    return team


def enter(caller, count_id, code, qty, location=BIN):
    return caller.post(f"/counts/{count_id}/entries", {"location": location, "code": code, "qty": qty})


def lines(engine, count_id):
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(
            "SELECT location, sku, snapshot_qty, counted, counted_by, recounted, recounted_by, state "
            "FROM stock.count_lines WHERE count_id = :c ORDER BY id"), {"c": count_id})]


def test_first_scan_freezes_every_sku_of_the_bin(stocked, engine):
    """The bin's first scan writes a line for each SKU it holds (counted 0 until scanned), at the ledger's end."""
    count = ok(stocked["manager"].post("/counts", {"locations": [BIN, OTHER_BIN]}))
    entry = ok(enter(stocked["counter"], count["id"], ean13(2), 3))
    assert entry == {"id": entry["id"], "count_id": count["id"], "location": BIN, "sku": "S-2", "name": "商品 2",
                     "qty": 3, "counted": 3}
    assert lines(engine, count["id"]) == [(BIN, "S-1", 10, 0, None, None, None, "open"),
                                          (BIN, "S-2", 4, 3, "EDB_CT301", None, None, "open")]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT location, snapshot_movement_id = (SELECT max(id) FROM stock.movements) "
                                 "FROM stock.count_bins WHERE count_id = :c"), {"c": count["id"]}).all() == [
            (BIN, True)]
    # A SKU the bin does not hold gets its line at its first scan; the other counter does not become its counter.
    assert ok(enter(stocked["other"], count["id"], UPC_A, 2))["counted"] == 2
    assert ok(enter(stocked["counter"], count["id"], ean13(2), 1))["counted"] == 4
    assert ok(enter(stocked["counter"], count["id"], "S-4", 1))["counted"] == 3
    assert lines(engine, count["id"]) == [(BIN, "S-1", 10, 0, None, None, None, "open"),
                                          (BIN, "S-2", 4, 4, "EDB_CT301", None, None, "open"),
                                          (BIN, "S-4", 0, 3, "EDB_CT302", None, None, "open")]


def test_first_scan_of_a_sku_the_bin_lacks_comes_after_the_bins_own(stocked, engine):
    count = ok(stocked["manager"].post("/counts", {"locations": [BIN]}))
    entry = ok(enter(stocked["counter"], count["id"], UPC_A, 5))
    assert (entry["sku"], entry["counted"]) == ("S-4", 5)
    assert lines(engine, count["id"]) == [(BIN, "S-1", 10, 0, None, None, None, "open"),
                                          (BIN, "S-2", 4, 0, None, None, None, "open"),
                                          (BIN, "S-4", 0, 5, "EDB_CT301", None, None, "open")]


def test_count_of_skus_freezes_only_those(stocked, engine):
    count = ok(stocked["manager"].post("/counts", {"skus": ["S-2"]}))
    assert count["locations"] == [BIN]
    ok(enter(stocked["counter"], count["id"], ean13(2), 4))
    assert lines(engine, count["id"]) == [(BIN, "S-2", 4, 4, "EDB_CT301", None, None, "open")]
    assert assert_error(enter(stocked["counter"], count["id"], ean13(1), 1), 409, "sku_not_in_count") == {
        "code": ean13(1), "sku": "S-1"}
    assert ok(stocked["counter"].post(f"/counts/{count['id']}/submit", {}), 200)["closed"] is True


@pytest.mark.parametrize("code", [ean13(1), "0" + ean13(1), f"(01)0{ean13(1)}", f"]C1010{ean13(1)}", "S-1"])
def test_code_resolves_as_a_barcode_in_any_gtin_form_or_as_the_sku(stocked, code):
    count = ok(stocked["manager"].post("/counts", {"locations": [BIN]}))
    assert ok(enter(stocked["counter"], count["id"], code, 2))["sku"] == "S-1"
    entry = ok(enter(stocked["counter"], count["id"], "00" + UPC_A, 1))  # a UPC-A scanned as GTIN-14
    assert (entry["sku"], entry["name"]) == ("S-4", "商品 4")


def test_refusals_name_what_is_wrong_and_change_nothing(stocked, engine):
    """Each refusal as before, in the same order: the count, its state, the bin, the code, the SKU."""
    counter = stocked["counter"]
    count = ok(stocked["manager"].post("/counts", {"locations": [BIN]}))
    assert assert_error(enter(counter, 999999, ean13(1), 1), 404, "unknown_count") == {"id": 999999}
    assert assert_error(enter(counter, count["id"], "NOPE", 1, OTHER_BIN), 409, "location_not_in_count") == {
        "location": OTHER_BIN}
    assert assert_error(enter(counter, count["id"], "NOPE", 1), 404, "unknown_code") == {"code": "NOPE"}
    assert lines(engine, count["id"]) == []
    ok(enter(counter, count["id"], ean13(1), 10))
    ok(enter(counter, count["id"], ean13(2), 4))
    assert ok(counter.post(f"/counts/{count['id']}/submit", {}), 200)["state"] == "submitted"
    assert assert_error(enter(counter, count["id"], "NOPE", 1), 409, "count_not_open") == {
        "id": count["id"], "state": "closed"}
    assert [r[3] for r in lines(engine, count["id"])] == [10, 4]


def test_recount_adds_up_by_another_counter_and_leaves_the_count(stocked, engine, service):
    """In a recount only the recounted lines take entries, never from their first counter; they accumulate."""
    counter, other = stocked["counter"], stocked["other"]
    count = ok(stocked["manager"].post("/counts", {"locations": [BIN]}))
    ok(enter(counter, count["id"], ean13(1), 6))
    ok(enter(counter, count["id"], ean13(2), 4))
    assert ok(counter.post(f"/counts/{count['id']}/submit", {}), 200)["recount"] == [{"location": BIN, "sku": "S-1"}]
    assert assert_error(enter(counter, count["id"], ean13(1), 1), 409, "recount_needs_another_counter") == {
        "location": BIN, "sku": "S-1", "counted_by": "EDB_CT301"}
    assert assert_error(enter(other, count["id"], ean13(2), 1), 409, "not_in_recount") == {
        "location": BIN, "sku": "S-2"}
    assert assert_error(enter(other, count["id"], UPC_A, 1), 409, "not_in_recount") == {
        "location": BIN, "sku": "S-4"}
    first = ok(enter(other, count["id"], ean13(1), 3))
    assert first == {"id": first["id"], "count_id": count["id"], "location": BIN, "sku": "S-1", "name": "商品 1",
                     "qty": 3, "counted": 3}
    assert ok(enter(other, count["id"], ean13(1), 6))["counted"] == 9
    third = Caller(service("stock", "supervisor", badge="EDB_SV303"))
    assert ok(enter(third, count["id"], ean13(1), 1))["counted"] == 10
    assert lines(engine, count["id"]) == [(BIN, "S-1", 10, 6, "EDB_CT301", 10, "EDB_SV303", "recount"),
                                          (BIN, "S-2", 4, 4, "EDB_CT301", None, None, "ok")]
    assert ok(other.post(f"/counts/{count['id']}/submit", {}), 200) == {
        "id": count["id"], "state": "submitted", "closed": True, "pending": 0, "recount": []}


def test_entry_with_a_key_counts_once(stocked, engine):
    """The handheld's retry of an entry (same Idempotency-Key) gets the first answer; the units count once."""
    count = ok(stocked["manager"].post("/counts", {"locations": [BIN]}))
    path, body = f"/counts/{count['id']}/entries", {"location": BIN, "code": ean13(1), "qty": 4}
    first = stocked["counter"].post(path, body, key="entry-1")
    again = stocked["counter"].post(path, body, key="entry-1")
    assert ok(first) == ok(again) and again.headers.get("Idempotent-Replayed") == "true"
    assert ok(stocked["counter"].post(path, body, key="entry-2"))["counted"] == 8
    assert [r[3] for r in lines(engine, count["id"])] == [8, 0]


def test_entry_statements_on_the_cursor_and_none_through_the_orm(stocked, monkeypatch):
    """A bin's first scan: lock, claim, freeze. Every later scan: lock, add. The ORM sends nothing."""
    count = ok(stocked["manager"].post("/counts", {"locations": [BIN]}))
    sent, orm = [], []
    real = psycopg.Cursor.execute

    def keep(self, query, *args, **kwargs):
        sent.append(query)
        return real(self, query, *args, **kwargs)

    def through_the_orm(*args):
        orm.append(args)

    monkeypatch.setattr(psycopg.Cursor, "execute", keep)
    engine = stocked["counter"].client.app.extensions["db_engine"]
    event.listen(engine, "before_cursor_execute", through_the_orm)
    try:
        ok(enter(stocked["counter"], count["id"], ean13(1), 1))
        first, sent[:] = list(sent), []
        ok(enter(stocked["counter"], count["id"], ean13(2), 1))
        ok(enter(stocked["counter"], count["id"], ean13(2), 1))
    finally:
        event.remove(engine, "before_cursor_execute", through_the_orm)
    assert first == [counts._LOCK, counts._CLAIM, counts._SNAPSHOT]
    assert sent == [counts._LOCK, counts._ADD] * 2
    assert orm == []


def test_entry_through_a_session_leaves_its_objects_current(stocked, apps):
    """A caller's Session holding the count's lines reads them as the entry left them."""
    count = ok(stocked["manager"].post("/counts", {"locations": [BIN]}))
    ok(enter(stocked["counter"], count["id"], ean13(1), 1))
    with apps["stock"].app_context(), db.transaction() as s:
        line = s.scalar(select(CountLine).where(CountLine.count_id == count["id"], CountLine.sku == "S-1"))
        assert line.counted == 1
        entry = counts.enter(s, Identity(badge="EDB_CT301"), count["id"], location=BIN, code=ean13(1), qty=2)
        assert (entry["counted"], line.counted) == (3, 3)


def test_submit_reads_every_line_expected_in_statements_that_do_not_grow(team, engine):
    """A bin of eight SKUs is submitted with the statements of a bin of one; moves after the first scan count."""
    manager = team["manager"]
    setup_floor(manager, skus=8, bins=2)
    stock_up(manager, "S-1", 3, "A-01-01-01")
    for n in range(1, 9):
        stock_up(manager, f"S-{n}", 2, "A-01-01-02")
    submitted = []
    for location, skus in (("A-01-01-01", 1), ("A-01-01-02", 8)):
        count = ok(manager.post("/counts", {"locations": [location]}))
        enter(manager, count["id"], ean13(1), 1, location)
        ok(manager.post("/moves", {"sku": "S-1", "qty": 1, "from": location, "to": "BK-001"}))  # after the mark
        with statements() as sent:
            ok(manager.post(f"/counts/{count['id']}/submit", {}), 200)
        submitted.append(len(sent))
        found = {(ln["sku"], ln["expected"], ln["counted"])
                 for ln in ok(manager.get(f"/counts/{count['id']}/variances"), 200)["items"]}
        first = 2 if location == "A-01-01-01" else 1
        assert found == {("S-1", first, 1)} | {(f"S-{n}", 2, 0) for n in range(2, skus + 1)}
    assert 0 < submitted[0] == submitted[1], submitted
