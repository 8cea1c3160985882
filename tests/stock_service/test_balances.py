"""The stock enquiry by SKU reads the balances by index, never the ledger: its cost must not grow with history."""
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from stock_service.domain import stock
from tests.explain import plan_text, query_sent
from tests.stock_service.conftest import ok

SKUS = 3000
LEDGER = 30_000


def seed(engine) -> None:
    """SKUs each with a balance in its bin, and a ledger entry per unit, written with SQL (set-up, not tested)."""
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO stock.locations (code, kind, zone, sequence) "
                          "SELECT 'B-' || g, 'bin', 'B', g FROM generate_series(1, 100) g"))
        conn.execute(text("INSERT INTO stock.skus (sku, name, spec, active, home_bin) "
                          "SELECT 'S-' || g, 'item ' || g, '', true, 'B-' || (g % 100 + 1) "
                          "FROM generate_series(1, :n) g"), {"n": SKUS})
        conn.execute(text("INSERT INTO stock.balances (sku, location, lot, qty) "
                          "SELECT sku, home_bin, '', 0 FROM stock.skus"))
    grow_ledger(engine, SKUS)


def grow_ledger(engine, rows: int) -> None:
    """Receive `rows` units spread over every SKU, the balances raised to match, then fresh statistics."""
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO stock.movements (type, sku, qty, to_location, operator, reference) "
                          "SELECT 'receive', s.sku, 1, s.home_bin, 'EDB_T', 'grow' "
                          "FROM generate_series(1, :rows) g JOIN stock.skus s ON s.sku = 'S-' || (g % :n + 1)"),
                     {"rows": rows, "n": SKUS})
        conn.execute(text("UPDATE stock.balances b SET qty = m.qty FROM (SELECT sku, to_location, sum(qty) AS qty "
                          "FROM stock.movements GROUP BY sku, to_location) m "
                          "WHERE b.sku = m.sku AND b.location = m.to_location"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM (ANALYZE) stock.movements, stock.balances"))


def plan_of_balances(engine, monkeypatch, sku: str) -> str:
    """The plan PostgreSQL picks for the enquiry's own statement, with the statistics of the moment."""
    with Session(engine) as session:
        with query_sent(monkeypatch) as captured:
            rows, _ = stock.balances(session, sku, None, 50, None)
        assert [(b.sku, b.qty) for b in rows] == [(sku, rows[0].qty)] and rows[0].qty > 0
        plan = plan_text(session, captured["query"])
        session.rollback()
    return plan


def test_balances_by_sku_plan_is_the_same_index_lookup_at_any_ledger_size(manager, engine, monkeypatch):
    """Ten times the ledger, fresh statistics: the same plan, an index condition on the SKU, no ledger."""
    seed(engine)
    small = plan_of_balances(engine, monkeypatch, "S-42")
    grow_ledger(engine, LEDGER - SKUS)
    large = plan_of_balances(engine, monkeypatch, "S-42")
    assert large == small
    assert "Index Cond: ((sku)::text = 'S-42'::text)" in large or "Index Cond: ((sku)::text = $1)" in large, large
    assert "Seq Scan" not in large and "movements" not in large, large


def test_balances_by_sku_request_never_reads_the_ledger(manager, engine):
    """Everything the enquiry sends to PostgreSQL, from the identity check to the answer, leaves the ledger alone."""
    seed(engine)
    app_engine = manager.client.app.extensions["db_engine"]
    sent = []

    def keep(_conn, _cursor, statement, *_args):
        sent.append(statement)

    event.listen(app_engine, "before_cursor_execute", keep)
    try:
        answer = ok(manager.get("/balances?sku=S-42"), 200)
    finally:
        event.remove(app_engine, "before_cursor_execute", keep)
    assert [(b["sku"], b["location"]) for b in answer["items"]] == [("S-42", "B-43")]
    assert sent and not [s for s in sent if "movements" in s], sent
