"""Printing test kit: a fake Zebra on a TCP port, RQ worker processes, and polling helpers."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from common.testing import ROOT
from tests.print_service.fake_printer import FakePrinter

WORKER_ENV = {"PRINT_QUEUE_REFRESH_SECONDS": "1", "PRINT_SOCKET_TIMEOUT": "1", "PRINT_LOCK_SECONDS": "5"}


@pytest.fixture
def fake_printer() -> Iterator[FakePrinter]:
    printer = FakePrinter()
    yield printer
    printer.close()


@pytest.fixture
def make_fake_printer() -> Iterator[Callable[[], FakePrinter]]:
    made: list[FakePrinter] = []

    def make() -> FakePrinter:
        made.append(FakePrinter())
        return made[-1]

    yield make
    for printer in made:
        printer.close()


class Workers:
    """`python -m print_service.worker` processes, each in its own process group."""

    def __init__(self, env: dict[str, str], log_dir: Path):
        self.env = env | WORKER_ENV
        self.log_dir = log_dir
        self.procs: list[subprocess.Popen] = []

    def start(self, count: int = 1) -> list[subprocess.Popen]:
        started = []
        for _ in range(count):
            log = open(self.log_dir / f"worker-{len(self.procs)}.log", "ab")  # noqa: SIM115
            proc = subprocess.Popen([sys.executable, "-m", "print_service.worker"], cwd=ROOT, env=self.env,
                                    stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True)
            self.procs.append(proc)
            started.append(proc)
        return started

    def kill(self, proc: subprocess.Popen) -> None:
        """SIGKILL the worker, which runs its jobs itself, and any child it put in a session of its own.

        The scheduler it forked stays in the worker's process group and keeps running, as a scheduler
        on another machine would; stop_all ends it.
        """
        horses = [pid for pid in _descendants(proc.pid) if _pgid(pid) != proc.pid]
        for pid in [proc.pid, *horses]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        proc.wait()

    def stop_all(self) -> None:
        for proc in self.procs:
            _signal_group(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                _signal_group(proc.pid, signal.SIGKILL)
                proc.wait()
        time.sleep(0.2)
        for proc in self.procs:
            _signal_group(proc.pid, signal.SIGKILL)
        self.procs.clear()


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass


def _pgid(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None


def _descendants(pid: int) -> list[int]:
    found = []
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return found
    for child in map(int, children):
        found.append(child)
        found.extend(_descendants(child))
    return found


@pytest.fixture
def workers(test_env: dict[str, str], tmp_path: Path, clean: None) -> Iterator[Workers]:
    pool = Workers(test_env, tmp_path)
    yield pool
    pool.stop_all()
