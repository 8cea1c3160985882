"""Demo data for `make run`, loaded through the gateway's API like any client would.

Every step is idempotent (existing rows answer 409 and are left alone), so a second `make run`
finds the same demo floor.
"""
from __future__ import annotations

import time
from typing import Any

import requests

from deploy.demo import operators, printing, scan, stock

ADMIN_BADGE = "EDB_AD001"
ADMIN_PIN = "9999"
MODULES = (operators, stock, scan, printing)


class DemoClient:
    """A logged-in session on the gateway that tolerates 'already exists'."""

    def __init__(self, base: str, badge: str, pin: str):
        self.base = base
        self.http = requests.Session()
        answer = self.http.post(f"{base}/api/auth/login", json={"badge": badge, "pin": pin, "device": "demo"},
                                timeout=10)
        answer.raise_for_status()
        self.http.headers["Authorization"] = f"Bearer {answer.json()['token']}"

    def post(self, path: str, body: Any = None, **kwargs: Any) -> requests.Response:
        response = self.http.post(self.base + path, json=body, timeout=30, **kwargs)
        if response.status_code >= 400 and response.status_code != 409:
            raise RuntimeError(f"POST {path}: {response.status_code} {response.text[:300]}")
        return response

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.http.get(self.base + path, timeout=30, **kwargs)


def wait_healthy(base: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base}/healthz", timeout=2).json().get("status") == "ok":
                return
        except (requests.RequestException, ValueError):
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{base}/healthz did not say ok within {timeout:.0f}s")


def seed_when_ready(env: dict[str, str]) -> None:
    port = env.get("GATEWAY_PORT", "8000")
    base = f"http://127.0.0.1:{port}"
    wait_healthy(base)
    client = DemoClient(base, env["BOOTSTRAP_ADMIN_BADGE"], env["BOOTSTRAP_ADMIN_PIN"])
    for module in MODULES:
        module.seed(client)
    banner(base, env)


def banner(base: str, env: dict[str, str]) -> None:
    lines = [f"\nThe warehouse floor is up: {base}/  (health: {base}/healthz)",
             f"  admin            {env['BOOTSTRAP_ADMIN_BADGE']}  PIN {env['BOOTSTRAP_ADMIN_PIN']}"]
    lines += [f"  {role:<16} {badge}  PIN {pin}" for badge, _name, role, pin in operators.DEMO_OPERATORS]
    lines.append("Ctrl-C stops everything; the data stays in VAR_DIR for the next `make run`.\n")
    print("\n".join(lines), flush=True)
