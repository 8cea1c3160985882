"""A new worker made ready before it takes its first request.

A cold worker pays, on its first requests, for what later ones find ready: a PostgreSQL connection
per thread (a new backend, which then reads the catalog for every table and index it touches and
compiles each plpgsql function it calls), the statements the service compiles once per process,
and the Redis connection. At the start of a shift every handheld opens its walk within the same
two seconds, so all of that fell on the heaviest requests at once: the same shift run twice in a
row had its slowest pick starts two and a half times slower on the cold stack (bench/HISTORY.md).

gunicorn runs `warm` in each worker before the worker accepts a connection
(common/gunicorn_defaults.py). It never raises: a database that cannot be reached leaves the
worker to connect on demand, as it did before, and /healthz says what is down.
"""
from __future__ import annotations

import codecs
import logging
import time
from collections.abc import Callable
from typing import Any

from flask import Flask

log = logging.getLogger(__name__)

# Every table of the service's own schema, read once by the planner: each table's and each of its
# indexes' catalog entries are then in the backend's cache. LIMIT 0 reads no row.
_OWN_TABLES = ("SELECT quote_ident(schemaname) || '.' || quote_ident(tablename) FROM pg_tables "
               "WHERE schemaname = %(schema)s ORDER BY tablename")


def on_warm(app: Flask, step: Callable[[], Any]) -> None:
    """Run `step` once in each new worker, in the app context (a statement cache to fill, say)."""
    app.extensions.setdefault("warm_steps", []).append(step)


def per_connection(app: Flask, statement: str) -> None:
    """Run `statement` on every connection warmed, then roll back; it must change nothing.

    For what the catalog read does not reach: a plpgsql function is compiled per backend on its first call.
    """
    app.extensions.setdefault("warm_statements", []).append(statement)


def warm(app: Flask, connections: int) -> dict[str, Any]:
    """Open up to `connections` pooled connections and warm each; fill the caches; ping Redis.

    Returns what was done, for the log line and the tests. Never raises.
    """
    started = time.perf_counter()
    done: dict[str, Any] = {"connections": 0, "steps": 0, "redis": False}
    with app.app_context():
        done["connections"] = _connections(app, connections)
        done["steps"] = _steps(app)
        done["redis"] = _redis(app)
    done["ms"] = round((time.perf_counter() - started) * 1000, 1)
    log.info("worker warmed", extra=done)
    return done


def _connections(app: Flask, wanted: int) -> int:
    """Connections taken from the pool all at once, so that each is a new one, and given back warm."""
    engine = app.extensions.get("db_engine")
    if engine is None:
        return 0
    held = []
    try:
        for _ in range(min(wanted, engine.pool.size())):
            held.append(engine.raw_connection())
        if not held:
            return 0
        statements = [_catalog_read(held[0], app.name), *app.extensions.get("warm_statements", [])]
        for connection in held:
            _run(connection, statements)
    except Exception as exc:  # noqa: BLE001 - a worker must start even with PostgreSQL away
        log.warning("worker not warmed: PostgreSQL %s", type(exc).__name__)
    finally:
        for connection in held:
            connection.close()  # back to the pool
    return len(held)


def _catalog_read(connection: Any, schema: str) -> str:
    cursor = connection.cursor()
    tables = [row[0] for row in cursor.execute(_OWN_TABLES, {"schema": schema}).fetchall()]
    connection.rollback()
    # The names come from the catalog, quoted by quote_ident.
    return " UNION ALL ".join(f"(SELECT 1 FROM {table} LIMIT 0)" for table in tables) or "SELECT 1"  # noqa: S608


def _run(connection: Any, statements: list[str]) -> None:
    cursor = connection.cursor()
    try:
        for statement in statements:
            cursor.execute(statement)  # a client-side cursor: its rows arrive with it
    finally:
        connection.rollback()


def _steps(app: Flask) -> int:
    # A first connection to another service resolves its host name, which imports the idna codec.
    codecs.lookup("idna")
    steps = app.extensions.get("warm_steps", [])
    for step in steps:
        try:
            step()
        except Exception:  # noqa: BLE001 - a cache left empty fills on first use, as without warming
            log.warning("warm-up step %r failed", step, exc_info=True)
    return len(steps)


def _redis(app: Flask) -> bool:
    client = app.extensions.get("redis")
    if client is None:
        return False
    try:
        return bool(client.ping())
    except Exception as exc:  # noqa: BLE001 - Redis away: the worker connects on demand
        log.warning("worker not warmed: Redis %s", type(exc).__name__)
        return False
