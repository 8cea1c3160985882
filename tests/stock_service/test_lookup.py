"""The item lookup: any code on an item finds it, with its on-hand and its bins, in one statement read by index."""
import re

import psycopg
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from common import db
from common.testing import assert_error
from stock_service.domain import barcodes as codes
from stock_service.domain import skus
from stock_service.models import Balance, Location
from tests.stock_service.conftest import Caller, ean13, ok, setup_floor, stock_up

UPC_A = "036000291452"
EAN_8 = "96385074"
FIELDS = ["sku", "name", "spec", "image_url", "barcodes", "active", "on_hand", "bins"]


def lookup(api: Caller, code: str) -> dict:
    return ok(api.get("/items/lookup", query_string={"code": code}), 200)


def as_the_orm_reads_it(engine, code: str) -> dict:
    """The same answer read through the ORM objects and relationships, statement by statement."""
    with Session(engine) as s:
        item = codes.resolve(s, code)
        bins = s.execute(select(Balance.location, Balance.qty).join(Location, Location.code == Balance.location)
                         .where(Balance.sku == item.sku, Balance.qty != 0, Location.kind == "bin")
                         .order_by(Location.sequence, Location.code)).all()
        on_hand = s.scalar(select(func.coalesce(func.sum(Balance.qty), 0))
                           .join(Location, Location.code == Balance.location)
                           .where(Balance.sku == item.sku, Location.kind.in_(skus.STORAGE_KINDS)))
        return {"sku": item.sku, "name": item.name, "spec": item.spec, "image_url": item.image_url,
                "barcodes": [b.code for b in item.barcodes], "active": item.active, "on_hand": on_hand,
                "bins": [{"location": r.location, "qty": r.qty} for r in bins]}


@pytest.fixture
def shelves(manager):
    """S-1 in bins whose walking order is not their code order, in a basket, on a negative-allowed bin,
    emptied from one bin and waiting in receiving; S-2 with nothing anywhere."""
    setup_floor(manager)
    for code, sequence, negative in (("Z-00", 5, False), ("B-SAME", 20, False), ("NEG-OK", 99, True)):
        ok(manager.post("/locations", {"code": code, "kind": "bin", "zone": "A", "sequence": sequence,
                                       "allow_negative": negative}))
    stock_up(manager, "S-1", 5, "A-01-01-03")
    stock_up(manager, "S-1", 3, "Z-00")
    stock_up(manager, "S-1", 2, "B-SAME")
    stock_up(manager, "S-1", 4, "A-01-01-02")
    ok(manager.post("/moves", {"sku": "S-1", "qty": 4, "from": "A-01-01-02", "to": "BK-001"}))  # zero left
    ok(manager.post("/moves", {"sku": "S-1", "qty": 2, "from": "NEG-OK", "to": "A-01-01-01"}))  # NEG-OK at -2
    receipt = ok(manager.post("/receipts", {"ref": "PO-STAGED", "lines": [{"sku": "S-1", "qty": 6}]}))
    ok(manager.post(f"/receipts/{receipt['id']}/receive", {"code": ean13(1), "qty": 6}), 200)  # stays in RECEIVING
    ok(manager.post("/skus", {"sku": "MUG-1", "name": "马克杯", "spec": "350ml", "image_url": "/img/mug.png",
                              "barcodes": ["INT-MUG-0001", EAN_8, UPC_A, "S-2"]}))
    return manager


def test_lookup_answers_the_item_its_on_hand_and_its_bins_in_walking_order(shelves, engine):
    """Bins by sequence then code; a basket counts on hand but is no bin; a zero balance is not listed, a
    negative one is; staging is neither on hand nor a bin."""
    item = lookup(shelves, ean13(1))
    assert list(item) == FIELDS
    assert item == {"sku": "S-1", "name": "商品 1", "spec": "", "image_url": None, "barcodes": [ean13(1)],
                    "active": True, "on_hand": 3 + 2 + 2 + 5 - 2 + 4,
                    "bins": [{"location": "Z-00", "qty": 3}, {"location": "A-01-01-01", "qty": 2},
                             {"location": "B-SAME", "qty": 2}, {"location": "A-01-01-03", "qty": 5},
                             {"location": "NEG-OK", "qty": -2}]}
    assert item == as_the_orm_reads_it(engine, ean13(1))


