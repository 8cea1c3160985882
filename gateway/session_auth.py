"""Who is calling the gateway: the Bearer token of a logged-in operator."""
from __future__ import annotations

from flask import Flask, current_app, g, request
from redis import Redis

from common import redis
from common.auth import Identity
from common.config import Settings
from common.errors import UnauthorizedError
from gateway.domain.session_cache import SessionCache

# Paths anyone may call: logging in, health, metrics, the API documents, the UI's files.
OPEN_PATHS = frozenset({"/api/auth/login", "/healthz", "/metrics", "/api/openapi.json"})


def is_open(path: str) -> bool:
    return path in OPEN_PATHS or not path.startswith("/api/") or path.endswith("/openapi.json")


def bearer_token(header: str) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, else None."""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    return token.strip()


def hold_seconds(settings: Settings) -> float:
    """How long a read session is trusted: SESSION_CACHE_SECONDS, but never more than half a session's lifetime.

    Each Redis read slides the session's expiry to a full SESSION_TTL_SECONDS, so an entry held for
    less than half of it always ends before the session it stands for.
    """
    return min(settings.session_cache_seconds, settings.session_ttl_seconds / 2)


def init_app(app: Flask) -> None:
    settings = app.config["SETTINGS"]
    cache = app.extensions["session_cache"] = SessionCache(hold_seconds=hold_seconds(settings))

    @app.before_request
    def _authenticate() -> None:
        if is_open(request.path):
            return
        token = bearer_token(request.headers.get("Authorization", ""))
        if token is None:
            raise UnauthorizedError(details={"reason": "no bearer token"})
        identity = cache.lookup(redis.client(), token, settings.session_ttl_seconds)
        if identity is None:
            raise UnauthorizedError(code="session_expired")
        g.identity = identity
        g.token = token


def remember(r: Redis, token: str, identity: Identity) -> None:
    """This process holds a session it just opened (a login): the first scan after it needs no Redis read."""
    current_app.extensions["session_cache"].remember(r, token, identity)


def forget(keys: list[str]) -> None:
    """This process forgets at once what it just closed (the others hear it from Redis)."""
    current_app.extensions["session_cache"].forget(keys)
