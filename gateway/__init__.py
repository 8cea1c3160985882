"""The gateway: the only door. Logs people in, checks roles, forwards /api/<service>/...

`create_app` is the Flask app; `create_edge` puts it behind the edge (gateway/edge.py), as gunicorn serves it.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from common.app import create_app as create_service_app
from common.db import standalone
from common.gunicorn_defaults import shape
from gateway import health, openapi_merge, proxy, security, session_auth, ui
from gateway.api import auth
from gateway.domain import operators
from gateway.edge import Edge
from gateway.models import idempotency_keys


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    app = create_service_app("gateway", [auth.bp, health.bp, openapi_merge.bp, ui.bp],
                             idempotency_table=idempotency_keys, overrides=overrides, service_auth=False)
    security.init_app(app)
    session_auth.init_app(app)
    proxy.init_app(app)
    _bootstrap_admin(app)
    return app


def create_edge(overrides: Mapping[str, Any] | None = None) -> Edge:
    """The app as gunicorn serves it: Flask behind the edge, with as many door threads as GATEWAY_WEB_THREADS."""
    return Edge(create_app(overrides), door_threads=shape("gateway")[2])


def _bootstrap_admin(app: Flask) -> None:
    """Create the first admin from BOOTSTRAP_ADMIN_BADGE / _PIN when there is no admin yet."""
    settings = app.config["SETTINGS"]
    if not settings.bootstrap_admin_badge:
        return
    with standalone(app.extensions["db_sessionmaker"]) as s:
        if operators.ensure_bootstrap_admin(s, settings.bootstrap_admin_badge, settings.bootstrap_admin_pin):
            app.logger.info("bootstrap admin created", extra={"badge": settings.bootstrap_admin_badge})
