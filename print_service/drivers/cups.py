"""A CUPS queue (a raw queue in front of the printer), through the `zebra` package.

`zebra.Zebra.output` runs `lpr` and ignores its exit status; this driver runs the same command
through the package but checks the status, so a refused job is retried instead of lost.
"""
from __future__ import annotations

import os
import subprocess

import zebra

from print_service.drivers import OFFLINE, PAUSED, READY, UNKNOWN, PrinterOfflineError, Status


class CheckedZebra(zebra.Zebra):
    """zebra.Zebra whose output raises when lpr fails."""

    def __init__(self, queue: str, timeout: float):
        super().__init__(queue)
        self.timeout = timeout

    def _output_unix(self, commands: bytes) -> None:
        try:
            # CUPS's own client from PATH, no shell; the queue name is checked when the printer is added (noqa).
            done = subprocess.run(["lpr", f"-P{self.queue}", "-oraw"], input=commands, capture_output=True,  # noqa: S603,S607
                                  timeout=self.timeout, check=False, env=_cups_env())
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise PrinterOfflineError(f"lpr for {self.queue} did not run: {exc.__class__.__name__}") from exc
        if done.returncode != 0:
            reason = done.stderr.decode("utf-8", errors="replace").strip()[:300]
            raise PrinterOfflineError(f"lpr for {self.queue} exited {done.returncode}: {reason}")


def _cups_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("LANG", "C.UTF-8")
    return env


class CupsDriver:
    def __init__(self, queue: str, timeout: float = 10.0):
        self.queue = queue
        self.timeout = timeout

    def status(self) -> Status:
        try:
            # As above: lpstat from PATH, a checked queue name that cannot start with "-", no shell.
            done = subprocess.run(["lpstat", "-p", self.queue], capture_output=True, text=True,  # noqa: S603,S607
                                  timeout=self.timeout,
                                  check=False, env=_cups_env() | {"LANG": "C"})
        except (OSError, subprocess.TimeoutExpired) as exc:
            return Status(UNKNOWN, f"lpstat did not run: {exc.__class__.__name__}")
        if done.returncode != 0:
            return Status(OFFLINE, done.stderr.strip()[:300])
        text = done.stdout
        if "disabled" in text:
            return Status(PAUSED, text.strip()[:300])
        if "idle" in text or "printing" in text:
            return Status(READY, text.strip()[:300])
        return Status(UNKNOWN, text.strip()[:300])

    def send(self, name: str, data: bytes) -> None:
        CheckedZebra(self.queue, self.timeout).output(data, encoding="utf-8")
