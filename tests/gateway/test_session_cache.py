"""The gateway's few seconds of session memory: served without Redis, forgotten the moment it changes.

Two SessionCache objects stand for two gateway processes; they share the real Redis.
"""
import pytest

from common.auth import Identity
from common.config import load
from common.testing import wait_for
from gateway.domain import session_cache, sessions
from gateway.domain.session_cache import SessionCache
from gateway.session_auth import hold_seconds

PICKER = Identity(badge="EDB_PH001", name="王芳", roles=("picker",), device="HH-01")
TTL = 3600


@pytest.fixture
def caches(clean, redis_conn):
    made = []

    def make(hold: float = 30.0) -> SessionCache:
        cache = SessionCache(hold_seconds=hold)
        cache._ensure_listener(redis_conn)
        assert wait_for(cache._live.is_set, timeout=5), "listener never subscribed"
        made.append(cache)
        return cache

    return make


def test_a_session_read_a_moment_ago_costs_no_redis_read(caches, redis_conn):
    """Within the hold time the identity comes from memory: even a silent delete does not reach it."""
    cache = caches(hold=30)
    token = sessions.open_session(redis_conn, PICKER, TTL)
    assert cache.lookup(redis_conn, token, TTL) == PICKER
    redis_conn.delete(sessions.key_of(token))  # no announcement: only Redis knows
    assert cache.lookup(redis_conn, token, TTL) == PICKER


def test_after_the_hold_time_redis_is_asked_again(caches, redis_conn):
    cache = caches(hold=0.2)
    token = sessions.open_session(redis_conn, PICKER, TTL)
    assert cache.lookup(redis_conn, token, TTL) == PICKER
    redis_conn.delete(sessions.key_of(token))
    assert wait_for(lambda: cache.lookup(redis_conn, token, TTL) is None, timeout=3)


def test_each_read_from_redis_slides_the_expiry(caches, redis_conn):
    cache = caches(hold=0)
    token = sessions.open_session(redis_conn, PICKER, 100)
    cache.lookup(redis_conn, token, TTL)
    assert redis_conn.ttl(sessions.key_of(token)) > 100


def test_logout_in_one_process_reaches_the_other_at_once(caches, redis_conn):
    """Process B cached the token; A logs it out: B refuses it without waiting for its hold time."""
    a, b = caches(), caches()
    token = sessions.open_session(redis_conn, PICKER, TTL)
    assert b.lookup(redis_conn, token, TTL) == PICKER
    a.forget(sessions.close_session(redis_conn, token, PICKER.badge))
    assert wait_for(lambda: b.lookup(redis_conn, token, TTL) is None, timeout=2)


def test_deactivation_and_language_change_reach_every_process(caches, redis_conn):
    cache = caches()
    first = sessions.open_session(redis_conn, PICKER, TTL)
    second = sessions.open_session(redis_conn, PICKER, TTL)
    assert cache.lookup(redis_conn, first, TTL).lang == "zh-CN"
    sessions.refresh_identity(redis_conn, Identity(badge=PICKER.badge, name=PICKER.name, roles=PICKER.roles, lang="en"))
    assert wait_for(lambda: cache.lookup(redis_conn, first, TTL).lang == "en", timeout=2)
    assert cache.lookup(redis_conn, second, TTL).lang == "en"
    sessions.close_all(redis_conn, PICKER.badge)
    assert wait_for(lambda: cache.lookup(redis_conn, first, TTL) is None, timeout=2)
    assert cache.lookup(redis_conn, second, TTL) is None


def test_a_lost_listener_means_no_cache_until_it_is_back(caches, redis_conn):
    """Redis drops the listener's connection: what was held is forgotten, nothing is trusted meanwhile."""
    cache = caches(hold=30)
    token = sessions.open_session(redis_conn, PICKER, TTL)
    assert cache.lookup(redis_conn, token, TTL) == PICKER
    redis_conn.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
    assert wait_for(lambda: not cache._entries, timeout=5)
    redis_conn.delete(sessions.key_of(token))  # a silent delete while the listener was away
    assert cache.lookup(redis_conn, token, TTL) is None
    assert wait_for(cache._live.is_set, timeout=5), "listener did not come back"


