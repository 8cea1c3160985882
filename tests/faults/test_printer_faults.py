"""A printer that drops the connection in the middle of a label: the label is retried, never lost.

A printer answering paper out is held and printed after resume: see
tests/print_service/test_printing_live.py::test_post_jobs_paper_out_holds_then_resume_prints_in_order.
"""
from __future__ import annotations

import socket
import struct
import uuid

import pytest

from common.testing import wait_for
from tests.print_service.fake_printer import FakePrinter

# One xdist worker runs the whole faults suite: a second copy of its stack would only cost time.
pytestmark = [pytest.mark.live, pytest.mark.xdist_group("faults")]


class DroppingPrinter(FakePrinter):
    """Answers ~HS, takes the first bytes of the label, then cuts the line (a reset, as on a reboot)."""

    def __init__(self, drops: int) -> None:
        self.drops_left = drops
        self.cut: list[bytes] = []
        super().__init__()

    def _handle(self, conn: socket.socket) -> None:
        with self.lock:
            drop = self.drops_left > 0
            self.drops_left -= drop
        if not drop:
            super()._handle(conn)
            return
        try:
            conn.settimeout(10)
            received = b""
            while b"~HS" not in received:
                received += conn.recv(64)
            conn.sendall(self.host_status())
            partial = conn.recv(16)
            with self.lock:
                self.cut.append(partial)
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        finally:
            conn.close()


def test_faults_printer_drops_mid_label_retried_printed_once(floor, workers):
    """The first connection is cut after a few label bytes: the job retries and the label prints whole, once."""
    boss, labeler = floor.login("supervisor"), floor.login("labeler")
    printer = DroppingPrinter(drops=1)
    try:
        made = boss.post(floor.url("/api/print/printers"),
                         json={"name": "zebra-cut", "uri": printer.uri, "retries": 3, "retry_interval_s": 1},
                         timeout=10)
        assert made.status_code == 201, made.text
        workers.start(1)
        job = labeler.post(floor.url("/api/print/jobs"), headers={"Idempotency-Key": str(uuid.uuid4())},
                           json={"printer": "zebra-cut", "template": "location", "data": {"code": "A-10-01"}},
                           timeout=10).json()

        def final() -> dict | None:
            answer = labeler.get(floor.url(f"/api/print/jobs/{job['id']}"), timeout=10).json()
            return answer if answer["state"] in ("sent", "failed", "held") else None

        done = wait_for(final, 30)
        zpl = labeler.get(floor.url(f"/api/print/jobs/{job['id']}/zpl"), timeout=10).content
        assert len(printer.cut) == 1 and zpl.startswith(printer.cut[0])
        assert done["state"] == "sent", done
        assert printer.labels() == [zpl], "the label was lost or doubled"
        events = [e["event"] for e in done["history"]]
        assert events == ["requested", "attempt", "retrying", "attempt", "sent"], events
        assert done["attempts"] == 2
    finally:
        printer.close()
