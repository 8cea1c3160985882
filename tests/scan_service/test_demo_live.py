"""The demo orders load through the gateway on top of the stock demo, twice without change."""
import pytest
from sqlalchemy import text

from deploy.demo import DemoClient
from deploy.demo import scan as scan_demo
from deploy.demo import stock as stock_demo

pytestmark = pytest.mark.live


def test_demo_scan_seed_is_idempotent_and_uses_stock_skus(floor, engine):
    """Every demo order line names a demo SKU; a second run adds nothing."""
    floor.add_operator("EDB_AD001", ("admin",), pin="9999")
    client = DemoClient(floor.base, "EDB_AD001", "9999")
    stock_demo.seed(client)
    scan_demo.seed(client)
    scan_demo.seed(client)
    known = {sku for sku, *_rest in stock_demo.DEMO_SKUS}
    with engine.connect() as conn:
        skus = set(conn.execute(text("SELECT sku FROM scan.order_lines")).scalars())
        states = dict(conn.execute(text("SELECT order_no, waybill_no FROM scan.orders")).all())
        notes = conn.execute(text("SELECT count(*) FROM scan.order_notes")).scalar()
    assert skus <= known
    assert len(states) == len(scan_demo.DEMO_ORDERS)
    assert states["TB20261122004"] == states["TB20261122001"]  # merged parcel, one waybill
    assert notes == 3


def test_gateway_openapi_merges_scan_paths(floor):
    """The gateway's merged OpenAPI document carries the scan endpoints."""
    import requests

    paths = requests.get(floor.url("/api/openapi.json"), timeout=10).json()["paths"]
    assert "/api/scan/verifications/{verification_id}/complete" in paths
