"""CPU per request by endpoint: read off real /metrics pages, as the services serve them."""
from __future__ import annotations

from http.server import BaseHTTPRequestHandler

from bench import handler_cpu
from common.testing import http_peer

PAGE = """# TYPE wms_http_requests_total counter
wms_http_requests_total{service="scan",method="POST",endpoint="/api/scan/picks/<int:pick_id>/scan",status="200"} %d
wms_http_requests_total{service="scan",method="POST",endpoint="/api/scan/picks/<int:pick_id>/scan",status="409"} 1
wms_http_requests_total{service="scan",method="GET",endpoint="/api/scan/orders",status="200"} 3
# TYPE wms_http_request_cpu_seconds_total counter
wms_http_request_cpu_seconds_total{service="scan",endpoint="/api/scan/picks/<int:pick_id>/scan"} %f
wms_http_request_cpu_seconds_total{service="scan",endpoint="/api/scan/orders"} 0.5
"""


class Stack:
    """What handler_cpu reads of the bench's stack: one URL per service."""

    def __init__(self) -> None:
        self.scans, self.cpu = 0, 0.0
        stack = self

        class Metrics(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                body = (PAGE % (stack.scans, stack.cpu)).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server, self.base = http_peer(Metrics)

    def url(self, _part: str) -> str:
        return self.base


def test_cpu_per_request_is_the_difference_over_the_requests_between_snapshots():
    stack = Stack()
    try:
        stack.scans, stack.cpu = 99, 1.0
        before = handler_cpu.snapshot(stack)
        stack.scans, stack.cpu = 499, 1.6
        after = handler_cpu.snapshot(stack)
    finally:
        stack.server.shutdown()
    table = handler_cpu.table(before, after, "t")
    # Every part read the same page here; each reports 400 scans costing 0.6 s, 1.5 ms each.
    rows = [row for row in table.rows if row[0] == "scan"]
    assert rows == [["scan", "`/api/scan/picks/<int:pick_id>/scan`", 400, "1.50", "100%"]]
    assert {row[0] for row in table.rows} == set(handler_cpu.PARTS)
    # The order list did not move: too few requests between the snapshots to be listed.
    assert all("orders" not in row[1] for row in table.rows)
