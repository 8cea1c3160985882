"""Login sessions and login throttling, both in Redis.

A token is random; Redis keeps only its SHA-256, so a dump of Redis holds no usable token.
Each use slides the expiry (GETEX), so a shift stays logged in and an idle handheld logs out.
"""
from __future__ import annotations

import hashlib
import secrets

import orjson
from redis import Redis

from common.auth import Identity
from common.errors import TooManyRequestsError

PREFIX = "wms:session:"
BY_BADGE = "wms:sessions-of:"
FAILS = "wms:login-fails:"


def _key(token: str) -> str:
    return PREFIX + hashlib.sha256(token.encode()).hexdigest()


def open_session(r: Redis, identity: Identity, ttl: int) -> str:
    token = secrets.token_urlsafe(32)
    key = _key(token)
    pipe = r.pipeline()
    pipe.set(key, orjson.dumps(identity.as_dict()), ex=ttl)
    pipe.sadd(BY_BADGE + identity.badge, key)
    pipe.expire(BY_BADGE + identity.badge, ttl)
    pipe.execute()
    return token


def lookup(r: Redis, token: str, ttl: int) -> Identity | None:
    """The identity behind a token, refreshing its expiry; None when unknown or expired."""
    raw = r.getex(_key(token), ex=ttl)
    if raw is None:
        return None
    data = orjson.loads(raw)
    return Identity(badge=data["badge"], name=data["name"], roles=tuple(data["roles"]),
                    lang=data["lang"], device=data.get("device", ""))


def close_session(r: Redis, token: str, badge: str) -> None:
    key = _key(token)
    r.delete(key)
    r.srem(BY_BADGE + badge, key)


def close_all(r: Redis, badge: str) -> None:
    """Log an operator out everywhere (deactivated, roles or PIN changed)."""
    keys = r.smembers(BY_BADGE + badge)
    if keys:
        r.delete(*keys)
    r.delete(BY_BADGE + badge)


def refresh_identity(r: Redis, identity: Identity) -> None:
    """Rewrite every open session of an operator (e.g. after a language change)."""
    for key in r.smembers(BY_BADGE + identity.badge):
        ttl = r.ttl(key)
        if ttl and ttl > 0:
            old = r.get(key)
            device = orjson.loads(old).get("device", "") if old else ""
            r.set(key, orjson.dumps(identity.as_dict() | {"device": device}), ex=ttl)


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
