"""The app factory every service shares: config → logs → db → redis → errors → auth → blueprints.

Each service's gunicorn workers warm the app before serving (common/warmup.py)."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from flask import Blueprint, Flask, Response
from sqlalchemy import Table

from common import auth, ceiling, config, db, errors, health, idempotency, observability, openapi, redis, warmup
from common.jsonutil import OrjsonProvider, dumps

MAX_BODY_BYTES = 2 * 1024 * 1024


def create_app(service: str, blueprints: Iterable[Blueprint], *, idempotency_table: Table,
               overrides: Mapping[str, Any] | None = None, title: str | None = None,
               service_auth: bool = True) -> Flask:
    """Build one service's Flask app; `overrides` replace settings (tests)."""
    settings = config.load(service).with_overrides(overrides)
    app = Flask(service)
    app.json = OrjsonProvider(app)
    app.config.update(SETTINGS=settings, MAX_CONTENT_LENGTH=MAX_BODY_BYTES, TESTING=settings.testing)
    app.extensions["idempotency_table"] = idempotency_table
    warmup.on_warm(app, lambda: idempotency.compile_for(idempotency_table))
    observability.init_app(app, service)
    db.init_app(app)
    redis.init_app(app)
    errors.init_app(app)
    if service_auth:
        auth.init_service(app)
        health.init_app(app)
        _openapi_route(app, title or f"{service} service")
    for bp in blueprints:
        app.register_blueprint(bp)
    ceiling.init_app(app, "" if service == "gateway" else f"/api/{service}")
    return app


def _openapi_route(app: Flask, title: str) -> None:
    @app.get(f"/api/{app.name}/openapi.json")
    def openapi_json() -> Response:
        """This service's OpenAPI document, generated from its request and response schemas."""
        if "openapi" not in app.extensions:
            app.extensions["openapi"] = dumps(openapi.build(app, title))
        return Response(app.extensions["openapi"], mimetype="application/json")
