"""Settings read from the environment when an app is created, never at import time."""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

SERVICES = ("stock", "scan", "print")
DEFAULT_PORTS = {"gateway": 8000, "stock": 8001, "scan": 8002, "print": 8003}


class ConfigError(RuntimeError):
    """A setting is missing or malformed; start-up stops with this message."""


@dataclass(frozen=True)
class Settings:
    service: str
    database_url: str
    redis_url: str
    internal_token: str
    identity_secret: str
    service_urls: dict[str, str] = field(default_factory=dict)
    session_ttl_seconds: int = 12 * 3600
    # How long a gateway process trusts a session it read from Redis (changes are pushed at once).
    # A handheld scanning every 2 s read Redis, through the Flask door, on one request in three
    # with 5 s; with 60 s on one in thirty. Never more than half the session's lifetime.
    session_cache_seconds: float = 60.0
    login_max_failures: int = 5
    login_window_seconds: int = 300
    device_max_failures: int = 20
    http_timeout_seconds: float = 5.0
    import_timeout_seconds: float = 120.0
    timezone: str = "Asia/Shanghai"
    bootstrap_admin_badge: str | None = None
    bootstrap_admin_pin: str | None = None
    count_recount_threshold: int = 2
    # Idempotency keys older than this are purged: longer than any handheld holds a scan unsent.
    idempotency_keep_hours: int = 7 * 24
    var_dir: str = "var"
    testing: bool = False

    def with_overrides(self, overrides: Mapping[str, Any] | None) -> Settings:
        if not overrides:
            return self
        known = {f.name for f in fields(self)}
        unknown = set(overrides) - known
        if unknown:
            raise ConfigError(f"unknown settings: {sorted(unknown)}")
        return replace(self, **overrides)


def _require(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ConfigError(f"{name} is not set: see the configuration table in README.md")
    return value


def _integer(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from exc
    if value <= 0:
        raise ConfigError(f"{name} must be positive, got {value}")
    return value


def service_urls(env: Mapping[str, str]) -> dict[str, str]:
    """Where each service listens: STOCK_URL etc., else localhost on its *_PORT."""
    urls = {}
    for name in SERVICES:
        port = env.get(f"{name.upper()}_PORT") or str(DEFAULT_PORTS[name])
        urls[name] = env.get(f"{name.upper()}_URL") or f"http://127.0.0.1:{port}"
    return urls


def load(service: str, env: Mapping[str, str] | None = None) -> Settings:
    """Build and validate the settings of one service from the environment."""
    env = os.environ if env is None else env
    database_url = _require(env, "DATABASE_URL")
    if not database_url.startswith(("postgresql://", "postgresql+psycopg://", "postgres://")):
        raise ConfigError("DATABASE_URL must be a postgresql:// URL")
    redis_url = _require(env, "REDIS_URL")
    if not redis_url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError("REDIS_URL must be a redis://, rediss:// or unix:// URL")
    return Settings(
        service=service,
        database_url=database_url,
        redis_url=redis_url,
        internal_token=_require(env, "INTERNAL_TOKEN"),
        identity_secret=_require(env, "IDENTITY_SECRET"),
        service_urls=service_urls(env),
        session_ttl_seconds=_integer(env, "SESSION_TTL_SECONDS", 12 * 3600),
        session_cache_seconds=float(env.get("SESSION_CACHE_SECONDS") or 60.0),
        http_timeout_seconds=float(env.get("HTTP_TIMEOUT_SECONDS") or 5.0),
        import_timeout_seconds=float(env.get("IMPORT_TIMEOUT_SECONDS") or 120.0),
        timezone=env.get("WAREHOUSE_TZ") or "Asia/Shanghai",
        bootstrap_admin_badge=env.get("BOOTSTRAP_ADMIN_BADGE") or None,
        bootstrap_admin_pin=env.get("BOOTSTRAP_ADMIN_PIN") or None,
        count_recount_threshold=_integer(env, "COUNT_RECOUNT_THRESHOLD", 2),
        idempotency_keep_hours=_integer(env, "IDEMPOTENCY_KEEP_HOURS", 7 * 24),
        var_dir=env.get("VAR_DIR") or "var",
    )
