"""The load generator against the live gateway: it measures, and its correctness checks can fail."""
from __future__ import annotations

import asyncio
import itertools
from http.server import BaseHTTPRequestHandler
from types import SimpleNamespace
from typing import ClassVar

from sqlalchemy import text

from bench.context import Bench
from bench.loadgen import Handheld, Stats, drive, repeat
from bench.results import compare_counts
from bench.stock import ledger_check
from common.testing import http_peer

_codes = itertools.count(1)


def _handhelds(floor, stats: Stats, count: int = 3) -> list[Handheld]:
    hands = []
    for n in range(count):
        session = floor.login("stock_manager", badge=f"EDB_BS{n + 1:03d}", device=f"HH-{n + 1:03d}")
        token = session.headers["Authorization"].split(" ", 1)[1]
        hands.append(Handheld(floor.base, token, f"HH-{n + 1:03d}", stats))
    return hands


def _new_bin(_hand: Handheld) -> dict:
    return {"code": f"T-{next(_codes):02d}-01-01", "kind": "bin", "zone": "T"}


async def _drive(hands: list[Handheld], scenario, seconds: float):  # type: ignore[no-untyped-def]
    try:
        return await drive(hands, scenario, seconds)
    finally:
        for hand in hands:
            await hand.close()


def test_loadgen_measures_requests(floor):
    """About a second of GETs through the gateway: requests counted, all 2xx, latencies and CPU measured."""
    stats = Stats()
    hands = _handhelds(floor, stats)
    run = asyncio.run(_drive(hands, repeat("balances", "GET", "/api/stock/balances?limit=5"), 1.0))
    summary = stats.summary("balances", run.elapsed)
    assert summary["count"] > 10, summary
    assert summary["ok"] == summary["count"], summary
    assert 0 < summary["p50_ms"] <= summary["p99_ms"], summary
    assert run.elapsed >= 1.0 and run.cpu_seconds > 0


def test_loadgen_counts_check_fails_on_wrong_count(floor, engine):
    """Locations made under load match the server's rows; one unit off, the same check fails."""
    stats = Stats()
    hands = _handhelds(floor, stats)
    asyncio.run(_drive(hands, repeat("location", "POST", "/api/stock/locations", _new_bin), 1.0))
    sent = {"locations": sum(h.sent["location"] for h in hands)}
    with engine.connect() as conn:
        stored = {"locations": conn.execute(text("SELECT count(*) FROM stock.locations WHERE zone = 'T'")).scalar()}
    assert sent["locations"] > 0
    assert compare_counts("locations", sent, stored).ok
    wrong = compare_counts("locations", {"locations": sent["locations"] + 1}, stored)
    assert not wrong.ok and "differ" in wrong.detail


def test_ledger_check_fails_on_balance_without_movement(floor, engine):
    """A balance raised without its movement is caught by the end-of-run ledger check."""
    bench = Bench(SimpleNamespace(engine=engine, url=lambda name="gateway": floor.base, pids=dict), [], Stats())
    bench.sql("INSERT INTO stock.skus (sku, name, spec, active) VALUES ('BS-LEDGER', 'T', '', true)")
    bench.sql("INSERT INTO stock.locations (code, kind, zone, sequence) VALUES ('T-01-01-01', 'bin', 'T', 1)")
    bench.sql("INSERT INTO stock.movements (type, sku, qty, to_location, operator) "
              "VALUES ('receive', 'BS-LEDGER', 5, 'T-01-01-01', 'EDB_BS001')")
    bench.sql("INSERT INTO stock.balances (sku, location, lot, qty) VALUES ('BS-LEDGER', 'T-01-01-01', '', 5)")
    assert ledger_check(bench).ok
    bench.sql("UPDATE stock.balances SET qty = 6 WHERE sku = 'BS-LEDGER'")
    caught = ledger_check(bench)
    assert not caught.ok and "1 balance rows differ" in caught.detail


def test_latencies_since_keeps_the_requests_due_from_then_on():
    """The shift's second half: a request counts by when it was due, not when its answer came."""
    import time

    stats = Stats()
    stats.add("pick_scan", 0.600, 200)      # due 0.6 s ago: the start-of-shift queue
    middle = time.monotonic() - 0.1
    stats.add("pick_scan", 0.005, 200)      # due just now
    stats.add("verify_scan", 0.008, 200)
    stats.add("verify_scan", 0.900, 200)    # answered now, but due before `middle`
    assert sorted(stats.latencies_since(middle, ["pick_scan", "verify_scan"])) == [0.005, 0.008]
    assert stats.latencies_since(middle, ["receive"]) == []


class _BusyGateway(BaseHTTPRequestHandler):
    """Does each keyed POST once; the first try of a key is answered 503, as a gateway that stopped waiting."""

    protocol_version = "HTTP/1.1"
    done: ClassVar[dict[str, int]] = {}

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers["Content-Length"]))
        key = self.headers["Idempotency-Key"]
        seen = key in self.done
        self.done[key] = self.done.get(key, 0) + 1
        if not seen:
            self._answer(503, b'{"error":{"code":"service_unavailable","message":"","details":{}}}')
        else:
            self._answer(200, b'{"ok":true}', {"Idempotent-Replayed": "true"})

    def _answer(self, status: int, body: bytes, headers: dict | None = None) -> None:
        self.send_response(status)
        for name, value in {"Content-Type": "application/json", "Content-Length": str(len(body)),
                            **(headers or {})}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args) -> None:
        pass


def test_a_post_whose_fate_is_unknown_is_sent_again_with_its_key_and_counted_once():
    """As the handheld's outbox: a 503 may hide work done, so the same key goes again; its replay is the answer."""
    server, url = http_peer(_BusyGateway)
    stats = Stats()
    hand = Handheld(url, None, "HH-001", stats)

    async def one() -> int:
        try:
            return (await hand.post("scan", "/api/scan/picks/1/scan", {"code": "X"})).status
        finally:
            await hand.close()

    try:
        assert asyncio.run(one()) == 200
    finally:
        server.shutdown()
    assert list(_BusyGateway.done.values()) == [2]           # one key, sent twice
    assert hand.sent["scan"] == 1 and hand.sent["scan_resent"] == 0
    assert dict(stats.statuses["scan"]) == {503: 1} and dict(stats.statuses["scan_resent"]) == {200: 1}
