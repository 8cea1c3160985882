"""Test support shared by every service's tests: per-worker databases, clean state, clients.

Each pytest-xdist worker gets its own PostgreSQL database (migrated once) and its own Redis db
number, so tests run in parallel and in any order; every test starts from empty tables.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psycopg
import requests
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.engine import Engine

from common import auth
from common.db import engine_url

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ("gateway", "stock", "scan", "print")
TEST_SECRETS = {"INTERNAL_TOKEN": "test-internal-token", "IDENTITY_SECRET": "test-identity-secret"}
# Cheap hashes for test operators; a real login re-hashes them with the production parameters.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def worker_number() -> int:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return int(worker[2:]) if worker.startswith("gw") else 0


def database_url_for(base_url: str, name: str) -> str:
    return make_url(base_url).set(database=name).render_as_string(hide_password=False)


def redis_url_for(base_url: str, db: int) -> str:
    if base_url.startswith("unix://"):
        path = base_url.split("?", 1)[0]
        return f"{path}?db={db}"
    head = base_url.rsplit("/", 1)[0] if base_url.count("/") > 2 else base_url
    return f"{head}/{db}"


def create_test_database(base_url: str) -> str:
    """A fresh, migrated database for this worker; returns its URL."""
    name = f"wms_test_{worker_number()}"
    admin = create_engine(engine_url(base_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = database_url_for(base_url, name)
    # noqa below: a fixed argv of this interpreter, no shell, nothing from outside.
    subprocess.run([sys.executable, "-m", "common.migrate"], cwd=ROOT, check=True, capture_output=True,  # noqa: S603
                   env=os.environ | {"DATABASE_URL": url})
    return url


def truncate_all(engine: Engine) -> None:
    """Empty every table of every service schema (the ledger refuses DELETE, not TRUNCATE)."""
    with engine.begin() as conn:
        tables = conn.execute(text(
            "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables "
            "WHERE schemaname = ANY(:schemas) AND tablename <> 'alembic_version'"), {"schemas": list(SCHEMAS)}
        ).scalars().all()
        if tables:
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))


def identity_headers(badge: str = "EDB_TEST01", roles: tuple[str, ...] = ("admin",), lang: str = "en",
                     device: str = "HH-TEST", name: str = "Tester") -> dict[str, str]:
    """What the gateway adds to a request for this operator."""
    identity = auth.Identity(badge=badge, name=name, roles=tuple(roles), lang=lang, device=device)
    headers = {auth.TOKEN_HEADER: TEST_SECRETS["INTERNAL_TOKEN"]}
    headers.update(auth.sign(identity, TEST_SECRETS["IDENTITY_SECRET"]))
    return headers


class ServiceClient:
    """A Flask test client of one service that calls as a given operator."""

    def __init__(self, app: Flask, badge: str, roles: tuple[str, ...], lang: str = "en"):
        self.app = app
        self.client: FlaskClient = app.test_client()
        self.badge, self.roles, self.lang = badge, roles, lang

    def _headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        headers = identity_headers(self.badge, self.roles, self.lang)
        headers.update(extra or {})
        return headers

    def request(self, method: str, path: str, *, headers: dict[str, str] | None = None, **kwargs: Any):
        return self.client.open(path, method=method, headers=self._headers(headers), **kwargs)

    def get(self, path: str, **kwargs: Any):
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any):
        return self.request("POST", path, **kwargs)

    def as_(self, badge: str, *roles: str) -> ServiceClient:
        return ServiceClient(self.app, badge, tuple(roles))


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    """The response is the api.md error body with this status and code; returns its details."""
    body = response.get_json() if hasattr(response, "get_json") else response.json()
    # The asserts are this test helper's purpose (noqa S101).
    assert response.status_code == status, (response.status_code, body)  # noqa: S101
    assert set(body) == {"error"}, body  # noqa: S101
    assert body["error"]["code"] == code, body  # noqa: S101
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]  # noqa: S101
    return body["error"]["details"]


def http_peer(handler: type[BaseHTTPRequestHandler]) -> tuple[ThreadingHTTPServer, str]:
    """A real HTTP server on a free local port answering with `handler`, and its URL; shut it down after."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