def test_lookup_of_an_item_with_nothing_on_hand(shelves, engine):
    item = lookup(shelves, ean13(2))
    assert item == {"sku": "S-2", "name": "商品 2", "spec": "", "image_url": None, "barcodes": [ean13(2)],
                    "active": True, "on_hand": 0, "bins": []}
    assert item == as_the_orm_reads_it(engine, ean13(2))


@pytest.mark.parametrize("code", [ean13(1), f"0{ean13(1)}", f"(01)0{ean13(1)}", f"(01)0{ean13(1)}(10)LOT7",
                                  f"010{ean13(1)}\x1d10LOT7", "S-1"])
def test_lookup_by_sku_code_and_every_form_of_its_gtin(shelves, engine, code):
    """The EAN-13 as printed, as a GTIN-14, in GS1 with (01) and as raw GS1 element strings, and the SKU code."""
    item = lookup(shelves, code)
    assert item["sku"] == "S-1" and item["on_hand"] == 14 and len(item["bins"]) == 5
    assert item == as_the_orm_reads_it(engine, code)


@pytest.mark.parametrize("code", [UPC_A, f"0{UPC_A}", f"00{UPC_A}", f"(01)00{UPC_A}", EAN_8, f"000000{EAN_8}",
                                  f"(01)000000{EAN_8}", "INT-MUG-0001", "MUG-1"])
def test_lookup_upc_a_and_ean_8_in_their_longer_forms(shelves, engine, code):
    """A stored UPC-A or EAN-8 is found when scanned as EAN-13 or GTIN-14; barcodes come in code order."""
    item = lookup(shelves, code)
    assert item == {"sku": "MUG-1", "name": "马克杯", "spec": "350ml", "image_url": "/img/mug.png",
                    "barcodes": [UPC_A, EAN_8, "INT-MUG-0001", "S-2"], "active": True, "on_hand": 0, "bins": []}
    assert item == as_the_orm_reads_it(engine, code)


def test_a_barcode_wins_over_a_sku_code_it_spells(shelves, engine):
    """`S-2` is MUG-1's barcode and SKU S-2's code: the barcode is asked first, as for every scan."""
    assert lookup(shelves, "S-2")["sku"] == "MUG-1"
    assert as_the_orm_reads_it(engine, "S-2")["sku"] == "MUG-1"


@pytest.mark.parametrize("code", ["6999999999999", "(01)06999999999999", "NOPE", "s-1"])
def test_unknown_code_is_404_naming_it(shelves, code):
    assert assert_error(shelves.get("/items/lookup", query_string={"code": code}), 404, "unknown_code") == {
        "code": code}


def test_a_counter_sees_the_item_not_its_stock(shelves, service):
    counter = Caller(service("stock", "counter", badge="EDB_CT001"))
    assert lookup(counter, ean13(1)) == {"sku": "S-1", "name": "商品 1", "spec": "", "image_url": None,
                                         "barcodes": [ean13(1)], "active": True}


def test_disabled_item_still_looks_up(manager):
    setup_floor(manager)
    ok(manager.post("/skus/S-2/disable", {"reason": "discontinued"}), 200)
    assert lookup(manager, ean13(2))["active"] is False


