"""Login sessions and login throttling, both in Redis.

A token is random; Redis keeps only its SHA-256, so a dump of Redis holds no usable token.
Each use slides the expiry (GETEX), so a shift stays logged in and an idle handheld logs out.
"""
from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable

import orjson
from redis import Redis

from common.auth import Identity
from common.errors import TooManyRequestsError

PREFIX = "wms:session:"
# Session keys closed or rewritten, one message per change: every gateway process forgets them.
CHANGED = "wms:sessions-changed"
BY_BADGE = "wms:sessions-of:"
FAILS = "wms:login-fails:"


def key_of(token: str) -> str:
    return PREFIX + hashlib.sha256(token.encode()).hexdigest()


def open_session(r: Redis, identity: Identity, ttl: int) -> str:
    token = secrets.token_urlsafe(32)
    key = key_of(token)
    pipe = r.pipeline()
    pipe.set(key, orjson.dumps(identity.as_dict()), ex=ttl)
    pipe.sadd(BY_BADGE + identity.badge, key)
    pipe.expire(BY_BADGE + identity.badge, ttl)
    pipe.execute()
    return token


def lookup(r: Redis, token: str, ttl: int) -> Identity | None:
    """The identity behind a token, refreshing its expiry; None when unknown or expired."""
    return lookup_key(r, key_of(token), ttl)


def lookup_key(r: Redis, key: str, ttl: int) -> Identity | None:
    raw = r.getex(key, ex=ttl)
    if raw is None:
        return None
    data = orjson.loads(raw)
    return Identity(badge=data["badge"], name=data["name"], roles=tuple(data["roles"]),
                    lang=data["lang"], device=data.get("device", ""))


def close_session(r: Redis, token: str, badge: str) -> list[str]:
    key = key_of(token)
    r.delete(key)
    r.srem(BY_BADGE + badge, key)
    return announce(r, [key])


def close_all(r: Redis, badge: str) -> list[str]:
    """Log an operator out everywhere (deactivated, roles or PIN changed)."""
    keys = r.smembers(BY_BADGE + badge)
    if keys:
        r.delete(*keys)
    r.delete(BY_BADGE + badge)
    return announce(r, keys)


def refresh_identity(r: Redis, identity: Identity) -> list[str]:
    """Rewrite every open session of an operator (e.g. after a language change)."""
    keys = r.smembers(BY_BADGE + identity.badge)
    for key in keys:
        ttl = r.ttl(key)
        if ttl and ttl > 0:
            old = r.get(key)
            device = orjson.loads(old).get("device", "") if old else ""
            r.set(key, orjson.dumps(identity.as_dict() | {"device": device}), ex=ttl)
    return announce(r, keys)


def announce(r: Redis, keys: Iterable[str | bytes]) -> list[str]:
    """Tell every gateway process that these sessions changed (see gateway.domain.session_cache)."""
    names = [k.decode() if isinstance(k, bytes) else k for k in keys]
    if names:
        r.publish(CHANGED, "\n".join(names))
    return names


def check_throttle(r: Redis, badge: str, device: str, *, max_badge: int, max_device: int) -> None:
    """Refuse a login while a badge (or a device) has failed too often in the window."""
    badge_fails, device_fails = r.mget(FAILS + "badge:" + badge, FAILS + "device:" + device)
    if int(badge_fails or 0) >= max_badge or (device and int(device_fails or 0) >= max_device):
        raise TooManyRequestsError(code="too_many_attempts", details={"badge": badge})


def record_failure(r: Redis, badge: str, device: str, window: int) -> None:
    """Count a failed login; the window starts at the first failure (SET NX works on Redis 6 too)."""
    pipe = r.pipeline()
    keys = [FAILS + "badge:" + badge] + ([FAILS + "device:" + device] if device else [])
    for key in keys:
        pipe.set(key, 0, ex=window, nx=True)
        pipe.incr(key)
    pipe.execute()


def clear_failures(r: Redis, badge: str) -> None:
    r.delete(FAILS + "badge:" + badge)
