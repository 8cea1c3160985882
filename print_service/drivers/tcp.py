"""Raw ZPL over TCP (port 9100), with the Zebra host status query `~HS` before every job.

~HS answers three lines, each framed STX ... ETX CR LF:
  1: aaa,b,c,dddd,eee,f,g,h,iii,j,k,l   b = paper out, c = pause
  2: mmm,n,o,p,q,r,s,t,uuuuuuuu,v,www  o = head open, p = ribbon out
  3: xxxx,y
"""
from __future__ import annotations

import socket
import time

from print_service.drivers import (
    HEAD_OPEN,
    OFFLINE,
    PAPER_OUT,
    PAUSED,
    READY,
    RIBBON_OUT,
    PrinterHeldError,
    PrinterOfflineError,
    Status,
)

STX, ETX = b"\x02", b"\x03"
HOST_STATUS = b"~HS"


def parse_host_status(answer: bytes) -> Status:
    """The printer state from a ~HS answer; a malformed answer is treated as no answer."""
    frames = []
    for chunk in answer.split(STX)[1:]:
        frames.append(chunk.split(ETX, 1)[0].decode("ascii", errors="replace"))
    if len(frames) < 3:
        raise PrinterOfflineError(f"incomplete ~HS answer ({len(frames)} of 3 lines)")
    first, second = frames[0].split(","), frames[1].split(",")
    if len(first) < 3 or len(second) < 4:
        raise PrinterOfflineError("malformed ~HS answer")
    flags = [(first[1], PAPER_OUT), (second[2], HEAD_OPEN), (second[3], RIBBON_OUT), (first[2], PAUSED)]
    for flag, state in flags:
        if flag.strip() == "1":
            return Status(state, frames[0] + "|" + frames[1])
    return Status(READY)


class TcpDriver:
    """One connection per label: ~HS, the label, then the printer's close, all within `timeout`.

    The whole exchange shares one deadline, so a printer that hangs at any step holds the worker
    (and every other printer's labels behind it) for at most the socket timeout.
    """

    def __init__(self, host: str, port: int, timeout: float):
        self.host, self.port, self.timeout = host, port, timeout

    def _connect(self) -> socket.socket:
        try:
            return socket.create_connection((self.host, self.port), timeout=self.timeout)
        except OSError as exc:
            raise PrinterOfflineError(f"cannot connect to {self.host}:{self.port}: {exc.__class__.__name__}") from exc

    def _query(self, sock: socket.socket, deadline: float) -> Status:
        try:
            _time_left(sock, deadline)
            sock.sendall(HOST_STATUS)
            answer = b""
            while answer.count(ETX) < 3:
                _time_left(sock, deadline)
                chunk = sock.recv(1024)
                if not chunk:
                    break
                answer += chunk
        except TimeoutError as exc:
            raise PrinterOfflineError(f"no ~HS answer from {self.host}:{self.port} within {self.timeout:g}s") from exc
        except OSError as exc:
            raise PrinterOfflineError(f"connection to {self.host}:{self.port} lost: {exc.__class__.__name__}") from exc
        try:
            return parse_host_status(answer)
        except PrinterOfflineError as exc:
            # A printer that hangs up without answering reads as an empty answer: name it like every other fault.
            raise PrinterOfflineError(f"{exc} from {self.host}:{self.port}") from exc

    def status(self) -> Status:
        deadline = time.monotonic() + self.timeout
        try:
            with self._connect() as sock:
                return self._query(sock, deadline)
        except PrinterOfflineError as exc:
            return Status(OFFLINE, str(exc))

    def send(self, name: str, data: bytes) -> None:
        deadline = time.monotonic() + self.timeout
        with self._connect() as sock:
            status = self._query(sock, deadline)
            if not status.can_print:
                raise PrinterHeldError(status.state, status.detail)
            try:
                _time_left(sock, deadline)
                sock.sendall(data)
                sock.shutdown(socket.SHUT_WR)
                _await_close(sock, deadline)
            except OSError as exc:
                reason = f"sending to {self.host}:{self.port} failed: {exc.__class__.__name__}"
                raise PrinterOfflineError(reason) from exc


def _time_left(sock: socket.socket, deadline: float) -> None:
    """Give the next socket call what is left of the exchange's time; TimeoutError when none is."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise TimeoutError()
    sock.settimeout(remaining)


def _await_close(sock: socket.socket, deadline: float) -> None:
    """Wait for the printer to close its side after reading the label.

    sendall returns once the bytes are in the kernel's buffer: a printer that cuts the line halfway
    through the label shows up only here, as a reset, and the job is retried instead of counted as
    printed. A printer that keeps the line open past the deadline reported no loss: the label counts as sent.
    """
    try:
        while True:
            _time_left(sock, deadline)
            if not sock.recv(1024):
                return
    except TimeoutError:
        return
