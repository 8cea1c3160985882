"""A worker's warm-up: its connections opened and warmed, its caches filled, before its first request."""
from __future__ import annotations

import logging

import pytest
from sqlalchemy import text

import scan_service
from common import testing, warmup
from scan_service.domain import scanrows

# Idle scan backends started since a moment: a new pool's connections, none left in a transaction.
STARTED_SINCE = ("SELECT count(*) FILTER (WHERE state = 'idle'), count(*) FROM pg_stat_activity "
                 "WHERE datname = current_database() AND application_name = 'scan' AND backend_start >= :since")
NOW = text("SELECT clock_timestamp()")


@pytest.fixture
def scan_app(test_env):
    """A scan app of its own: a new pool, nothing warmed."""
    app = scan_service.create_app()
    yield app
    app.extensions["db_engine"].dispose()


def test_warm_opens_each_connection_runs_its_statements_and_leaves_it_idle(scan_app, engine):
    """Each connection runs every warm-up statement: a sequence (which no rollback undoes) counts them."""
    scanrows._statements.cache_clear()
    with engine.begin() as conn:
        conn.execute(text("DROP SEQUENCE IF EXISTS public.warm_probe; CREATE SEQUENCE public.warm_probe"))
        since = conn.execute(NOW).scalar()
    warmup.per_connection(scan_app, "SELECT nextval('public.warm_probe')")
    try:
        done = warmup.warm(scan_app, 3)
        with engine.connect() as conn:
            idle, opened = conn.execute(text(STARTED_SINCE), {"since": since}).one()
            probed = conn.execute(text("SELECT last_value FROM public.warm_probe")).scalar()
    finally:
        with engine.begin() as conn:
            conn.execute(text("DROP SEQUENCE public.warm_probe"))
    assert done["connections"] == 3 and done["redis"] is True
    assert scan_app.extensions["db_engine"].pool.checkedin() == 3
    assert (idle, opened) == (3, 3)   # three new backends, every transaction closed
    assert probed == 3                # the statement ran once on each
    assert scanrows._statements.cache_info().currsize == 1   # compiled before any scan


def test_warm_never_opens_more_than_the_pool_keeps(scan_app):
    done = warmup.warm(scan_app, 50)
    pool = scan_app.extensions["db_engine"].pool
    assert done["connections"] == pool.size() == pool.checkedin()


def test_a_worker_starts_when_postgresql_is_away(test_env, caplog):
    app = scan_service.create_app({"database_url": f"postgresql://wms@127.0.0.1:{testing.free_port()}/wms"})
    with caplog.at_level(logging.WARNING, logger="common.warmup"):
        done = warmup.warm(app, 4)
    assert done["connections"] == 0
    assert done["steps"] == 2 and done["redis"] is True   # the rest is warmed all the same
    assert "PostgreSQL OperationalError" in caplog.text


def test_a_failing_step_is_logged_and_the_others_run(scan_app, caplog):
    ran = []
    warmup.on_warm(scan_app, lambda: 1 / 0)
    warmup.on_warm(scan_app, lambda: ran.append(True))
    with caplog.at_level(logging.WARNING, logger="common.warmup"):
        warmup.warm(scan_app, 1)
    assert ran == [True]
    assert "ZeroDivisionError" in caplog.text


def test_gunicorn_workers_warm_before_serving(test_env, engine, tmp_path):
    """A new scan worker under gunicorn opens its pool's connections before its first request.

    Cold, it would hold one: the one /healthz opened when the stack asked whether it was up.
    """
    stack = testing.LiveStack(test_env, tmp_path)
    with engine.connect() as conn:
        since = conn.execute(NOW).scalar()
    try:
        stack.start("scan")
        with engine.connect() as conn:
            idle, opened = conn.execute(text(STARTED_SINCE), {"since": since}).one()
    finally:
        stack.stop("scan")
    assert idle == opened >= 5   # one worker with 8 threads, and a pool of 5
