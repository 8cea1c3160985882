"""Idempotency-Key as api.md says: replay, reuse with another body, and racing duplicates."""
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import text

from common.testing import assert_error

SKU = {"sku": "CUP-01", "name": "杯子", "barcodes": ["6901234567892"]}


def _count(engine, table="stock.skus"):
    with engine.connect() as conn:
        return conn.execute(text(f"SELECT count(*) FROM {table}")).scalar()


def test_post_same_key_other_body_is_422(service, engine):
    """The same key with another body is refused and changes nothing."""
    stock = service("stock", "stock_manager")
    key = {"Idempotency-Key": str(uuid.uuid4())}
    assert stock.post("/api/stock/skus", json=SKU, headers=key).status_code == 201
    other = stock.post("/api/stock/skus", json=SKU | {"sku": "CUP-02", "barcodes": []}, headers=key)
    assert_error(other, 422, "idempotency_key_reused")
    assert _count(engine) == 1


def test_post_key_is_per_operator(service, engine):
    """Two operators' handhelds may happen to send the same key: each gets their own answer."""
    stock = service("stock", "stock_manager")
    key = {"Idempotency-Key": "same-key"}
    assert stock.post("/api/stock/skus", json=SKU, headers=key).status_code == 201
    other = stock.as_("EDB_KG002", "stock_manager").post(
        "/api/stock/skus", json=SKU | {"sku": "CUP-02", "barcodes": []}, headers=key)
    assert other.status_code == 201
    assert _count(engine) == 2


def test_post_failed_request_is_not_stored(service, engine):
    """An answer that changed nothing (4xx) is not kept: the client may fix the cause and retry."""
    stock = service("stock", "stock_manager")
    key = {"Idempotency-Key": str(uuid.uuid4())}
    stock.post("/api/stock/skus", json=SKU)
    assert stock.post("/api/stock/skus", json=SKU, headers=key).status_code == 409
    assert _count(engine, "stock.idempotency_keys") == 0


@pytest.mark.parametrize("key", ["", "k" * 201, "bad\x01key"])
def test_post_malformed_key_is_400(service, engine, key):
    """An empty, over-long or control-character key is refused before anything runs."""
    answer = service("stock", "stock_manager").post("/api/stock/skus", json=SKU, headers={"Idempotency-Key": key})
    assert answer.status_code == 400
    assert _count(engine) == 0


@pytest.mark.live
def test_post_racing_duplicates_execute_once(floor, engine):
    """Twelve racing copies of one request: one runs, the others replay it or wait their turn."""
    http = floor.login("stock_manager")
    headers = {"Idempotency-Key": str(uuid.uuid4()), "Authorization": http.headers["Authorization"]}

    def send(_):
        return requests.post(floor.url("/api/stock/skus"), json=SKU, headers=headers, timeout=10)

    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(send, range(12)))
    statuses = sorted(a.status_code for a in answers)
    assert set(statuses) <= {201, 409}, statuses
    fresh = [a for a in answers if a.status_code == 201 and "Idempotent-Replayed" not in a.headers]
    assert len(fresh) == 1
    for answer in answers:
        if answer.status_code == 409:
            assert answer.json()["error"]["code"] == "request_in_progress"
        else:
            assert answer.json() == fresh[0].json()
    assert _count(engine) == 1



def test_post_duplicate_committed_meanwhile_is_replayed_and_undone(service, engine, monkeypatch):
    """A duplicate that commits after our key lookup but before our store wins: ours is undone, its answer replayed.

    The window is between two statements, too narrow to hit from outside, so the duplicate
    commits from its own connection while the work runs.
    """
    import stock_service.domain.skus as skus
    from common.idempotency import fingerprint

    stock = service("stock", "stock_manager")
    key = str(uuid.uuid4())
    theirs = b'{"sku":"CUP-01","stored":"by the duplicate"}'
    create = skus.create

    def create_while_duplicate_commits(*args, **kwargs):
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO stock.idempotency_keys (operator, key, fingerprint, status, body, headers) "
                              "VALUES ('EDB_TEST01', :key, :fp, 201, :body, '{}')"),
                         {"key": key, "fp": fingerprint(), "body": theirs})
        return create(*args, **kwargs)

    monkeypatch.setattr(skus, "create", create_while_duplicate_commits)
    answer = stock.post("/api/stock/skus", json=SKU, headers={"Idempotency-Key": key})
    assert answer.status_code == 201
    assert answer.headers.get("Idempotent-Replayed") == "true"
    assert answer.data == theirs
    assert _count(engine) == 0
