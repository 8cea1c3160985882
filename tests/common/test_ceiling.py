"""The benchmark's ceiling endpoints exist only when asked for."""
from sqlalchemy import text

import stock_service
from common.ceiling import BENCH_SCHEMA_SQL
from common.testing import identity_headers


def test_bench_endpoints_absent_by_default(apps, clean):
    """Production apps do not serve /_bench/... at all."""
    assert apps["stock"].test_client().get("/api/stock/_bench/bare", headers=identity_headers()).status_code == 404


def test_bench_tx_updates_one_row(monkeypatch, engine, clean):
    """With BENCH_ENDPOINTS=1 the transaction endpoint commits one row update per call."""
    monkeypatch.setenv("BENCH_ENDPOINTS", "1")
    with engine.begin() as conn:
        for statement in BENCH_SCHEMA_SQL:
            conn.execute(text(statement))
        before = conn.execute(text("SELECT sum(n) FROM bench.counter")).scalar()
    client = stock_service.create_app().test_client()
    assert client.get("/api/stock/_bench/bare", headers=identity_headers()).status_code == 200
    for _ in range(3):
        assert client.post("/api/stock/_bench/tx", headers=identity_headers()).status_code == 200
    with engine.connect() as conn:
        assert conn.execute(text("SELECT sum(n) FROM bench.counter")).scalar() == before + 3
