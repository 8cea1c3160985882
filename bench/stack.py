"""The system as production runs it, in its own VAR_DIR: gunicorn per service, the RQ worker.

PostgreSQL and Redis are the embedded ones of `deploy.devstack` (never the DATABASE_URL of the
caller: the bench wipes its state and writes a million ledger rows). Gunicorn takes the shared
production settings (`common/gunicorn_defaults.py`), so WEB_CONCURRENCY / WEB_THREADS in the
environment choose the worker shape; the worker command is read from `deploy/Procfile`.
"""
from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from common.ceiling import BENCH_SCHEMA_SQL
from common.db import engine_url
from common.testing import free_ports

ROOT = Path(__file__).resolve().parent.parent
SERVICES = {"stock": "stock_service", "scan": "scan_service", "print": "print_service", "gateway": "gateway"}
ADMIN_BADGE, ADMIN_PIN = "EDB_AD900", "720931"


def var_dir() -> Path:
    return Path(os.environ.get("BENCH_VAR_DIR") or ROOT / "var" / "bench").resolve()


def procfile_command(name: str) -> tuple[list[str], dict[str, str]]:
    """A Procfile line as argv plus its leading VAR=value settings (`exec` dropped, python = this one)."""
    line = next(row.split(":", 1)[1] for row in (ROOT / "deploy" / "Procfile").read_text().splitlines()
                if row.startswith(f"{name}:"))
    words = shlex.split(line)
    settings = {}
    while words and "=" in words[0] and not words[0].startswith("-"):
        key, _, value = words.pop(0).partition("=")
        settings[key] = value
    if words and words[0] == "exec":
        words.pop(0)
    if words and words[0] == "python":
        words[0] = sys.executable
    return words, settings


def _wipe(path: Path, attempts: int = 20) -> None:
    """Remove the last run's state; a PostgreSQL still shutting down may delete files under us."""
    for _ in range(attempts):
        if not path.exists():
            return
        shutil.rmtree(path, ignore_errors=True)
        time.sleep(0.5)
    raise RuntimeError(f"could not remove {path}: is a server of the last run still running?")


class BenchStack:
    """Start everything, hand out URLs and a database engine, stop everything."""

    def __init__(self) -> None:
        self.var = var_dir()
        self.procs: dict[str, subprocess.Popen] = {}
        self.ports = dict(zip(SERVICES, free_ports(len(SERVICES)), strict=True))
        self.devstack = None
        self.env: dict[str, str] = {}
        self.engine: Engine | None = None
        self.logs: list = []

    def url(self, name: str = "gateway") -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def __enter__(self) -> BenchStack:
        _wipe(self.var)
        self.var.mkdir(parents=True)
        (self.var / "logs").mkdir()
        saved = {k: os.environ.pop(k, None) for k in ("DATABASE_URL", "REDIS_URL", "VAR_DIR")}
        os.environ["VAR_DIR"] = str(self.var)
        try:
            from deploy.devstack import Stack

            self.devstack = Stack().__enter__()
        finally:
            for key, value in saved.items():
                if value is not None:
                    os.environ[key] = value
        self.env = dict(self.devstack.env)
        self.env.update(BENCH_ENDPOINTS="1", BOOTSTRAP_ADMIN_BADGE=ADMIN_BADGE, BOOTSTRAP_ADMIN_PIN=ADMIN_PIN,
                        LOG_LEVEL=os.environ.get("LOG_LEVEL", "WARNING"), PRINT_QUEUE_REFRESH_SECONDS="1")
        self.env.setdefault("WEB_CONCURRENCY", "2")
        self.env.setdefault("WEB_THREADS", "4")
        for name, port in self.ports.items():
            self.env[f"{name.upper()}_PORT"] = str(port)
            self.env.pop(f"{name.upper()}_URL", None)
        self.devstack.migrate()
        self.engine = create_engine(engine_url(self.env["DATABASE_URL"]), pool_size=4)
        with self.engine.begin() as conn:
            for statement in BENCH_SCHEMA_SQL:
                conn.execute(text(statement))
        for name in SERVICES:
            self._start_service(name)
        self.start_worker()
        return self

    def _start_service(self, name: str) -> None:
        metrics = self.var / "metrics" / name
        metrics.mkdir(parents=True, exist_ok=True)
        env = self.env | {"PROMETHEUS_MULTIPROC_DIR": str(metrics)}
        log = self._log(name)
        self.procs[name] = subprocess.Popen(  # noqa: S603 - our own interpreter and config
            [sys.executable, "-m", "gunicorn", "-c", f"{SERVICES[name]}/gunicorn.conf.py"],
            cwd=ROOT, env=env, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        self._wait_ready(name)

    def start_worker(self) -> None:
        """The RQ worker exactly as the Procfile's `worker:` line starts it."""
        argv, settings = procfile_command("worker")
        log = self._log("worker")
        self.procs["worker"] = subprocess.Popen(  # noqa: S603 - the repository's own Procfile line
            argv, cwd=ROOT, env=self.env | settings, stdout=log, stderr=log, stdin=subprocess.DEVNULL)

    def _log(self, name: str):  # type: ignore[no-untyped-def]
        """The process's log file, open until the run ends (the child writes to it)."""
        log = open(self.var / "logs" / f"{name}.log", "ab")  # noqa: SIM115 - closed in __exit__
        self.logs.append(log)
        return log

    def _wait_ready(self, name: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.procs[name].poll() is not None:
                raise RuntimeError(f"{name} exited: see {self.var / 'logs' / (name + '.log')}")
            try:
                if requests.get(self.url(name) + "/healthz", timeout=1).status_code in (200, 503):
                    return
            except requests.RequestException:
                time.sleep(0.2)
        raise RuntimeError(f"{name} did not answer within {timeout}s")

    def pids(self) -> dict[str, int]:
        """Root process of each part: the four gunicorn masters, the worker, PostgreSQL, Redis."""
        found = {name: proc.pid for name, proc in self.procs.items()}
        if self.devstack is not None and self.devstack.redis_proc is not None:
            found["redis"] = self.devstack.redis_proc.pid
        pid_file = self.var / "pg" / "postmaster.pid"
        if pid_file.exists():
            found["postgres"] = int(pid_file.read_text().split()[0])
        return found

    def __exit__(self, *exc: object) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for log in self.logs:
            log.close()
        if self.engine is not None:
            self.engine.dispose()
        if self.devstack is not None:
            self.devstack.__exit__(None, None, None)
