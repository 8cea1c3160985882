"""scan_service test clients: the app with stock_service pointed at a port nobody listens on.

Tests here that need stock_service to answer use the `live`/`floor` fixtures instead; these
clients prove the scan-side rules, and that they hold while stock_service is away.
"""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from common import testing


@pytest.fixture(scope="session")
def scan_app(test_env):
    import scan_service

    urls = {"stock": f"http://127.0.0.1:{testing.free_port()}", "scan": "http://127.0.0.1:1",
            "print": "http://127.0.0.1:1"}
    return scan_service.create_app(overrides={"service_urls": urls, "http_timeout_seconds": 1.0})


@pytest.fixture
def scan(scan_app, clean):
    """scan("verifier") → a test client of scan_service calling as an operator with those roles."""

    def make(*roles: str, badge: str = "EDB_ZG001") -> testing.ServiceClient:
        return testing.ServiceClient(scan_app, badge, roles or ("supervisor",))

    return make


@pytest.fixture
def walk(engine, clean):
    """A pick of two tasks, as its start writes it; its id."""
    return _made(engine, "INSERT INTO scan.picks (basket, picker, picker_name, state, orders) "
                         "VALUES ('BK-001', 'EDB_PH001', '', 'open', '[\"TB-1\"]') RETURNING id",
                 "INSERT INTO scan.pick_tasks (pick_id, seq, location, sku, name, barcodes, qty, picked, short) "
                 "VALUES (:id, 2, 'A-01-01-02', 'MUG-01', 'mug', '[]', 1, 0, 0), "
                 "(:id, 1, 'A-01-01-01', 'TS-1', 'tee', '[\"6901234567892\"]', 3, 0, 0)")


@pytest.fixture
def check(engine, clean):
    """A verification of two lines, as its opening writes it; its id."""
    return _made(engine, "INSERT INTO scan.verifications (waybill, verifier, verifier_name, state, orders) "
                         "VALUES ('SF1234567890123', 'EDB_YH001', '', 'open', '[\"TB-1\"]') RETURNING id",
                 "INSERT INTO scan.verification_lines (verification_id, sku, name, barcodes, expected, scanned) "
                 "VALUES (:id, 'TS-1', 'tee', '[\"6901234567892\"]', 3, 0), (:id, 'MUG-01', 'mug', '[]', 1, 0)")


def _made(engine, parent: str, children: str) -> int:
    """A row written by `parent` (returning its id), then its children (`:id`); the id."""
    with engine.begin() as conn:
        made = conn.execute(text(parent)).scalar_one()
        conn.execute(text(children), {"id": made})
    return made


def order(order_no: str = "TB20261122001", waybill: str = "SF1234567890123", lines=None, **extra) -> dict:
    body = {"order_no": order_no, "shop": "天猫旗舰店", "waybill_no": waybill, "carrier": "SF", "paid": True,
            "lines": lines or [{"sku": "TS-001-RED-M", "qty": 2}, {"sku": "MUG-01", "qty": 1}]}
    return body | extra


def post(client, path: str, body=None, key: str | None = None, **kwargs):
    headers = {"Idempotency-Key": key or str(uuid.uuid4())}
    return client.post(path, json=body if body is not None else {}, headers=headers, **kwargs)


def count(engine, sql: str, **params) -> int:
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()
