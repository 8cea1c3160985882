"""An order's timeline reads the journal by index: its time must not grow with the whole history."""
from psycopg.types.json import Jsonb

from scan_service.domain import order_views
from tests.scan_service.conftest import order, post


def test_timeline_uses_the_indexes_not_a_journal_scan(scan, engine):
    post(scan(), "/api/scan/orders", order())
    assert [e["kind"] for e in scan().get("/api/scan/orders/TB20261122001").get_json()["events"]] == ["imported"]
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
