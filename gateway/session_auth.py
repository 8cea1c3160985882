"""Who is calling the gateway: the Bearer token of a logged-in operator."""
from __future__ import annotations

from flask import Flask, current_app, g, request

from common import redis
from common.errors import UnauthorizedError
from gateway.domain import sessions

# Paths anyone may call: logging in, health, metrics, the API documents, the UI's files.
OPEN_PATHS = frozenset({"/api/auth/login", "/healthz", "/metrics", "/api/openapi.json"})


def _is_open(path: str) -> bool:
    return path in OPEN_PATHS or not path.startswith("/api/") or path.endswith("/openapi.json")


def init_app(app: Flask) -> None:
    @app.before_request
    def _authenticate() -> None:
        if _is_open(request.path):
            return
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise UnauthorizedError(details={"reason": "no bearer token"})
        identity = sessions.lookup(redis.client(), token.strip(), current_app.config["SETTINGS"].session_ttl_seconds)
        if identity is None:
            raise UnauthorizedError(code="session_expired")
        g.identity = identity
        g.token = token.strip()
