"""An order's timeline reads the journal by index: its time must not grow with the whole history."""
from sqlalchemy import text
from sqlalchemy.orm import Session

from scan_service.domain import orders
from scan_service.models import Order
from tests.explain import plan_text, query_sent
from tests.scan_service.conftest import order, post


def plan(session: Session, query) -> str:
    session.execute(text("SET LOCAL enable_seqscan = off"))  # the table is small: ask what an index allows
    return plan_text(session, query)


def test_timeline_uses_the_indexes_not_a_journal_scan(scan, engine, monkeypatch):
    post(scan(), "/api/scan/orders", order())
    with Session(engine) as session:
        found = session.get(Order, "TB20261122001")
        with query_sent(monkeypatch) as captured:
            events = orders.timeline(session, found)
        assert [e.kind for e in events] == ["imported"]
        explained = plan(session, captured["query"])
        session.rollback()
    # Each way into the journal is an index condition, never a filter over every event.
    for condition in ("Index Cond: ((order_no)::text =", "Index Cond: (pick_id = picks.id)",
                      "Index Cond: (verification_id = verifications.id)"):
        assert condition in explained, explained
    assert "Seq Scan" not in explained and "Filter:" not in explained, explained
