"""The statements the floor's hot paths run on the cursor: their plans read by index."""
import pytest
from sqlalchemy import text

from scan_service.domain import scanrows

PARAMS = {"refs": ["TB20261122001"], "waybills": ["SF1234567890123"], "order_nos": ["TB20261122001"],
          "waybill": "SF1234567890123", "basket": "BK-017"}


@pytest.mark.parametrize("name", ["orders_named", "orders", "order_lines", "order_notes", "parcel", "basket_open"])
def test_order_statements_read_by_index_never_the_whole_table(engine, name):
    """The keys looked up are index conditions, never a filter over a whole table or index: the named
    orders' lock once read every order (`waybill_no IN (SELECT ...)` can use no index)."""
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(row[0] for row in conn.exec_driver_sql("EXPLAIN " + scanrows._statements()[name], PARAMS))
    assert "Seq Scan" not in plan, plan
    assert not [line for line in plan.splitlines() if "Filter:" in line and ("ANY" in line or "= $" in line)], plan
