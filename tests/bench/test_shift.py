"""The shift section's parts: the open-loop schedule, the mix, the chart, and the seeded rows the services read."""
from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import requests

from bench import chart, mix, operators, seed
from bench.context import Bench
from bench.loadgen import Handheld, Pace, ShiftOver, Stats
from bench.shift import DEFAULT_RUNS, orders_needed, parse_runs


def test_runs_parse_the_issue_defaults_and_refuse_nonsense():
    assert parse_runs(DEFAULT_RUNS) == [(50, 1.0), (200, 1.0), (400, 0.5), (1000, 1.0)]
    assert parse_runs(" 10 , 20@2 ") == [(10, 1.0), (20, 2.0)]
    for bad in ("", "0", "10@0", "10@-1", "many"):
        with pytest.raises(ValueError):
            parse_runs(bad)


def test_more_handhelds_or_longer_runs_need_more_orders():
    base = orders_needed([(50, 1.0)], 20)
    assert base > 50 * 20 * (mix.SHARES["picker"] / 8)
    assert orders_needed([(50, 1.0)], 40) > base
    assert orders_needed([(50, 1.0), (200, 1.0)], 20) > base


def test_roles_follow_the_shares_and_mix_from_the_first_handhelds():
    assert Counter(mix.roles(20)) == {"picker": 9, "verifier": 6, "putaway": 2, "counter": 1, "lookup": 2}
    assert Counter(mix.roles(1000)) == {"picker": 450, "verifier": 300, "putaway": 100, "counter": 50, "lookup": 100}
    assert set(mix.roles(10)) == {"picker", "verifier", "putaway", "lookup"}
    assert mix.roles(200)[:50] == mix.roles(50)   # a bigger run keeps the smaller run's people in their roles
    assert set(mix.OPERATOR_ROLES) == set(mix.SHARES) == set(mix.WORK) == set(mix.LABELS)


def test_pace_keeps_the_schedule_and_counts_what_came_late():
    period = 0.4  # long enough that a busy machine's stall does not move a request across a due time

    async def scenario() -> tuple[list[float], Pace]:
        start = time.monotonic()
        pace = Pace(start + period / 2, period, start + 5 * period)
        dues = [await pace.turn(), await pace.turn()]
        await asyncio.sleep(2.5 * period)       # an answer that took 2.5 periods: now about +4 periods
        dues.append(await pace.turn())          # due at +2.5 periods: sent at once, late
        dues.append(await pace.turn())          # due at +3.5 periods: late too
        with pytest.raises(ShiftOver):
            while True:
                dues.append(await pace.turn())  # +4.5 periods is waited for; +5.5 is past the end
        return dues, pace

    dues, pace = asyncio.run(scenario())
    assert [round(b - a, 6) for a, b in zip(dues, dues[1:], strict=False)] == [period] * (len(dues) - 1)
    assert len(dues) == 5 and pace.sent == 5
    assert pace.late == 2
    assert len(pace.lags) == 3 and all(lag >= 0 for lag in pace.lags)
    assert pace.over and pace.missed() == 0


def test_pace_counts_requests_never_sent_when_the_run_ends_behind():
    async def scenario() -> Pace:
        start = time.monotonic()
        pace = Pace(start, 0.05, start + 0.3)
        await pace.turn()
        await asyncio.sleep(0.35)               # the answer came after the end of the run
        with pytest.raises(ShiftOver):
            await pace.turn()
        return pace

    pace = asyncio.run(scenario())
    assert pace.sent == 1 and pace.missed() == 5   # due at +0.05 ... +0.25, never sent; +0.3 is the end


def test_summary_has_the_tail_and_overall_merges_labels():
    stats = Stats()
    for ms in range(1, 101):
        stats.add("pick_scan", ms / 1000, 200)
    stats.add("verify_scan", 0.5, 503)
    one = stats.summary("pick_scan", 10)
    assert (one["p50_ms"], one["p95_ms"], one["p99_ms"], one["max_ms"]) == pytest.approx((50, 95, 99, 100))
    both = stats.overall(10)
    assert both["count"] == 101 and both["ok"] == 100 and both["errors"] == {503: 1}
    assert both["max_ms"] == pytest.approx(500)
    assert stats.overall(10, ["verify_scan"])["count"] == 1