@contextmanager
def asgi_peer(app: Any) -> Iterator[str]:
    """An ASGI app served by uvicorn (httptools on uvloop, as gunicorn's EdgeWorker runs it) on a free
    local port, in a thread of this process; yields its URL."""
    import uvicorn

    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, loop="uvloop", http="httptools", lifespan="on",
                            access_log=False, server_header=False, log_config=None)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        if not wait_for(lambda: server.started, timeout=10):
            raise RuntimeError("uvicorn did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def statements() -> Iterator[list[Any]]:
    """Count the statements this process sends to PostgreSQL inside the block.

    Counted at psycopg's cursor: through SQLAlchemy or straight on a unit's cursor alike.
    """
    sent: list[Any] = []
    real = {name: getattr(psycopg.Cursor, name) for name in ("execute", "executemany")}

    def counting(name: str) -> Any:
        def count(self: psycopg.Cursor, query: Any, *args: Any, **kwargs: Any) -> Any:
            sent.append(query)  # an executemany (the ORM's batched UPDATE) counts once, as one is sent
            return real[name](self, query, *args, **kwargs)
        return count

    for name in real:
        setattr(psycopg.Cursor, name, counting(name))
    try:
        yield sent
    finally:
        for name, method in real.items():
            setattr(psycopg.Cursor, name, method)


def wait_for(check: Any, timeout: float = 20, interval: float = 0.1) -> Any:
    """Poll `check` until it returns something truthy; fail with its last answer."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s; last answer: {last!r}")


def free_port() -> int:
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """`count` different ports free now: held open together while chosen, so no two are the same.

    One at a time, the kernel may hand the same port out twice; a stack whose gateway and stock
    got one port then has its gateway answered by stock.
    """
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


class LiveStack:
    """The four services under gunicorn on free ports, talking real HTTP, for one test worker."""

    SERVICES = {"gateway": "gateway", "stock": "stock_service", "scan": "scan_service", "print": "print_service"}

    def __init__(self, env: dict[str, str], log_dir: Path):
        self.ports = dict(zip(self.SERVICES, free_ports(len(self.SERVICES)), strict=True))
        self.env = dict(env)
        for name, port in self.ports.items():
            self.env[f"{name.upper()}_PORT"] = str(port)
            self.env.pop(f"{name.upper()}_URL", None)
        self.env.update(WEB_CONCURRENCY="1", WEB_THREADS="8")
        self.log_dir = log_dir
        self.procs: dict[str, subprocess.Popen] = {}

    def url(self, name: str = "gateway") -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def start(self, name: str) -> None:
        package = self.SERVICES[name]
        log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - the process keeps it
        self.procs[name] = subprocess.Popen(  # noqa: S603 - fixed argv of this interpreter, no shell
            [sys.executable, "-m", "gunicorn", "-c", f"{package}/gunicorn.conf.py"],
            cwd=ROOT, env=self.env, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        self.wait_ready(name)

    def wait_ready(self, name: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.procs[name].poll() is not None:
                raise RuntimeError(f"{name} exited: see {self.log_dir / (name + '.log')}")
            try:
                if requests.get(self.url(name) + "/healthz", timeout=1).status_code in (200, 503):
                    return
            except requests.RequestException:
                time.sleep(0.1)
        raise RuntimeError(f"{name} did not answer within {timeout}s")

    def stop(self, name: str) -> None:
        proc = self.procs.pop(name, None)
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def __enter__(self) -> LiveStack:
        for name in ("stock", "scan", "print", "gateway"):
            self.start(name)
        return self

    def __exit__(self, *exc: object) -> None:
        for name in list(self.procs):
            self.stop(name)


class Floor:
    """Operators logged in through the live gateway, each with their own requests.Session."""

    def __init__(self, base: str, engine: Engine):
        self.base = base
        self.engine = engine

    def add_operator(self, badge: str, roles: tuple[str, ...], pin: str = "1234", lang: str = "en",
                     name: str = "Test Operator") -> None:
        with self.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO gateway.operators (badge, name, roles, lang, pin_hash) "
                "VALUES (:b, :n, :r, :l, :h) ON CONFLICT (badge) DO NOTHING"),
                {"b": badge, "n": name, "r": list(roles), "l": lang, "h": FAST_HASHER.hash(pin)})

    def login(self, *roles: str, badge: str | None = None, device: str = "HH-01") -> requests.Session:
        badge = badge or f"EDB_{'_'.join(r[:2].upper() for r in roles)}{abs(hash(roles)) % 1000:03d}"
        self.add_operator(badge, tuple(roles))
        session = requests.Session()
        answer = session.post(f"{self.base}/api/auth/login", json={"badge": badge, "pin": "1234", "device": device},
                              timeout=10)
        assert answer.status_code == 200, answer.text  # noqa: S101 - a test helper: a failed login fails the test
        session.headers["Authorization"] = f"Bearer {answer.json()['token']}"
        session.badge = badge  # type: ignore[attr-defined]
        return session

    def url(self, path: str) -> str:
        return self.base + path


def environment(base_db: str, base_redis: str) -> Iterator[dict[str, str]]:
    """The environment every app and process of this worker runs with."""
    db_url = create_test_database(base_db)
    env = dict(os.environ)
    env.update(TEST_SECRETS)
    env.update(DATABASE_URL=db_url, REDIS_URL=redis_url_for(base_redis, 1 + worker_number()),
               WAREHOUSE_TZ="Asia/Shanghai")
    env.pop("BOOTSTRAP_ADMIN_BADGE", None)
    env.pop("BOOTSTRAP_ADMIN_PIN", None)
    yield env