def test_lookup_is_one_statement_on_the_cursor(shelves, monkeypatch):
    """The whole answer in one round trip besides the transaction's own, and never from the ledger."""
    sent = []
    real = psycopg.Cursor.execute

    def keep(self, query, *args, **kwargs):
        sent.append(query)
        return real(self, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", keep)
    assert lookup(shelves, f"(01)0{ean13(1)}")["on_hand"] == 14
    assert_error(shelves.get("/items/lookup", query_string={"code": "NOPE"}), 404, "unknown_code")
    assert sent == [skus._LOOKUP, skus._LOOKUP]


SKUS, BINS = 5000, 2000


@pytest.fixture
def floor_sized(engine, clean):
    """Thousands of SKUs, each with two barcodes, stock in three bins and a basket, and a ledger ten
    times the balances, analysed: the planner prices the lookup as on a real floor."""
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO stock.locations (code, kind, zone, sequence) "
                          "SELECT 'B-' || lpad(g::text, 4, '0'), 'bin', 'B', g FROM generate_series(1, :bins) g"),
                     {"bins": BINS})
        conn.execute(text("INSERT INTO stock.locations (code, kind) "
                          "SELECT 'BK-' || g, 'basket' FROM generate_series(1, 20) g"))
        conn.execute(text("INSERT INTO stock.skus (sku, name, spec, active) "
                          "SELECT 'S-' || g, 'item ' || g, '', true FROM generate_series(1, :n) g"), {"n": SKUS})
        conn.execute(text("INSERT INTO stock.barcodes (code, sku) VALUES (:code, :sku)"),
                     [{"code": ean13(i), "sku": f"S-{i}"} for i in range(1, SKUS + 1)])
        conn.execute(text("INSERT INTO stock.barcodes (code, sku) SELECT 'INT-' || sku, sku FROM stock.skus"))
        conn.execute(text("INSERT INTO stock.balances (sku, location, lot, qty) "
                          "SELECT 'S-' || g, 'B-' || lpad(((g + 97 * k) % :bins + 1)::text, 4, '0'), '', k "
                          "FROM generate_series(1, :n) g, generate_series(1, 3) k "
                          "UNION ALL SELECT 'S-' || g, 'BK-' || (g % 20 + 1), '', 1 FROM generate_series(1, :n) g"),
                     {"n": SKUS, "bins": BINS})
        conn.execute(text("INSERT INTO stock.movements (type, sku, qty, to_location, operator, reference) "
                          "SELECT 'receive', 'S-' || (g % :n + 1), 1, 'BK-1', 'EDB_T', 'seed' "
                          "FROM generate_series(1, :n * 10) g"), {"n": SKUS})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM (ANALYZE) stock.locations, stock.skus, stock.barcodes, stock.balances, "
                          "stock.movements"))


def generic(sql: str) -> str:
    """The statement with $1, $2... for its named placeholders, as EXPLAIN (GENERIC_PLAN) takes it."""
    names = list(dict.fromkeys(re.findall(r"%\((\w+)\)s", sql)))
    return re.sub(r"%\((\w+)\)s", lambda m: f"${names.index(m[1]) + 1}", sql)


def assert_read_by_index(plan: str) -> None:
    assert "Seq Scan" not in plan and "movements" not in plan, plan
    for condition in ("Index Cond: ((code)::text = ANY (", "Index Cond: ((sku)::text = (s.sku)::text)",
                      "Index Cond: ((code)::text = (b.location)::text)"):
        assert condition in plan, plan
    assert plan.count("Index Cond: ((sku)::text = (s.sku)::text)") == 2, plan  # barcodes and balances


@pytest.mark.parametrize("code", [ean13(42), f"(01)0{ean13(42)}", "S-42", "NOPE"])
def test_lookup_plan_reads_by_index_never_the_ledger(engine, floor_sized, code):
    """Each table is entered by an index condition on the key asked; nothing is read whole."""
    with engine.begin() as conn:
        plan = "\n".join(row[0] for row in conn.exec_driver_sql(
            "EXPLAIN " + skus._LOOKUP, {"forms": codes.candidates(code), "code": code,
                                        "storage": list(skus.STORAGE_KINDS)}))
    assert_read_by_index(plan)


def test_lookup_generic_plan_reads_by_index_too(engine, floor_sized):
    """psycopg prepares a statement run often, and PostgreSQL may then keep one plan for any values."""
    with engine.begin() as conn:
        plan = "\n".join(row[0] for row in conn.exec_driver_sql("EXPLAIN (GENERIC_PLAN) " + generic(skus._LOOKUP)))
    assert "$1" in plan, plan
    assert_read_by_index(plan)


def test_lookup_answers_the_same_on_a_floor_sized_table(engine, floor_sized, apps):
    """On the sized floor, through a unit of work as the endpoint runs it: the ORM's answer."""
    with apps["stock"].app_context(), db.unit() as rows:
        item = skus.lookup(rows, ean13(42))
    assert item == as_the_orm_reads_it(engine, ean13(42))
    assert item["on_hand"] == 1 + 2 + 3 + 1
    assert item["bins"] == [{"location": "B-0140", "qty": 1}, {"location": "B-0237", "qty": 2},
                            {"location": "B-0334", "qty": 3}]
