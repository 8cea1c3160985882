"""An order's timeline reads the journal by index: its time must not grow with the whole history."""
from psycopg.types.json import Jsonb
from sqlalchemy import text

from scan_service.domain import order_views
from tests.scan_service.conftest import order, post


def test_timeline_uses_the_indexes_not_a_journal_scan(scan, engine):
    post(scan(), "/api/scan/orders", order())
    assert [e["kind"] for e in scan().get("/api/scan/orders/TB20261122001").get_json()["events"]] == ["imported"]
    _floor_history(engine)
    params = {"order_no": "TB20261122001", "order_nos": Jsonb(["TB20261122001"])}
    with engine.connect() as conn, conn.connection.driver_connection.cursor() as cur:
        cur.execute("SET LOCAL enable_seqscan = off")  # the table is small: ask what an index allows
        explained = "\n".join(row[0] for row in cur.execute("EXPLAIN " + order_views.TIMELINE, params))
        conn.rollback()
    # Each way into the journal is an index condition, never a filter over every event.
    for condition in ("Index Cond: ((order_no)::text =", "Index Cond: (pick_id = picks.id)",
                      "Index Cond: (verification_id = verifications.id)"):
        assert condition in explained, explained
    assert "Seq Scan" not in explained and "Filter:" not in explained, explained


def _floor_history(engine) -> None:
    """Other orders' walks and checks with their scans, analysed: the planner prices the lookup on this
    table's own numbers, not on whatever an earlier test left in the statistics."""
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO scan.picks (basket, picker, picker_name, state, orders) "
            "SELECT 'BK-' || n, 'EDB_PH001', '', 'picked', jsonb_build_array('TB-H' || n) "
            "FROM generate_series(1, 500) AS n"))
        conn.execute(text(
            "INSERT INTO scan.verifications (waybill, verifier, verifier_name, state, orders) "
            "SELECT 'SF-H' || n, 'EDB_YH001', '', 'shipped', jsonb_build_array('TB-H' || n) "
            "FROM generate_series(1, 500) AS n"))
        conn.execute(text(
            "INSERT INTO scan.events (kind, operator, operator_name, device, detail, pick_id, verification_id, qty) "
            "SELECT 'pick_scan', 'EDB_PH001', '', 'HH', '{}'::jsonb, p.id, NULL::bigint, 1 "
            "FROM scan.picks p, generate_series(1, 5) "
            "UNION ALL "
            "SELECT 'verify_scan', 'EDB_YH001', '', 'HH', '{}'::jsonb, NULL::bigint, v.id, 1 "
            "FROM scan.verifications v, generate_series(1, 5)"))
        conn.execute(text("ANALYZE scan.picks; ANALYZE scan.verifications; ANALYZE scan.events"))
