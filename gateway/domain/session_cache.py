"""A few seconds of memory of who holds a token, so a scan pays no Redis round trip.

A handheld scans every second or two, and each scan used to read its session from Redis. Each
gateway process now remembers a token's identity for `hold_seconds` after reading it (the read
also slides the session's expiry, so an active shift still stays logged in).

Closing or rewriting a session (logout, deactivation, a PIN, role or language change) publishes
its key on `sessions.CHANGED`; a listener thread in every process forgets those keys at once.
The cache is used only while the listener is subscribed: if it loses Redis, everything is
forgotten and every request reads Redis again until it is back, so a missed message never keeps
a closed session alive.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterable

from redis import Redis
from redis.exceptions import RedisError

from common.auth import Identity
from gateway.domain import sessions

log = logging.getLogger(__name__)
RETRY_SECONDS = 1.0


class SessionCache:
    def __init__(self, hold_seconds: float = 5.0, max_entries: int = 20_000):
        self.hold_seconds = hold_seconds
        self.max_entries = max_entries
        self._entries: dict[str, tuple[Identity, float]] = {}
        self._lock = threading.Lock()
        # Bumped by every forget: a read from Redis that overlapped a logout is not kept.
        self._generation = 0
        self._live = threading.Event()
        self._listener_pid: int | None = None

    def lookup(self, r: Redis, token: str, session_ttl: int) -> Identity | None:
        """The identity behind `token`, from memory when it was read a moment ago, else from Redis."""
        self._ensure_listener(r)
        key = sessions.key_of(token)
        now = time.monotonic()
        entry = self._entries.get(key)
        if entry is not None and entry[1] > now and self._live.is_set():
            return entry[0]
        generation = self._generation
        identity = sessions.lookup_key(r, key, session_ttl)
        with self._lock:
            if identity is None:
                self._entries.pop(key, None)
            elif generation == self._generation:
                self._hold(key, identity, now)
        return identity

    def remember(self, r: Redis, token: str, identity: Identity) -> None:
        """Hold a session this process just opened: the handheld's next request, on the same
        connection, is forwarded by the edge instead of reading back from Redis what was just written.

        Held first, then checked in Redis: a close before the check is seen by it, one after it
        is announced and forgotten like any other.
        """
        self._ensure_listener(r)
        key = sessions.key_of(token)
        with self._lock:
            self._hold(key, identity, time.monotonic())
        if not r.exists(key):
            self.forget([key])

    def _hold(self, key: str, identity: Identity, now: float) -> None:
        """Keep an identity for `hold_seconds` (the caller holds the lock); only while the listener is live."""
        if not self._live.is_set():
            return
        if len(self._entries) >= self.max_entries:
            self._entries.clear()  # a full cache is cheaper to drop than to age out
        self._entries[key] = (identity, now + self.hold_seconds)

    def held(self, token: str) -> Identity | None:
        """The identity behind `token` if this process holds it now, without asking Redis.

        None means only that it is not in memory: `lookup` then reads Redis (and slides the expiry).
        """
        if self._listener_pid != os.getpid() or not self._live.is_set():
            return None
        entry = self._entries.get(sessions.key_of(token))
        if entry is not None and entry[1] > time.monotonic():
            return entry[0]
        return None

    def forget(self, keys: Iterable[str]) -> None:
        with self._lock:
            self._generation += 1
            for key in keys:
                self._entries.pop(key, None)

    def forget_all(self) -> None:
        with self._lock:
            self._generation += 1
            self._entries.clear()

    def _ensure_listener(self, r: Redis) -> None:
        # One listener per process: gunicorn forks workers after the app is made.
        if self._listener_pid == os.getpid():
            return
        with self._lock:
            if self._listener_pid == os.getpid():
                return
            self._listener_pid = os.getpid()
            self._live.clear()
            self._entries.clear()
        threading.Thread(target=self._listen, args=(r,), name="session-cache", daemon=True).start()

    def _listen(self, r: Redis) -> None:
        while True:
            try:
                self._follow(r.pubsub())
            except (RedisError, OSError) as exc:
                log.warning("session cache listener lost Redis; reading every session from Redis",
                            extra={"reason": type(exc).__name__})
            self._live.clear()
            self.forget_all()
            time.sleep(RETRY_SECONDS)

    def _follow(self, pubsub) -> None:  # type: ignore[no-untyped-def]
        pubsub.subscribe(sessions.CHANGED)
        while True:
            # A short poll, not a blocking read: the client's socket timeout would end a quiet night.
            message = pubsub.get_message(timeout=1.0)
            if message is None:
                continue
            if message["type"] == "subscribe":
                self._live.set()  # only now can no change slip by unheard
            elif message["type"] == "message":
                self.forget(message["data"].decode().split("\n"))
