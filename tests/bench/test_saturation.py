"""The saturation phase's orders: one line of UNITS units each, picks and checks on different waybills."""
import csv
import io

from bench import saturation


def test_saturation_orders_are_one_line_each_on_their_own_waybill():
    rows = list(csv.DictReader(io.StringIO(saturation.orders_csv(50).decode())))
    assert len(rows) == 100
    assert {r["qty"] for r in rows} == {str(saturation.UNITS)}
    assert len({r["order_no"] for r in rows}) == 100 and len({r["waybill_no"] for r in rows}) == 100
    picks = {r["sku"] for r in rows if r["order_no"].startswith("TB2026SATP")}
    checks = {r["sku"] for r in rows if r["order_no"].startswith("TB2026SATV")}
    assert len(picks) == 50 and len(checks) == 50 and not picks & checks
