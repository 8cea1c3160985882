"""Optimistic units of work: a read with no lock and no transaction, one claimed write, again when the claim is lost."""
import threading

import psycopg
import pytest
from flask import Flask
from prometheus_client import REGISTRY
from psycopg.errors import LockNotAvailable, SerializationFailure
from psycopg.pq import TransactionStatus
from sqlalchemy import text
from sqlalchemy.orm import sessionmaker

from common import db
from common.testing import statements

# A row with a version (a pick), a row it stands for (a task), and a claim of the version that
# fails as scan.claim_pick does (migration 0006).
SCHEMA = (
    "DROP TABLE IF EXISTS public.claimed, public.counted, public.claim_marks",
    "CREATE TABLE public.claimed (id int PRIMARY KEY, version int NOT NULL)",
    "CREATE TABLE public.counted (id int PRIMARY KEY, n int NOT NULL)",
    "CREATE TABLE public.claim_marks (try int NOT NULL)",
    "INSERT INTO public.claimed VALUES (1, 0); INSERT INTO public.counted VALUES (1, 0)",
    """CREATE OR REPLACE FUNCTION public.claim_row(wanted int, seen int) RETURNS int LANGUAGE plpgsql AS $$
       BEGIN
         UPDATE public.claimed SET version = version + 1 WHERE id = wanted AND version = seen;
         IF NOT FOUND THEN RAISE EXCEPTION 'changed' USING ERRCODE = 'serialization_failure'; END IF;
         RETURN seen + 1;
       END $$""",
)
READ = "SELECT version, n FROM public.claimed JOIN public.counted USING (id) WHERE id = 1"
CLAIM = "SELECT public.claim_row(1, %(seen)s)"
COUNT = "UPDATE public.counted SET n = %(n)s WHERE id = 1"
MARK = "INSERT INTO public.claim_marks (try) VALUES (%(try)s)"


@pytest.fixture
def pooled(test_env):
    made = db.make_engine(test_env["DATABASE_URL"], pool_size=1)
    with made.begin() as conn:
        for statement in SCHEMA:
            conn.exec_driver_sql(statement)
    yield made
    with made.begin() as conn:
        conn.exec_driver_sql("DROP TABLE public.claimed, public.counted, public.claim_marks; "
                             "DROP FUNCTION public.claim_row(int, int)")
    made.dispose()


@pytest.fixture
def app(pooled):
    app = Flask(__name__)
    app.extensions["db_sessionmaker"] = sessionmaker(bind=pooled)
    app.teardown_appcontext(db._close_unit)
    return app


def count_one(tries: list[int], rival=None):
    """The work: read the row, count one more, mark the try, claim the version read."""
    def run() -> int:
        with db.unit() as work:
            tries.append(len(tries) + 1)
            version, n = db.cursor(work).execute(READ).fetchone()
            if rival is not None:
                rival(work, len(tries))
            db.with_commit(work, COUNT, {"n": n + 1})
            db.with_commit(work, MARK, {"try": len(tries)})
            db.claim(work, CLAIM, {"seen": version})
        return n + 1
    return run


def bump(pooled) -> None:
    """A rival writer moves the version on and changes the count, and commits."""
    with pooled.begin() as conn:
        conn.exec_driver_sql("UPDATE public.claimed SET version = version + 1 WHERE id = 1; "
                             "UPDATE public.counted SET n = n + 10 WHERE id = 1")


def state(pooled) -> tuple:
    with pooled.connect() as conn:
        row = conn.execute(text(READ)).one()
        return tuple(row), [t for (t,) in conn.execute(text("SELECT try FROM public.claim_marks ORDER BY try"))]


def test_a_read_opens_no_transaction_and_the_write_is_one_statement(app, pooled):
    """Two statements, no BEGIN and no COMMIT: the read runs alone, the write is its own transaction."""
    seen = []

    def no_transaction(work, _try):
        seen.append(work.cursor().connection.info.transaction_status)

    with app.test_request_context(), statements() as sent:
        assert db.optimistically(count_one([], no_transaction)) == 1
    assert seen == [TransactionStatus.IDLE]
    assert len(sent) == 2
    assert state(pooled) == ((1, 1), [1])


def test_a_lost_claim_undoes_its_writes_and_the_work_runs_again_on_the_rivals(app, pooled):
    tries: list[int] = []

    def rival_once(_work, attempt):
        if attempt == 1:
            bump(pooled)

    before = _stale_claims()
    with app.test_request_context():
        assert db.optimistically(count_one(tries, rival_once)) == 11  # counted on what the rival left
    assert tries == [1, 2]
    assert state(pooled) == ((2, 11), [2])  # the first try's count and mark were undone with its claim
    assert _stale_claims() == before + 1


def test_the_last_try_locks_so_a_row_fought_over_never_starves_its_writer(app, pooled):
    """A rival wins every optimistic try; the last try reads under a lock, which the rival must wait for."""
    tries: list[int] = []
    blocked = []

    def rival(work, attempt):
        if db.optimistic(work):
            bump(pooled)
            return
        url = pooled.url.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(url, autocommit=True) as other:
            try:
                other.execute("SELECT 1 FROM public.claimed WHERE id = 1 FOR UPDATE NOWAIT")
            except LockNotAvailable:
                blocked.append(attempt)

    def locked_read(work, attempt):
        if not db.optimistic(work):
            db.cursor(work).execute("SELECT 1 FROM public.claimed WHERE id = 1 FOR UPDATE")
        rival(work, attempt)

    with app.test_request_context():
        assert db.optimistically(count_one(tries, locked_read)) == 21
    assert tries == [1, 2, 3] and blocked == [3]
    assert state(pooled) == ((3, 21), [3])


def test_a_claim_lost_on_every_try_reaches_the_caller(app, pooled):
    with app.test_request_context(), pytest.raises(SerializationFailure):
        db.optimistically(count_one([], lambda _work, _try: bump(pooled)))
    assert state(pooled)[1] == []


def test_a_connection_goes_back_to_the_pool_in_transactions(app, pooled):
    with app.test_request_context():
        db.optimistically(count_one([]))
    raw = pooled.raw_connection()
    try:
        assert raw.driver_connection.autocommit is False
    finally:
        raw.close()


def test_an_optimistic_unit_writes_only_with_a_claim_and_never_through_the_orm(app, pooled):
    def unclaimed():
        with db.unit() as work:
            db.with_commit(work, MARK, {"try": 1})

    def orm():
        with db.transaction():
            pass

    with app.test_request_context():
        for work in (unclaimed, orm):
            with pytest.raises(RuntimeError):
                db.optimistically(work)
    assert state(pooled) == ((0, 0), [])


def test_racing_optimistic_writers_count_every_one_once(app, pooled):
    """Eight threads count one each, all at once: the claims keep them apart, none lost, none doubled."""
    barrier, errors = threading.Barrier(8), []

    def one():
        try:
            with app.test_request_context():
                barrier.wait()
                db.optimistically(count_one([]), tries=20)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    (version, n), marks = state(pooled)
    assert n == 8 and version == 8 and len(marks) == 8


def _stale_claims() -> float:
    return REGISTRY.get_sample_value("wms_stale_claims_total", {"endpoint": ""}) or 0.0
