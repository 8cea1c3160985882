"""Fixtures every test may use: see common/testing.py for how isolation works."""
from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import Redis
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine

from common import testing
from common.db import engine_url


@pytest.fixture(scope="session")
def test_env() -> Iterator[dict[str, str]]:
    """DATABASE_URL (this worker's own database), REDIS_URL (its own db number) and secrets."""
    base_db, base_redis = os.environ.get("DATABASE_URL"), os.environ.get("REDIS_URL")
    if not base_db or not base_redis:
        pytest.exit("DATABASE_URL and REDIS_URL must be set: run the suite with `make test`", returncode=3)
    env = next(testing.environment(base_db, base_redis))
    saved = dict(os.environ)
    os.environ.update(env)
    yield env
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture(scope="session")
def engine(test_env: dict[str, str]) -> Iterator[Engine]:
    eng = create_engine(engine_url(test_env["DATABASE_URL"]))
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def redis_conn(test_env: dict[str, str]) -> Redis:
    return Redis.from_url(test_env["REDIS_URL"])


@pytest.fixture
def clean(engine: Engine, redis_conn: Redis) -> None:
    """Empty tables and Redis db: each test starts from nothing."""
    testing.truncate_all(engine)
    redis_conn.flushdb()


@pytest.fixture(scope="session")
def apps(test_env: dict[str, str]) -> dict:
    """One Flask app per service, built once per worker."""
    import gateway
    import print_service
    import scan_service
    import stock_service

    return {"gateway": gateway.create_app(), "stock": stock_service.create_app(),
            "scan": scan_service.create_app(), "print": print_service.create_app()}


@pytest.fixture
def service(apps: dict, clean: None):
    """service("stock", "stock_manager") → a test client calling as an operator with those roles."""

    def make(name: str, *roles: str, badge: str = "EDB_TEST01") -> testing.ServiceClient:
        return testing.ServiceClient(apps[name], badge, roles or ("admin",))

    return make


@pytest.fixture(scope="session")
def live(test_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[testing.LiveStack]:
    """The four services under gunicorn on free ports (one stack per test worker)."""
    log_dir = Path(tmp_path_factory.mktemp("live-logs"))
    with testing.LiveStack(test_env, log_dir) as stack:
        yield stack


@pytest.fixture
def floor(live: testing.LiveStack, engine: Engine, clean: None) -> testing.Floor:
    """Log operators in through the live gateway: floor.login("picker")."""
    return testing.Floor(live.url("gateway"), engine)
