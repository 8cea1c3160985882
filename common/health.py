"""`/healthz` for a service: is its database and Redis reachable."""
from __future__ import annotations

from flask import Flask, Response
from sqlalchemy import text

from common import db, redis
from common.jsonutil import dumps


def check_db() -> str:
    try:
        with db.engine().connect() as conn:
            conn.execute(text("SELECT 1"))
        return "ok"
    except Exception:  # any failure is reported, not raised: health must always answer
        return "down"


def check_redis() -> str:
    try:
        redis.client().ping()
        return "ok"
    except Exception:
        return "down"


def init_app(app: Flask) -> None:
    @app.get("/healthz")
    def healthz() -> Response:
        """Liveness and readiness: 200 when the database and Redis answer, else 503."""
        body = {"status": "ok", "db": check_db(), "redis": check_redis()}
        ok = body["db"] == "ok" and body["redis"] == "ok"
        if not ok:
            body["status"] = "down"
        return Response(dumps(body), status=200 if ok else 503, mimetype="application/json")
