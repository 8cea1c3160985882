"""The pool: no ping on a connection in steady use, a ping (and a fresh connection) after a long idle."""
import pytest
import sqlalchemy as sa
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


def test_the_driver_cursor_works_inside_the_works_transaction(pooled):
    """What the cursor writes commits or rolls back with the ORM's statements: one connection, one transaction."""
    from sqlalchemy.orm import sessionmaker

    work = db.Unit(sessionmaker(bind=pooled))
    try:
        s = work.session()
        s.execute(text("CREATE TEMP TABLE marks (n int)"))
        rows = db.cursor(s)
        rows.execute("INSERT INTO marks VALUES (1)")
        assert db.cursor(s) is rows
        assert s.execute(text("SELECT count(*) FROM marks")).scalar() == 1  # the ORM sees it: one transaction
        work.commit()
        rows.execute("INSERT INTO marks VALUES (2)")  # a new transaction, on the cursor alone
        work.rollback()
        assert [n for (n,) in db.cursor(s).execute("SELECT n FROM marks")] == [1]
        rows.execute("INSERT INTO marks VALUES (3)")
        work.commit()  # without the ORM: the connection itself commits
        work.rollback()
        assert [n for (n,) in rows.execute("SELECT n FROM marks ORDER BY n")] == [1, 3]
    finally:
        work.close()


def test_after_commit_runs_once_committed_and_never_after_a_rollback(pooled):
    from sqlalchemy.orm import sessionmaker

    ran = []
    with db.standalone(sessionmaker(bind=pooled)) as s:
        db.after_commit(s, lambda: ran.append("kept"))
        assert ran == []
    with pytest.raises(RuntimeError), db.standalone(sessionmaker(bind=pooled)) as s:
        db.after_commit(s, lambda: ran.append("dropped"))
        raise RuntimeError("rolled back")
    assert ran == ["kept"]


@pytest.fixture
def marks(pooled):
    """A unit of work on one pooled connection with a temp table `marks (n int unique, tag text)`."""
    from sqlalchemy.orm import sessionmaker

    work = db.Unit(sessionmaker(bind=pooled))
    s = work.session()
    s.execute(text("CREATE TEMP TABLE marks (n int UNIQUE, tag text)"))
    work.commit()
    yield work
    work.close()


def _marks(work) -> list[tuple]:
    return [tuple(row) for row in work.session().execute(text("SELECT n, tag FROM marks ORDER BY n"))]


INSERT_MARK = "INSERT INTO marks (n, tag) VALUES (%(n)s, %(tag)s)"


def test_queued_writes_are_sent_at_commit_each_with_its_own_values(marks):
    """Three writes sharing placeholder names go as one statement when the work commits, not before."""
    s = marks.session()
    db.with_commit(s, INSERT_MARK, {"n": 1, "tag": "first"})
    db.with_commit(s, INSERT_MARK, {"n": 2, "tag": "second"})
    db.with_commit(s, "UPDATE marks SET tag = %(tag)s WHERE n = %(n)s", {"n": 0, "tag": "nobody"})
    assert _marks(marks) == []  # queued: nothing reads them back before the commit
    marks.commit()
    assert _marks(marks) == [(1, "first"), (2, "second")]
    assert db._one_statement((INSERT_MARK, INSERT_MARK)).startswith("WITH w0 AS (INSERT")


def test_queued_writes_go_with_the_orms_commit_too(marks):
    """When the ORM has a transaction open, the session's commit sends the queue after its own flush."""
    s = marks.session()
    s.execute(text("INSERT INTO marks (n, tag) VALUES (1, 'by the ORM')"))
    db.with_commit(s, INSERT_MARK, {"n": 2, "tag": "queued"})
    marks.commit()
    assert _marks(marks) == [(1, "by the ORM"), (2, "queued")]


def test_a_queued_write_that_fails_rolls_back_the_whole_transaction(marks):
    from psycopg.errors import UniqueViolation

    s = marks.session()
    db.cursor(s).execute("INSERT INTO marks (n, tag) VALUES (7, 'sent at once')")
    db.with_commit(s, INSERT_MARK, {"n": 8, "tag": "queued"})
    db.with_commit(s, INSERT_MARK, {"n": 7, "tag": "taken"})
    with pytest.raises(UniqueViolation):
        marks.commit()
    marks.rollback()
    assert _marks(marks) == []


def test_a_rolled_back_transactions_queue_is_never_sent(marks):
    s = marks.session()
    db.with_commit(s, INSERT_MARK, {"n": 1, "tag": "rolled back"})
    marks.rollback()
    db.cursor(s).execute("INSERT INTO marks (n, tag) VALUES (2, 'kept')")
    marks.commit()
    assert _marks(marks) == [(2, "kept")]


def test_a_connection_lost_under_the_cursor_is_thrown_away(pooled, engine):
    """PostgreSQL gone mid-transaction: the error reaches the caller, and the pool makes a new connection."""
    import psycopg
    from sqlalchemy.orm import sessionmaker

    work = db.Unit(sessionmaker(bind=pooled))
    rows = work.cursor()
    lost = rows.execute("SELECT pg_backend_pid()").fetchone()[0]
    terminate(engine, lost)
    with pytest.raises(psycopg.OperationalError):
        rows.execute("SELECT 1")
    work.rollback()
    work.close()
    assert backend_pid(pooled) != lost


def test_a_unit_used_through_its_cursor_alone_makes_no_session_and_commits(pooled):
    """The scan path's statements run on the cursor: no Session is made, and the connection itself commits."""
    from sqlalchemy.orm import sessionmaker

    unit = db.Unit(sessionmaker(bind=pooled))
    try:
        db.cursor(unit).execute("CREATE TEMP TABLE marks (n int)")
        db.with_commit(unit, "INSERT INTO marks VALUES (%(n)s)", {"n": 5})
        unit.commit()
        assert unit._session is None
        assert [n for (n,) in db.cursor(unit).execute("SELECT n FROM marks")] == [5]
    finally:
        unit.close()


def test_an_object_changed_after_a_commit_is_written_by_the_next(pooled):
    """A change to an object loaded in an earlier transaction makes no statement until flushed: still written."""
    from sqlalchemy import Column, Integer, String
    from sqlalchemy.orm import declarative_base, sessionmaker

    base = declarative_base()

    class Mark(base):
        __tablename__ = "marks_orm"
        __table_args__ = {"prefixes": ["TEMPORARY"]}
        n = Column(Integer, primary_key=True)
        tag = Column(String)

    unit = db.Unit(sessionmaker(bind=pooled, expire_on_commit=False))
    try:
        s = unit.session()
        base.metadata.create_all(unit.connection())
        mark = Mark(n=1, tag="first")
        s.add(mark)
        unit.commit()
        mark.tag = "changed"  # no statement yet, and no transaction open
        unit.commit()
        assert db.cursor(unit).execute("SELECT tag FROM marks_orm").fetchone() == ("changed",)
    finally:
        unit.close()


def test_compiled_keeps_named_placeholders_and_refuses_a_literal_it_would_lose():
    """Only the text of a compiled statement is kept: a literal value would become an unfilled placeholder."""
    table = sa.table("picks", sa.column("id"), sa.column("state"), schema="scan")
    named = sa.update(table).where(table.c.id == sa.bindparam("id")).values(state=sa.bindparam("state"))
    assert db.compiled(named) == "UPDATE scan.picks SET state=%(state)s WHERE scan.picks.id = %(id)s"
    with pytest.raises(ValueError, match="state"):
        db.compiled(sa.update(table).where(table.c.id == sa.bindparam("id")).values(state="shipped"))
