"""Endpoints that measure the stack's own ceiling, for `make bench` only.

Registered only when BENCH_ENDPOINTS=1, so production never serves them. Each scan path is
reported as a ratio to these, measured in the same run on the same processes:
- `/_bench/bare` on the gateway: a Flask endpoint behind the edge (on a thread), nothing else;
- `/api/<service>/_bench/bare`: one hop through the gateway (session lookup, signing, forwarding);
- `/api/<service>/_bench/tx`: the same plus a one-row PostgreSQL transaction.
"""
from __future__ import annotations

import os
import random

from flask import Blueprint, Flask, Response
from sqlalchemy import text

from common import db

BENCH_SCHEMA_SQL = (
    "CREATE SCHEMA IF NOT EXISTS bench",
    "CREATE TABLE IF NOT EXISTS bench.counter (id integer PRIMARY KEY, n bigint NOT NULL DEFAULT 0)",
    "INSERT INTO bench.counter (id) SELECT generate_series(1, 1000) ON CONFLICT DO NOTHING",
)
_OK = b'{"ok":true}'


def enabled() -> bool:
    return os.environ.get("BENCH_ENDPOINTS") == "1"


def init_app(app: Flask, prefix: str) -> None:
    if not enabled():
        return
    bp = Blueprint("ceiling", __name__, url_prefix=prefix)

    @bp.get("/_bench/bare")
    def bare() -> Response:
        """Nothing but the framework."""
        return Response(_OK, mimetype="application/json")

    @bp.post("/_bench/tx")
    def one_row_transaction() -> Response:
        """One row updated in one committed transaction (bench.counter, made by the harness)."""
        with db.transaction() as s:
            s.execute(text("UPDATE bench.counter SET n = n + 1 WHERE id = :id"), {"id": random.randint(1, 1000)})  # noqa: S311 - spreads load, not a secret
        return Response(_OK, mimetype="application/json")

    app.register_blueprint(bp)
