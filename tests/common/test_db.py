"""The pool: no ping on a connection in steady use, a ping (and a fresh connection) after a long idle."""
import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from common import db


def backend_pid(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT pg_backend_pid()")).scalar()


def terminate(engine, pid: int) -> None:
    """PostgreSQL drops the connection, as a restart or a firewall would."""
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})


@pytest.fixture
def pooled(test_env):
    made = db.make_engine(test_env["DATABASE_URL"], pool_size=1)
    yield made
    made.dispose()


def test_a_dead_idle_connection_is_replaced_before_use(pooled, engine, monkeypatch):
    monkeypatch.setattr(db, "IDLE_PING_SECONDS", 0.0)
    first = backend_pid(pooled)
    terminate(engine, first)
    assert backend_pid(pooled) != first  # no error reached the caller


def test_a_connection_in_steady_use_is_not_pinged(pooled, engine, monkeypatch):
    """Within the idle window the pool trusts the connection: no extra round trip per request."""
    monkeypatch.setattr(db, "IDLE_PING_SECONDS", 3600.0)
    first = backend_pid(pooled)
    terminate(engine, first)
    with pytest.raises(OperationalError):
        backend_pid(pooled)
    assert backend_pid(pooled) != first  # the failed use threw the dead connection away


def test_the_driver_cursor_works_inside_the_sessions_transaction(pooled):
    """What the cursor writes commits or rolls back with the session; each transaction has its own cursor."""
    from sqlalchemy.orm import Session

    with Session(pooled) as s:
        s.execute(text("CREATE TEMP TABLE marks (n int)"))
        first = db.cursor(s)
        first.execute("INSERT INTO marks VALUES (1)")
        assert db.cursor(s) is first
        assert s.execute(text("SELECT count(*) FROM marks")).scalar() == 1  # the ORM sees it: one transaction
        s.commit()
        second = db.cursor(s)
        assert second is not first
        second.execute("INSERT INTO marks VALUES (2)")
        s.rollback()
        assert [n for (n,) in db.cursor(s).execute("SELECT n FROM marks")] == [1]
