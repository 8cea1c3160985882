"""The raw TCP driver against real sockets: one deadline for the whole exchange with a printer."""
from __future__ import annotations

import socket
import threading
import time

import pytest

from print_service.drivers import PrinterOfflineError
from print_service.drivers.tcp import TcpDriver

# A ready printer's ~HS answer: three STX ... ETX CR LF lines, no flag set.
READY = b"".join(b"\x02" + line + b"\x03\r\n" for line in (
    b"030,0,0,1245,000,0,0,0,000,0,0,0", b"001,0,0,0,0,2,4,0,00000000,1,000", b"1234,0"))


class Dawdler:
    """A printer that answers ~HS after `answer_after` s and, having read the label, keeps the line open."""

    def __init__(self, answer_after: float, linger: float = 5.0):
        self.answer_after, self.linger = answer_after, linger
        self.received = b""
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        conn, _ = self._server.accept()
        with conn:
            while b"~HS" not in self.received:
                self.received += conn.recv(64)
            time.sleep(self.answer_after)
            conn.sendall(READY)
            while chunk := conn.recv(1024):
                self.received += chunk
                if b"^XZ" in self.received:
                    break
            time.sleep(self.linger)

    def close(self) -> None:
        self._server.close()


def test_slow_answer_and_lingering_line_share_one_timeout():
    """~HS answered late and a line kept open after the label: the send still ends within the socket timeout."""
    printer = Dawdler(answer_after=0.6)
    try:
        started = time.monotonic()
        TcpDriver("127.0.0.1", printer.port, 1.0).send("job", b"^XA^FDx^FS^XZ")
        took = time.monotonic() - started
    finally:
        printer.close()
    assert printer.received.endswith(b"^XA^FDx^FS^XZ")
    # Each step with a fresh timeout took 0.6 s + a full 1 s waiting for the close.
    assert took < 1.4, took


def test_no_status_answer_within_the_timeout_is_offline():
    printer = Dawdler(answer_after=3)
    try:
        started = time.monotonic()
        with pytest.raises(PrinterOfflineError, match="no ~HS answer"):
            TcpDriver("127.0.0.1", printer.port, 0.5).send("job", b"^XA^XZ")
        assert time.monotonic() - started < 1.5
    finally:
        printer.close()


def test_a_printer_that_hangs_up_unanswered_is_offline_and_named():
    """Reads the ~HS, then closes without a word: the reason names the printer, so the supervisor knows which one."""
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def hang_up() -> None:
        conn, _ = server.accept()
        with conn:
            conn.recv(64)

    threading.Thread(target=hang_up, daemon=True).start()
    try:
        named = rf"incomplete ~HS answer \(0 of 3 lines\) from 127\.0\.0\.1:{port}"
        with pytest.raises(PrinterOfflineError, match=named):
            TcpDriver("127.0.0.1", port, 2.0).send("job", b"^XA^XZ")
    finally:
        server.close()
