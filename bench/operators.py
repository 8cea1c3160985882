"""The floor's people for a run: created by the bootstrap admin, each handheld logged in with its own badge."""
from __future__ import annotations

import asyncio
import time
from typing import Any

from bench.loadgen import Handheld, Stats
from bench.stack import ADMIN_BADGE, ADMIN_PIN

ROLES = ["picker", "verifier", "stock_manager", "supervisor", "labeler"]
PIN = "246810"
# Each login verifies an argon2 hash in the gateway (17 ms of CPU and 19 MiB: gateway/domain/operators.py).
# Four at a time keep both cores busy; more would only queue in the gateway's threads, stretching
# every login's latency.
LOGIN_CONCURRENCY = 4
OPERATOR_SQL = ("INSERT INTO gateway.operators (badge, name, roles, lang, pin_hash, active) "
                "VALUES (:badge, :name, :roles, 'zh-CN', :pin_hash, true) ON CONFLICT (badge) DO NOTHING")


class LoginError(RuntimeError):
    """An operator could not be created or logged in: the run cannot measure anything."""


def badge(number: int) -> str:
    return f"EDB_BH{number:03d}"


async def login(base_url: str, badge_code: str, pin: str, device: str, stats: Stats) -> Handheld:
    """A handheld whose operator has logged in through the gateway."""
    hand = Handheld(base_url, None, device, stats)
    answer = await hand.post("login", "/api/auth/login", {"badge": badge_code, "pin": pin, "device": device})
    if answer.status != 200:
        raise LoginError(f"login of {badge_code}: {answer.status} {answer.body[:200]!r}")
    hand.headers["Authorization"] = f"Bearer {answer.json()['token']}"
    return hand


async def floor(base_url: str, count: int, stats: Stats, first: int = 1) -> list[Handheld]:
    """`count` operators created by the admin (badges EDB_BH001...), each logged in on its own device."""
    admin = await login(base_url, ADMIN_BADGE, ADMIN_PIN, "BENCH-ADMIN", stats)
    # One admin connection: the operators are created one after another, then log in side by side.
    for number in range(first, first + count):
        body = {"badge": badge(number), "name": f"Bench {number:03d}", "roles": ROLES, "pin": PIN, "lang": "en"}
        made = await admin.post("create_operator", "/api/auth/operators", body)
        if made.status not in (201, 409):
            raise LoginError(f"operator {badge(number)}: {made.status} {made.body[:200]!r}")
    await admin.close()
    hands, _took = await log_in(base_url, [(badge(n), f"HH-{n:03d}") for n in range(first, first + count)], stats)
    return hands


def seed(bench: Any, people: list[tuple[str, str, list[str]]]) -> None:
    """Operators (badge, name, roles) written straight into the gateway's table, one PIN hash for all.

    Set-up, not measured: through the API each creation costs an argon2 hash, minutes for a
    thousand people. The hash is made by the gateway's own code, so a login checks it as any other.
    """
    from gateway.domain.operators import hash_pin

    pin_hash = hash_pin(PIN)
    bench.sql(OPERATOR_SQL, [{"badge": b, "name": name, "roles": roles, "pin_hash": pin_hash}
                             for b, name, roles in people])


async def log_in(base_url: str, people: list[tuple[str, str]], stats: Stats,
                 concurrency: int = LOGIN_CONCURRENCY) -> tuple[list[Handheld], float]:
    """Each (badge, device) logged in on its own handheld, `concurrency` at a time; and how long it took."""
    limit = asyncio.Semaphore(concurrency)
    started = time.monotonic()

    async def one(badge_code: str, device: str) -> Handheld:
        async with limit:
            return await login(base_url, badge_code, PIN, device, stats)

    hands = list(await asyncio.gather(*(one(b, d) for b, d in people)))
    return hands, time.monotonic() - started
