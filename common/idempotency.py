"""Idempotency-Key, exactly as api.md says, stored in PostgreSQL beside the effect.

The key row is written in the same transaction as the work it guards, so it survives restarts
and holds across gunicorn workers. A transaction-scoped advisory lock on the key makes a racing
duplicate answer 409 `request_in_progress` instead of running twice.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable

from flask import Response, current_app, g, request
from sqlalchemy import Column, DateTime, Integer, LargeBinary, MetaData, String, Table, func, select
from sqlalchemy.dialects.postgresql import JSONB, insert

from common import db
from common.errors import BadRequestError, ConflictError, InvalidInputError

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


def fingerprint() -> str:
    """What makes two requests 'the same': method, path, query and body."""
    h = hashlib.sha256()
    for part in (request.method, request.path, request.query_string.decode("latin-1")):
        h.update(part.encode())
        h.update(b"\x00")
    h.update(request.get_data(cache=True))
    return h.hexdigest()


def run(view: Callable[[], Response], table: Table) -> Response:
    """Run `view` once per key; replay its stored answer for the same key and body."""
    key = request.headers.get(HEADER)
    if key is None:
        return view()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise BadRequestError(code="invalid_idempotency_key", details={"header": HEADER})
    identity = getattr(g, "identity", None)
    operator = identity.badge if identity is not None else "anonymous"
    print_ = fingerprint()
    service = current_app.config["SETTINGS"].service
    with db.transaction() as s:
        if not db.try_advisory_xact_lock(s, service, "idem", operator, key):
            raise ConflictError(code="request_in_progress", details={"key": key})
        stored = s.execute(select(table).where(table.c.operator == operator, table.c.key == key)).first()
        if stored is not None:
            if stored.fingerprint != print_:
                raise InvalidInputError(code="idempotency_key_reused", details={"key": key})
            return _replay(stored)
        response = view()
        if response.status_code < 400:
            headers = {h: response.headers[h] for h in KEPT_HEADERS if h in response.headers}
            s.execute(insert(table).values(operator=operator, key=key, fingerprint=print_,
                                           status=response.status_code, body=response.get_data(),
                                           headers=headers))
        return response


def _replay(stored) -> Response:
    response = Response(stored.body, status=stored.status)
    for name, value in stored.headers.items():
        response.headers[name] = value
    response.headers[REPLAYED_HEADER] = "true"
    return response
