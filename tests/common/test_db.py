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


@pytest.fixture
def marks(pooled):
    """A session on one pooled connection with a temp table `marks (n int unique, tag text)`."""
    from sqlalchemy.orm import Session

    with Session(pooled) as s:
        s.execute(text("CREATE TEMP TABLE marks (n int UNIQUE, tag text)"))
        s.commit()
        yield s


def _marks(s) -> list[tuple]:
    return [tuple(row) for row in s.execute(text("SELECT n, tag FROM marks ORDER BY n"))]


INSERT_MARK = "INSERT INTO marks (n, tag) VALUES (%(n)s, %(tag)s)"


def test_queued_writes_are_sent_at_commit_each_with_its_own_values(marks):
    """Three writes sharing placeholder names go as one statement when the session commits, not before."""
    db.with_commit(marks, INSERT_MARK, {"n": 1, "tag": "first"})
    db.with_commit(marks, INSERT_MARK, {"n": 2, "tag": "second"})
    db.with_commit(marks, "UPDATE marks SET tag = %(tag)s WHERE n = %(n)s", {"n": 0, "tag": "nobody"})
    assert _marks(marks) == []  # queued: nothing reads them back before the commit
    marks.commit()
    assert _marks(marks) == [(1, "first"), (2, "second")]
    assert db._one_statement((INSERT_MARK, INSERT_MARK)).startswith("WITH w0 AS (INSERT")


def test_a_queued_write_that_fails_rolls_back_the_whole_transaction(marks):
    from psycopg.errors import UniqueViolation

    marks.execute(text("INSERT INTO marks (n, tag) VALUES (7, 'sent at once')"))
    db.with_commit(marks, INSERT_MARK, {"n": 8, "tag": "queued"})
    db.with_commit(marks, INSERT_MARK, {"n": 7, "tag": "taken"})
    with pytest.raises(UniqueViolation):
        marks.commit()
    marks.rollback()
    assert _marks(marks) == []


def test_a_rolled_back_transactions_queue_is_never_sent(marks):
    db.with_commit(marks, INSERT_MARK, {"n": 1, "tag": "rolled back"})
    marks.rollback()
    marks.execute(text("INSERT INTO marks (n, tag) VALUES (2, 'kept')"))
    marks.commit()
    assert _marks(marks) == [(2, "kept")]
