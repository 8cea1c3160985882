"""Idempotency-Key, exactly as api.md says, stored in PostgreSQL beside the effect.

The key row is written in the same transaction as the work it guards, so it survives restarts
and holds across gunicorn workers. A transaction-scoped advisory lock on the key makes a racing
duplicate answer 409 `request_in_progress` instead of running twice. (The floor's own requests,
scans, completes, count entries, labels and stock's movements, skip the lock and the read: see
`run`'s `read_first`.)

A request pays for this every time, so it costs one statement and a write: the statement
takes the lock and reads a stored answer; the new answer is queued (common.db.with_commit) and
reaches PostgreSQL with the rest of the request's writes, just before the COMMIT. Both are
compiled once per key table. The read shares one snapshot with the lock, so a duplicate that
committed in between is not seen there; storing the key then fails on its primary key (which
sees committed rows whatever the snapshot), the work is rolled back and the stored answer
replayed. Nothing runs twice. A scan, the floor's most frequent request, relies on that alone
and pays only the write.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import cache

from flask import Response, current_app, g, request
from marshmallow import ValidationError
from psycopg.errors import UniqueViolation
from psycopg.types.json import Jsonb
from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    bindparam,
    delete,
    func,
    literal_column,
    select,
    true,
    tuple_,
)
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.orm import sessionmaker

from common import db
from common.errors import AppError, BadRequestError, ConflictError, InvalidInputError

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 200
KEPT_HEADERS = ("Content-Type", "Location")


def key_table(metadata: MetaData) -> Table:
    """The key table, declared in each service's own schema."""
    return Table(
        "idempotency_keys", metadata,
        Column("operator", String(64), primary_key=True),
        Column("key", String(MAX_KEY_LENGTH), primary_key=True),
        Column("fingerprint", String(64), nullable=False),
        Column("status", Integer, nullable=False),
        Column("body", LargeBinary, nullable=False),
        Column("headers", JSONB, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


STORED = ("fingerprint", "status", "body", "headers")


@cache
def _statements(table: Table) -> tuple[str, str, str]:
    """(lock and read, read, store) for one key table, compiled once: a scan compiles nothing."""
    stored = select(*(table.c[name] for name in STORED)).where(table.c.operator == bindparam("operator"),
                                                               table.c.key == bindparam("key"))
    found = stored.subquery()
    lock_and_read = (select(func.pg_try_advisory_xact_lock(bindparam("lock")).label("locked"), found)
                     .select_from(select(literal_column("1")).subquery().outerjoin(found, true())))
    store = insert(table).values({name: bindparam(name) for name in ("operator", "key", *STORED)})
    return db.compiled(lock_and_read), db.compiled(stored), db.compiled(store)


def compile_for(table: Table) -> None:
    """Compile one key table's statements now (a new worker's warm-up), not on its first keyed request."""
    _statements(table)


def fingerprint() -> str:
    """What makes two requests 'the same': method, path, query and body."""
    h = hashlib.sha256()
    for part in (request.method, request.path, request.query_string.decode("latin-1")):
        h.update(part.encode())
        h.update(b"\x00")
    h.update(request.get_data(cache=True))
    return h.hexdigest()


def run(view: Callable[[], Response], table: Table, *, read_first: bool = True) -> Response:
    """Run `view` once per key; replay its stored answer for the same key and body.

    `read_first=False` is for work that lies wholly in this request's transaction, or whose calls
    out are themselves idempotent (a scan: its only calls out are lookups; a print request: its
    RQ job is enqueued after the commit; a pick's complete: its move to the basket is idempotent
    by the pick). The key is then not read before the work but claimed by its insert at the
    commit: a repeat runs into the first's key there, is rolled back, and answered with the
    stored answer. It saves the request a round trip; a repeat, rare, costs its work twice. A
    pick's start must read first: a copy would claim other orders and have stock promise them.
    """
    key = request.headers.get(HEADER)
    if key is None:
        return view()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise BadRequestError(code="invalid_idempotency_key", details={"header": HEADER})
    identity = getattr(g, "identity", None)
    names = {"operator": identity.badge if identity is not None else "anonymous", "key": key}
    print_ = fingerprint()
    lock_and_read, stored_answer, store = _statements(table)
    try:
        with db.unit() as work:
            stored = _lock_and_read(work, lock_and_read, names) if read_first else None
            if stored is not None:
                return _replay(stored, print_, key)
            try:
                response = view()
            except (AppError, ValidationError):
                if read_first:
                    raise
                # A repeat refused by the state its first left behind (a closed pick) gets the first's answer.
                work.rollback()
                stored = _stored(work, stored_answer, names)
                if stored is None:
                    raise
                return _replay(stored, print_, key)
            if response.status_code < 400:
                headers = {h: response.headers[h] for h in KEPT_HEADERS if h in response.headers}
                db.with_commit(work, store, names | {"fingerprint": print_, "status": response.status_code,
                                                  "body": response.get_data(), "headers": Jsonb(headers)})
            return response
    except UniqueViolation as exc:
        if exc.diag.constraint_name != f"{table.name}_pkey":
            raise
        with db.unit() as work:
            return _replay(_stored(work, stored_answer, names), print_, key)


def _stored(work: db.Unit, statement: str, names: dict[str, str]) -> tuple | None:
    """The answer stored under this operator's key (fingerprint, status, body, headers), if any."""
    return db.cursor(work).execute(statement, names).fetchone()


def _lock_and_read(work: db.Unit, statement: str, names: dict[str, str]) -> tuple | None:
    """The key's lock, taken or 409 `request_in_progress`; then its stored answer, if any."""
    lock = db.advisory_key(current_app.config["SETTINGS"].service, "idem", *names.values())
    locked, *row = db.cursor(work).execute(statement, names | {"lock": lock}).fetchone()
    if not locked:
        raise ConflictError(code="request_in_progress", details={"key": names["key"]})
    return tuple(row) if row[0] is not None else None


def _replay(stored: tuple, print_: str, key: str) -> Response:
    """The stored answer (fingerprint, status, body, headers) once more, marked as a replay."""
    fingerprint_, status, body, headers = stored
    if fingerprint_ != print_:
        raise InvalidInputError(code="idempotency_key_reused", details={"key": key})
    response = Response(body, status=status)
    for name, value in headers.items():
        response.headers[name] = value
    response.headers[REPLAYED_HEADER] = "true"
    return response


def purge(sessions: sessionmaker, table: Table, older_than_hours: int, batch: int = 5_000) -> int:
    """Delete the keys older than `older_than_hours`; how many went.

    A batch per transaction: a scan storing its key never waits behind a long delete.
    """
    old = select(table.c.operator, table.c.key).where(
        table.c.created_at < func.now() - func.make_interval(0, 0, 0, 0, bindparam("hours"))).limit(batch)
    gone = delete(table).where(tuple_(table.c.operator, table.c.key).in_(old.scalar_subquery()))
    total = 0
    while True:
        with db.standalone(sessions) as s:
            deleted = s.execute(gone, {"hours": older_than_hours}).rowcount
        total += deleted
        if deleted < batch:
            return total
