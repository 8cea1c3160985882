"""The statements the floor's hot paths run on the cursor: their plans read by index, their locks."""
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text
from sqlalchemy.orm import sessionmaker

from common import db
from common.testing import statements
from scan_service.domain import scanrows

PARAMS = {"refs": ["TB-00042"], "waybills": ["SF-00042"], "order_nos": ["TB-00042"], "waybill": "SF-00042",
          "basket": "BK-001", "state": "printed", "limit": 5}


@pytest.fixture
def history(engine, clean):
    """Five thousand orders with a line each, analysed: the planner prices a lookup as on a real floor."""
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO scan.orders (order_no, shop, waybill_no, paid, state, content_hash, allocated) "
            "SELECT 'TB-' || lpad(n::text, 5, '0'), 'shop', 'SF-' || lpad(n::text, 5, '0'), true, 'shipped', "
            "md5(n::text), false FROM generate_series(1, 5000) AS n"))
        conn.execute(text("INSERT INTO scan.order_lines (order_no, sku, qty, returned) "
                          "SELECT order_no, 'MUG-01', 1, 0 FROM scan.orders"))
        conn.execute(text("ANALYZE scan.orders; ANALYZE scan.order_lines"))


@pytest.mark.parametrize("name", ["orders_named", "orders", "order_lines", "parcel", "basket_open"])
def test_order_statements_read_by_index_never_the_whole_table(engine, history, name):
    """The keys looked up are index conditions, never a filter over a whole table or index: the named
    orders' lock once read every order (`waybill_no IN (SELECT ...)` can use no index)."""
    with engine.begin() as conn:
        plan = "\n".join(row[0] for row in conn.exec_driver_sql("EXPLAIN " + scanrows._statements()[name], PARAMS))
    assert "Seq Scan" not in plan, plan
    assert not [line for line in plan.splitlines() if "Filter:" in line and ("ANY" in line or "= $" in line)], plan


def test_a_pick_is_locked_and_read_with_its_tasks_in_one_statement(engine, walk):
    with db.standalone(sessionmaker(bind=engine)) as s, statements() as sent:
        pick = scanrows.read_pick(s, walk)
        assert scanrows.read_pick(s, walk + 1000) is None
    assert len(sent) == 2  # one each
    assert (pick.id, pick.state, pick.basket, pick.orders) == (walk, "open", "BK-001", ["TB-1"])
    assert [(t.seq, t.sku, t.barcodes, t.qty, t.picked) for t in pick.tasks] == [
        (1, "TS-1", ["6901234567892"], 3, 0), (2, "MUG-01", [], 1, 0)]


def test_a_pick_without_tasks_is_still_found(engine, walk):
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM scan.pick_tasks WHERE pick_id = :id"), {"id": walk})
    with db.standalone(sessionmaker(bind=engine)) as s:
        assert scanrows.read_pick(s, walk).tasks == []


def test_a_scan_waiting_for_the_lock_reads_what_the_scan_before_it_committed(engine, walk):
    """The tasks are read after the lock is granted: a racing scan's committed count is seen, never lost."""
    holder = engine.raw_connection()
    try:
        cursor = holder.cursor()
        cursor.execute("SELECT id FROM scan.picks WHERE id = %s FOR UPDATE", (walk,))
        with ThreadPoolExecutor(1) as pool:
            waiting = pool.submit(_locked_tasks, engine, walk)
            time.sleep(0.3)
            assert not waiting.done()  # blocked on the pick's lock
            cursor.execute("UPDATE scan.pick_tasks SET picked = 2 WHERE pick_id = %s AND seq = 1", (walk,))
            holder.commit()
            assert waiting.result(timeout=10) == {1: 2, 2: 0}
    finally:
        holder.close()


def _locked_tasks(engine, pick_id: int) -> dict[int, int]:
    with db.standalone(sessionmaker(bind=engine)) as s:
        return {task.seq: task.picked for task in scanrows.read_pick(s, pick_id).tasks}


def test_a_new_pick_and_its_tasks_are_one_statement(engine, clean):
    plan = [{"seq": n, "location": f"A-01-01-0{n}", "sku": f"S-{n}", "name": "", "qty": n, "barcodes": [f"69{n}"]}
            for n in (1, 2, 3)]
    with db.standalone(sessionmaker(bind=engine)) as s:
        with statements() as sent:
            started = scanrows.start_pick(s, "BK-002", "EDB_PH001", "王芳", ["TB-1"], plan)
        assert len(sent) == 1  # the orders' move waits for the commit's statement
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, seq, sku, name, qty, barcodes FROM scan.pick_tasks "
                                 "WHERE pick_id = :id ORDER BY seq"), {"id": started.id}).all()
    assert [(t.id, t.seq, t.sku, t.name, t.qty) for t in started.tasks] == [
        (row.id, row.seq, row.sku, row.sku, row.qty) for row in rows]  # a task without a name shows its SKU
    assert [row.barcodes for row in rows] == [["691"], ["692"], ["693"]]
    assert started.created_at is not None and started.state == "open"