def test_a_read_overlapping_a_logout_is_not_kept(caches, redis_conn, monkeypatch):
    """Redis answered just before the logout landed: the answer serves that request, the cache drops it."""
    cache = caches()
    token = sessions.open_session(redis_conn, PICKER, TTL)
    real = sessions.lookup_key

    def logout_while_reading(r, key, ttl):
        identity = real(r, key, ttl)
        cache.forget(sessions.close_session(redis_conn, token, PICKER.badge))
        return identity

    monkeypatch.setattr(session_cache.sessions, "lookup_key", logout_while_reading)
    assert cache.lookup(redis_conn, token, TTL) == PICKER
    monkeypatch.setattr(session_cache.sessions, "lookup_key", real)
    assert cache.lookup(redis_conn, token, TTL) is None


def test_held_answers_from_memory_only(caches, redis_conn):
    """`held` never reads Redis: a token nobody looked up yet is not held; one looked up is, until forgotten."""
    cache = caches(hold=30)
    token = sessions.open_session(redis_conn, PICKER, TTL)
    assert cache.held(token) is None
    assert cache.lookup(redis_conn, token, TTL) == PICKER
    assert cache.held(token) == PICKER
    cache.forget([sessions.key_of(token)])
    assert cache.held(token) is None


def test_held_keeps_nothing_past_the_hold_time(caches, redis_conn):
    cache = caches(hold=0.2)
    token = sessions.open_session(redis_conn, PICKER, TTL)
    cache.lookup(redis_conn, token, TTL)
    assert cache.held(token) == PICKER
    assert wait_for(lambda: cache.held(token) is None, timeout=3)


def test_held_trusts_nothing_while_the_listener_is_away(caches, redis_conn):
    """A logout could be missed while the listener is not subscribed: nothing is held then."""
    cache = caches(hold=30)
    token = sessions.open_session(redis_conn, PICKER, TTL)
    cache.lookup(redis_conn, token, TTL)
    cache._live.clear()
    assert cache.held(token) is None


def test_a_process_holds_a_session_at_most_half_its_lifetime():
    """A read slides the session to a full lifetime: held for less than half of it, no entry outlives its session."""
    settings = load("gateway")
    assert hold_seconds(settings.with_overrides({"session_cache_seconds": 60.0})) == 60.0
    short = settings.with_overrides({"session_cache_seconds": 60.0, "session_ttl_seconds": 30})
    assert hold_seconds(short) == 15.0


def test_a_session_opened_here_is_held_without_reading_it_back(caches, redis_conn):
    """A login's process holds the new session: the handheld's first scan is forwarded by the edge."""
    cache = caches(hold=30)
    token = sessions.open_session(redis_conn, PICKER, TTL)
    cache.remember(redis_conn, token, PICKER)
    assert cache.held(token) == PICKER


def test_a_session_closed_before_it_was_held_is_not_kept(caches, redis_conn):
    """Closed between its opening and the remembering (a deactivation racing the login): not held."""
    cache = caches(hold=30)
    token = sessions.open_session(redis_conn, PICKER, TTL)
    redis_conn.delete(sessions.key_of(token))
    cache.remember(redis_conn, token, PICKER)
    assert cache.held(token) is None


def test_a_session_closed_after_it_was_held_is_forgotten_at_once(caches, redis_conn):
    cache = caches(hold=30)
    token = sessions.open_session(redis_conn, PICKER, TTL)
    cache.remember(redis_conn, token, PICKER)
    sessions.close_session(redis_conn, token, PICKER.badge)
    assert wait_for(lambda: cache.held(token) is None, timeout=5)
