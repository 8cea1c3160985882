"""The statements the floor's hot paths run on the cursor: their plans read by index."""
import pytest
from sqlalchemy import text

from scan_service.domain import scanrows

PARAMS = {"refs": ["TB-00042"], "waybills": ["SF-00042"], "order_nos": ["TB-00042"], "waybill": "SF-00042"}


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


@pytest.mark.parametrize("name", ["orders_named", "orders", "order_lines", "parcel"])
def test_order_statements_read_by_index_never_the_whole_table(engine, history, name):
    """The keys looked up are index conditions, never a filter over a whole table or index: the named
    orders' lock once read every order (`waybill_no IN (SELECT ...)` can use no index)."""
    with engine.begin() as conn:
        plan = "\n".join(row[0] for row in conn.exec_driver_sql("EXPLAIN " + scanrows._statements()[name], PARAMS))
    assert "Seq Scan" not in plan, plan
    assert not [line for line in plan.splitlines() if "Filter:" in line and ("ANY" in line or "= $" in line)], plan