def test_chart_data_orders_runs_and_keeps_zero_on_a_log_axis(tmp_path):
    rows = [{"handhelds": 400, "rate": 0.5, "p50_ms": 12.0, "p95_ms": 30.0, "p99_ms": 45.0},
            {"handhelds": 50, "rate": 1.0, "p50_ms": 0.0, "p95_ms": 8.0, "p99_ms": 9.5}]
    data = chart.chart_data(rows)
    assert data["x"] == [50, 400]
    assert data["ticks"] == ["50\n50/s", "400\n200/s"]
    assert data["series"] == {"p50": [chart.FLOOR_MS, 12.0], "p95": [8.0, 30.0], "p99": [9.5, 45.0]}
    written = chart.draw(rows, tmp_path / "latency.png", target_ms=50)
    assert written.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _bench(floor, engine) -> Bench:
    return Bench(SimpleNamespace(engine=engine, url=lambda name="gateway": floor.base, pids=dict), [], Stats())


def test_seeded_history_and_shift_orders_are_read_by_the_services(floor, engine):
    """The SQL-made orders look like the import's to scan_service; the history never lands on today."""
    bench = _bench(floor, engine)
    for statement, params in seed.statements(seed.HISTORY, prefix=seed.HISTORY_PREFIX, orders=30,
                                             waybills=seed.HISTORY_WAYBILLS, days=seed.HISTORY_DAYS,
                                             ids=seed.HISTORY_IDS):
        bench.sql(statement, params)
    for statement, params in seed.statements(seed.SHIFT_ORDERS, prefix=seed.SHIFT_PREFIX, first=1, last=5,
                                             waybills=seed.SHIFT_WAYBILLS):
        bench.sql(statement, params)
    assert bench.sql("SELECT count(*) FROM scan.events WHERE order_no IS NULL OR order_no LIKE 'TB2025HIST%'")[0][0] \
        == 30 * seed.HISTORY_EVENTS_PER_ORDER
    today = datetime.now(ZoneInfo("Asia/Shanghai")).replace(hour=0, minute=0, second=0, microsecond=0)
    latest = bench.sql("SELECT max(at) FROM scan.events WHERE order_no IS NULL OR order_no LIKE 'TB2025HIST%'")[0][0]
    assert latest < today and latest > today - timedelta(days=seed.HISTORY_DAYS + 2)

    supervisor = floor.login("supervisor")
    order_no, waybill = seed.history_order(7)
    found = supervisor.get(floor.url(f"/api/scan/orders?waybill={waybill}"), timeout=10).json()["items"]
    assert [(o["order_no"], o["state"]) for o in found] == [(order_no, "shipped")]
    page = supervisor.get(floor.url(f"/api/scan/orders/{order_no}"), timeout=10).json()
    assert [e["kind"] for e in page["events"]] == ["imported", "pick_started", "picked", "verification_opened",
                                                  "verified", "shipped"]
    assert len(page["lines"]) == 3
    waiting = supervisor.get(floor.url("/api/scan/orders?state=printed"), timeout=10).json()["items"]
    assert [(o["order_no"], o["waybill_no"]) for o in waiting] == [seed.shift_order(i) for i in range(1, 6)]
    stats = supervisor.get(floor.url(f"/api/scan/stats/operators?date={today.date().isoformat()}"), timeout=10)
    assert stats.status_code == 200 and stats.json()["items"] == []


def test_seeded_operators_log_in_concurrently_with_their_roles(floor, engine):
    """One PIN hash for all, made by the gateway's own code: each logs in and gets its roles."""
    people = [("EDB_SH0001", "Shift 1", ["picker"]), ("EDB_SH0002", "Shift 2", ["labeler", "supervisor"]),
              ("EDB_SH0003", "Shift 3", ["counter"])]
    operators.seed(_bench(floor, engine), people)

    async def run() -> tuple[list[Handheld], float, list[dict]]:
        hands, took = await operators.log_in(floor.base, [(b, f"HH-S{n:04d}") for n, (b, _, _) in
                                                          enumerate(people, start=1)], Stats(), concurrency=2)
        try:
            mes = [(await hand.get("me", "/api/auth/me")).json() for hand in hands]
        finally:
            for hand in hands:
                await hand.close()
        return hands, took, mes

    hands, took, mes = asyncio.run(run())
    assert [(me["badge"], sorted(me["roles"])) for me in mes] == [(b, sorted(r)) for b, _, r in people]
    assert [hand.device for hand in hands] == ["HH-S0001", "HH-S0002", "HH-S0003"]
    assert took > 0
    wrong = requests.post(floor.url("/api/auth/login"), json={"badge": "EDB_SH0001", "pin": "000000",
                                                              "device": "HH-X"}, timeout=10)
    assert wrong.status_code == 401
