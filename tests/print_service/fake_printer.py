"""A Zebra printer on a TCP port, enough of it for the tests: ~HS answers and a byte recorder.

It answers `~HS` with the three STX/ETX lines (paper out, pause, head open, ribbon out flags set by
the test), records every other byte per connection, and can be slow (delay before answering) or
drop connections without answering.
"""
from __future__ import annotations

import socket
import threading
import time

STX, ETX = b"\x02", b"\x03"


class FakePrinter:
    def __init__(self) -> None:
        self.paper_out = False
        self.paused = False
        self.head_open = False
        self.ribbon_out = False
        self.answer_delay = 0.0
        self.drop = False
        self.lock = threading.Lock()
        self.jobs: list[bytes] = []        # label bytes of each connection, in arrival order
        self.raw: list[bytes] = []         # every byte of each connection, ~HS included
        self.status_queries = 0
        self.active = 0
        self.max_active = 0
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._server.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def uri(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    def host_status(self) -> bytes:
        flag = lambda on: "1" if on else "0"  # noqa: E731
        line1 = f"030,{flag(self.paper_out)},{flag(self.paused)},1245,000,0,0,0,000,0,0,0"
        line2 = f"001,0,{flag(self.head_open)},{flag(self.ribbon_out)},0,2,4,0,00000000,1,000"
        line3 = "1234,0"
        return b"".join(STX + line.encode() + ETX + b"\r\n" for line in (line1, line2, line3))

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with self.lock:
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        received = b""
        answered = 0
        try:
            conn.settimeout(10)
            if self.drop:
                return
            while not self._stop.is_set():
                try:
                    chunk = conn.recv(65536)
                except (TimeoutError, ConnectionError):
                    break
                if not chunk:
                    break
                received += chunk
                while received.count(b"~HS") > answered:
                    answered += 1
                    with self.lock:
                        self.status_queries += 1
                    started = time.monotonic()
                    # Re-read the delay while waiting, so a test can release a stalled answer.
                    while time.monotonic() - started < self.answer_delay and not self._stop.is_set():
                        time.sleep(0.05)
                    try:
                        conn.sendall(self.host_status())
                    except OSError:
                        break
        finally:
            # Counted before the close: the worker sees the close as "printed" and lets the next
            # label go at once, so a count after it could overlap the next connection's.
            with self.lock:
                self.active -= 1
                self.raw.append(received)
                # The label is what came after the status query on that connection.
                label = received.replace(b"~HS", b"", 1) if received.startswith(b"~HS") else received
                if label:
                    self.jobs.append(label)
            conn.close()

    def labels(self) -> list[bytes]:
        with self.lock:
            return list(self.jobs)

    def close(self) -> None:
        self._stop.set()
        self._server.close()
