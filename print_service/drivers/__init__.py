"""Printer drivers behind one interface: ask the printer's state, send one job's bytes.

A driver raises PrinterHeldError when the printer answers but cannot print now (paper out, head
open, paused: the job waits for a person) and PrinterOfflineError when it does not answer (the job
is retried with backoff).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import unquote, urlsplit

READY, BUSY, PAUSED, PAPER_OUT, RIBBON_OUT, HEAD_OPEN, OFFLINE, UNKNOWN = (
    "ready", "busy", "paused", "paper_out", "ribbon_out", "head_open", "offline", "unknown")
STATES = (READY, BUSY, PAUSED, PAPER_OUT, RIBBON_OUT, HEAD_OPEN, OFFLINE, UNKNOWN)


@dataclass(frozen=True)
class Status:
    state: str
    detail: str = ""

    @property
    def can_print(self) -> bool:
        return self.state in (READY, BUSY)


class PrinterHeldError(Exception):
    """The printer answered that it cannot print now; `state` says why."""

    def __init__(self, state: str, detail: str = ""):
        super().__init__(f"{state}: {detail}" if detail else state)
        self.state = state


class PrinterOfflineError(Exception):
    """The printer did not answer, or the spool refused the write."""


class Driver(Protocol):
    def status(self) -> Status: ...

    def send(self, name: str, data: bytes) -> None: ...


def timeout_seconds() -> float:
    return float(os.environ.get("PRINT_SOCKET_TIMEOUT") or 5.0)


def for_uri(uri: str) -> Driver:
    """The driver of a printer URI (checked when the printer is registered)."""
    from print_service.drivers.cups import CupsDriver
    from print_service.drivers.spool import SpoolDriver
    from print_service.drivers.tcp import TcpDriver

    scheme, target = parse_uri(uri)
    if scheme == "tcp":
        host, port = target
        return TcpDriver(host, port, timeout_seconds())
    if scheme == "cups":
        return CupsDriver(target)
    return SpoolDriver(target)


def parse_uri(uri: str):  # type: ignore[no-untyped-def]
    """('tcp', (host, port)) | ('cups', queue) | ('file', directory); ValueError when not one of them."""
    parts = urlsplit(uri)
    if parts.scheme == "tcp":
        if not parts.hostname or parts.path not in ("", "/") or parts.query:
            raise ValueError("tcp://host:port")
        port = parts.port or 9100
        return "tcp", (parts.hostname, port)
    if parts.scheme == "cups":
        queue = parts.netloc or parts.path.lstrip("/")
        # A leading "-" would be read as an option by lpstat.
        if not queue or not queue[0].isalnum() or not all(ch.isalnum() or ch in "-_." for ch in queue):
            raise ValueError("cups://queue")
        return "cups", queue
    if parts.scheme == "file":
        path = unquote(parts.path)
        if parts.netloc not in ("", "localhost") or not path.startswith("/") or ".." in path.split("/"):
            raise ValueError("file:///absolute/directory")
        return "file", path
    raise ValueError("tcp://host:port, cups://queue or file:///dir")
