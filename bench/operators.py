"""The floor's people for a run: created by the bootstrap admin, each handheld logged in with its own badge."""
from __future__ import annotations

import asyncio

from bench.loadgen import Handheld, Stats
from bench.stack import ADMIN_BADGE, ADMIN_PIN

ROLES = ["picker", "verifier", "stock_manager", "supervisor", "labeler"]
PIN = "246810"


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
    limit = asyncio.Semaphore(4)

    async def one(number: int) -> Handheld:
        async with limit:
            return await login(base_url, badge(number), PIN, f"HH-{number:03d}", stats)

    return list(await asyncio.gather(*(one(n) for n in range(first, first + count))))
