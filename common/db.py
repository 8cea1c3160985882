"""SQLAlchemy 2 engine and units of work; `unit()` / `transaction()` are the one place that commits.

A request gets one unit of work (one pooled connection, a Session on it only when the ORM is
used), made on first use and closed at teardown. `unit()` and `transaction()` may be nested (the
idempotency wrapper opens the outer one): only the outermost commits, so the key row and the
effect it guards land together or not at all.
"""
from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, TypeVar

from flask import Flask, current_app, g, request
from prometheus_client import Counter
from psycopg import Cursor
from psycopg.errors import SerializationFailure
from psycopg.pq import TransactionStatus
from sqlalchemy import ClauseElement, create_engine, event
from sqlalchemy.dialects.postgresql.psycopg import dialect as psycopg_dialect
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from common import jsonutil

IDLE_PING_SECONDS = 1.0
OPTIMISTIC_TRIES = 3
T = TypeVar("T")
STALE_CLAIMS = Counter("wms_stale_claims", "Optimistic writes whose claim a racing writer took first, run again",
                       ["endpoint"])


def engine_url(database_url: str) -> str:
    """SQLAlchemy wants the psycopg 3 driver named explicitly."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if database_url.startswith(prefix):
            return "postgresql+psycopg://" + database_url[len(prefix):]
    return database_url


def make_engine(database_url: str, *, pool_size: int = 5, application_name: str = "wms") -> Engine:
    engine = create_engine(
        engine_url(database_url),
        pool_size=pool_size,
        max_overflow=10,
        pool_recycle=1800,
        connect_args={"application_name": application_name, "connect_timeout": 5},
        # JSONB in and out through orjson: every scan writes a journal detail and reads barcodes.
        json_serializer=jsonutil.dumps,
        json_deserializer=jsonutil.loads,
    )
    _ping_when_idle(engine)
    return engine


def _ping_when_idle(engine: Engine) -> None:
    """Check a pooled connection before use only when it sat idle for IDLE_PING_SECONDS.

    SQLAlchemy's pre-ping costs one round trip on every checkout, i.e. on every scan; a connection
    in steady use needs none. One that waited (overnight, or across a PostgreSQL restart) is
    pinged, and a dead one is replaced before the request sees it.
    """

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if dbapi_connection.autocommit:  # left so by an optimistic unit that could not reset it
            _end_autocommit(dbapi_connection)
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < IDLE_PING_SECONDS:
            return
        try:
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            dbapi_connection.rollback()
        except Exception as exc:  # noqa: BLE001 - any failure means this connection is gone
            raise DisconnectionError() from exc


def init_app(app: Flask, engine: Engine | None = None) -> None:
    settings = app.config["SETTINGS"]
    engine = engine or make_engine(settings.database_url, application_name=settings.service)
    app.extensions["db_engine"] = engine
    app.extensions["db_sessionmaker"] = sessionmaker(bind=engine, expire_on_commit=False)
    app.teardown_appcontext(_close_unit)


def _close_unit(_exc: BaseException | None) -> None:
    found = g.pop("db_unit", None)
    if found is not None:
        found.close()


def engine() -> Engine:
    return current_app.extensions["db_engine"]


class Unit:
    """One unit of work: a pooled connection taken on first use, and a Session on it for the ORM.

    A request (or a job) has one. The scan path runs its statements on the connection's psycopg
    cursor and queues its writes (`with_commit`); when the ORM was not used, committing sends the
    queue and commits the connection directly. SQLAlchemy's session transaction (begin, connection
    lookup, commit events, close) costs a scan as much as two of its statements, and is paid only
    by the code that loads or flushes ORM objects.
    """

    def __init__(self, sessions: sessionmaker):
        self.sessions = sessions
        self.depth = 0
        self.optimistic = False  # reads without a transaction, writes as one claimed statement (`optimistically`)
        self.queue: list[tuple[str, dict[str, Any]]] = []
        self.claimed: tuple[str, dict[str, Any]] | None = None
        self.after: list[Callable[[], Any]] = []
        self._connection: Connection | None = None
        self._cursor: Cursor | None = None
        self._session: Session | None = None

    def connection(self) -> Connection:
        if self._connection is None:
            self._connection = self.sessions.kw["bind"].connect()
        return self._connection

    def session(self) -> Session:
        if self.optimistic:
            # Its flushes would each commit on their own: an optimistic unit writes only through `claim`.
            raise RuntimeError("the ORM is not for an optimistic unit of work")
        if self._session is None:
            self._session = self.sessions(bind=self.connection())
            self._session.info["unit"] = self
        return self._session

    def cursor(self) -> Cursor:
        if self._cursor is None:
            raw = self.connection().connection.driver_connection
            if self.optimistic:  # each statement its own transaction: no BEGIN before a read, no COMMIT after
                raw.autocommit = True
            self._cursor = raw.cursor()
        return self._cursor

    def send_queued(self) -> None:
        queued, self.queue = self.queue, []
        claimed, self.claimed = self.claimed, None
        if claimed is not None:
            queued.append(claimed)  # the main query: PostgreSQL runs it before the WITH parts
        elif self.optimistic and queued:
            raise RuntimeError("an optimistic unit of work writes only with a claim")
        if queued:
            params: dict[str, Any] = {}
            for number, (_sql, one) in enumerate(queued):
                params.update({f"w{number}_{name}": value for name, value in one.items()})
            self.cursor().execute(_one_statement(tuple(sql for sql, _params in queued)), params)

    def commit(self) -> None:
        s = self._session
        # Objects changed since the last commit make no statement until flushed: they count as ORM use.
        if s is not None and (s.in_transaction() or s.new or s.dirty or s.deleted):
            s.commit()  # its before_commit hook flushes, then sends the queue
        else:
            self.send_queued()
            if self._connection is not None:
                self._connection.connection.driver_connection.commit()
        actions, self.after = self.after, []
        for action in actions:
            action()

    def rollback(self) -> None:
        self.queue, self.after, self.claimed = [], [], None
        if self._session is not None and self._session.in_transaction():
            self._session.rollback()
        if self._connection is not None and not self._connection.invalidated:
            raw = self._connection.connection.driver_connection
            if raw.broken or raw.closed:
                self._connection.invalidate()  # PostgreSQL went away under the cursor: the pool makes a new one
            else:
                raw.rollback()  # the cursor's statements; no round trip when nothing is open

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
        if self._connection is not None:
            if self._cursor is not None and self.optimistic:
                _end_autocommit(self._connection.connection.driver_connection)
            self._connection.close()  # back to the pool
        self._connection = self._cursor = self._session = None


def _request_unit() -> Unit:
    if "db_unit" not in g:
        g.db_unit = Unit(current_app.extensions["db_sessionmaker"])
    return g.db_unit


def session() -> Session:
    """This request's session, on its unit of work's connection."""
    return _request_unit().session()


@contextmanager
def unit() -> Iterator[Unit]:
    """This request's unit of work; the outermost block commits, any exception rolls everything back.

    For code that runs its statements on the cursor (`cursor`, `with_commit`): no Session is made.
    """
    found = _request_unit()
    found.depth += 1
    try:
        yield found
        if found.depth == 1:
            found.commit()
    except BaseException:
        if found.depth == 1:
            found.rollback()
        raise
    finally:
        found.depth -= 1


@contextmanager
def transaction() -> Iterator[Session]:
    """`unit()` with its Session, for code that uses the ORM."""
    with unit() as found:
        yield found.session()


# What the cursor helpers take: a unit of work, or a Session made by one.
Rows = Unit | Session


def _unit_of(rows: Rows) -> Unit:
    if isinstance(rows, Unit):
        return rows
    found = rows.info.get("unit")
    if found is None:
        raise RuntimeError("a session made by common.db (transaction() or standalone()) is needed here")
    return found


def with_commit(rows: Rows, sql: str, params: dict[str, Any]) -> None:
    """Queue a write that nothing reads back in this transaction: it is sent when the work commits.

    A scan's journal line, its counter and its idempotency key then reach PostgreSQL as one
    statement just before the COMMIT, instead of one round trip each. The queued writes must
    touch different rows (they run as one statement, on one snapshot). One that fails (a key
    already taken) fails the commit, and everything rolls back as with any other error; a
    rollback drops the queue.
    """
    _unit_of(rows).queue.append((sql, params))


def claim(rows: Rows, sql: str, params: dict[str, Any]) -> None:
    """Queue the write the others stand on: the version an optimistic read saw, claimed.

    It goes to PostgreSQL as the main query of the commit's one statement, which runs before its
    WITH parts (the queued writes): a claim that fails, raising SQLSTATE 40001 because another
    writer moved the version first, undoes them all before they take a row lock. One per unit.
    """
    found = _unit_of(rows)
    if found.claimed is not None:
        raise RuntimeError("one claim per unit of work")
    found.claimed = (sql, params)


def optimistically(run: Callable[[], T], tries: int = OPTIMISTIC_TRIES) -> T:
    """`run()` on an optimistic unit of work, again while its claim fails; the last try locks instead.

    An optimistic unit reads with no lock and no transaction, and writes once, with a claim
    (`claim`): a scan is then two round trips, not four (BEGIN, a locking read, the write, COMMIT).
    A claim lost to a racing writer runs the work again on what that writer left. The last try
    is an ordinary unit, whose reads lock: a row fought over by many never starves anyone.
    """
    found = _request_unit()
    if found.depth or found.queue:
        raise RuntimeError("an optimistic unit of work starts the request's database work")
    found.close()  # each try takes a connection in its own mode; `finally` gives it back
    for attempt in range(1, tries + 1):
        found.optimistic = attempt < tries
        try:
            return run()
        except SerializationFailure:
            if attempt == tries:
                raise
            STALE_CLAIMS.labels(endpoint=request.endpoint or "").inc()
        finally:
            found.close()
            found.optimistic = False
    raise AssertionError("unreachable")


def optimistic(rows: Rows) -> bool:
    """Whether this unit of work reads without locks (its writes then need a claim)."""
    return _unit_of(rows).optimistic


def _end_autocommit(raw: Any) -> None:
    """Put a connection back in transactions before the pool has it; a broken one is dropped by the pool."""
    if raw.info.transaction_status == TransactionStatus.IDLE:
        raw.autocommit = False


def after_commit(rows: Rows, action: Callable[[], Any]) -> None:
    """Run `action()` once this transaction has committed; a rollback drops it."""
    _unit_of(rows).after.append(action)


@event.listens_for(Session, "before_commit")
def _send_queued(s: Session) -> None:
    found = s.info.get("unit")
    if found is not None and found.queue:
        s.flush()  # the ORM's pending rows first: a queued write may refer to them
        found.send_queued()


_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


@lru_cache(maxsize=64)
def _one_statement(texts: tuple[str, ...]) -> str:
    """Writes as one statement: all but the last become data-modifying WITH parts, which
    PostgreSQL runs whether or not anything reads them. Placeholders get a prefix per write."""
    named = [_PLACEHOLDER.sub(lambda m, n=number: f"%(w{n}_{m[1]})s", sql) for number, sql in enumerate(texts)]
    if len(named) == 1:
        return named[0]
    parts = ", ".join(f"w{number} AS ({sql})" for number, sql in enumerate(named[:-1]))
    return f"WITH {parts} {named[-1]}"


@contextmanager
def standalone(sessionmaker_: sessionmaker) -> Iterator[Session]:
    """A unit of work outside a request (jobs, scripts): commit on success, roll back on error."""
    found = Unit(sessionmaker_)
    try:
        yield found.session()
        found.commit()
    except BaseException:
        found.rollback()
        raise
    finally:
        found.close()


def advisory_key(*parts: str) -> int:
    """A stable signed 64-bit key for pg advisory locks."""
    digest = hashlib.blake2b("\x1f".join(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def try_advisory_xact_lock(rows: Rows, *parts: str) -> bool:
    """Take a transaction-scoped advisory lock without waiting; False when someone holds it."""
    return bool(cursor(rows).execute("SELECT pg_try_advisory_xact_lock(%(k)s)",
                                     {"k": advisory_key(*parts)}).fetchone()[0])


def advisory_xact_lock(rows: Rows, *parts: str) -> None:
    """Take a transaction-scoped advisory lock, waiting for it (on the unit's cursor)."""
    cursor(rows).execute("SELECT pg_advisory_xact_lock(%(k)s)", {"k": advisory_key(*parts)})


def compiled(statement: ClauseElement) -> str:
    """A Core statement as the SQL text psycopg runs (`%(name)s` placeholders), built once at import.

    Only the text is kept: a literal value in the statement (`.values(state="shipped")`) would
    become a placeholder nobody fills, so it is refused here; name it with `bindparam` instead.
    """
    done = statement.compile(dialect=psycopg_dialect(), compile_kwargs={"render_postcompile": True})
    literals = sorted(name for name, value in done.params.items() if value is not None)
    if literals:
        raise ValueError(f"literal values would be lost, bind them by name: {literals}")
    return str(done)


def cursor(rows: Rows) -> Cursor:
    """The psycopg cursor of the unit of work, inside its transaction (the unit still commits).

    For the few statements every scan runs (its key, its pick's lock, its journal line), where
    SQLAlchemy's execution and result layers cost twice the statement itself: about 85 µs of CPU
    against psycopg's 45 µs, per statement, measured on this stack.
    """
    return _unit_of(rows).cursor()
