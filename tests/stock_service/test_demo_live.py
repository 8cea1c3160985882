"""The stock demo data loads through the live gateway, twice, without doubling any stock."""
import pytest
from sqlalchemy import text

from deploy.demo import DemoClient
from deploy.demo import stock as demo
from tests.stock_service.conftest import ledger_matches_balances

pytestmark = pytest.mark.live


def test_demo_seed_is_idempotent_and_stock_is_pickable(floor, engine):
    """Two runs: 20 SKUs, 30 bins, 20 baskets, each SKU's units once in its bin, ready for a pick plan."""
    floor.add_operator("EDB_AD900", ("admin",))
    client = DemoClient(floor.base, "EDB_AD900", "1234")
    demo.seed(client)
    demo.seed(client)
    with engine.connect() as conn:
        kinds = dict(conn.execute(text("SELECT kind, count(*) FROM stock.locations GROUP BY kind")).all())
        assert kinds == {"bin": 30, "staging": 1, "basket": 20, "returns": 1, "intercept": 1}
        assert conn.execute(text("SELECT count(*) FROM stock.movements")).scalar() == 40
    balances = ledger_matches_balances(engine)
    assert balances[("TS-001-RED-M", "A-01-01-01", "")] == 30
    assert sum(balances.values()) == sum(qty for *_rest, qty in demo.DEMO_SKUS)
    item = client.get("/api/stock/items/lookup", params={"code": demo.ean13(0)}).json()
    assert (item["sku"], item["on_hand"]) == ("TS-001-RED-M", 30)
