"""Shift: open-loop handhelds doing the floor's whole mix, at 50, 200, 400 (one scan per 2 s) and 1,000.

Every handheld logs in with its own badge and works its role (bench/mix.py) on a fixed schedule:
its k-th request is due at a random start within the first period plus k periods, whether or not
the server kept up, and its latency runs from that due time (bench/loadgen.py `Pace`). A slow
server therefore shows as latency, as the floor feels it, and not as a politely lower rate.

Before the runs: 100,000 shipped orders of history (SQL) so lookups meet real table sizes, the
shift's waiting orders (SQL), the operators (SQL, one PIN hash), two fake label printers. Without
the stock section it makes the bins, SKUs and opening stock itself. The heaviest schedule is also
run against bench/stub.py (a server in another process answering at once), to tell the
generator's own lag from the stack's. After the runs: every scan
answered 2xx is on the server once, no wrong item was counted, the ledger matches the balances,
every label printed once. Knobs: BENCH_SHIFT_RUNS ("50,200,400@0.5,1000": handhelds@scans per
second each), BENCH_SHIFT_SECONDS (20, × BENCH_SCALE), BENCH_HISTORY_ORDERS (100,000).
"""
from __future__ import annotations

import asyncio
import math
import os
import random
import sys
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import chart, handler_cpu, mix, operators, scan, seed, stock
from bench.context import Bench, seconds
from bench.loadgen import Handheld, Pace, ProtocolError, ShiftOver, Stats, own_cpu, percentile, summarize
from bench.printing import _label_checks
from bench.results import PERCENTILE_COLUMNS, Check, Section, Table, compare_counts, percentiles_row

DEFAULT_RUNS = "50,200,400@0.5,1000"
TARGET = (400, 0.5, 50.0)        # the goal: p99 under 50 ms at 400 handhelds scanning every 2 s
HISTORY_ORDERS = int(os.environ.get("BENCH_HISTORY_ORDERS") or 100_000)
GENERATOR_LAG_LIMIT_MS = 10.0     # above this p99 the generator, not the server, is late
GENERATOR_BUSY_SHARE = 0.8        # of one core: above it, the generator itself is the bottleneck
DELIVERY_TIMEOUT = 300
ROOT = Path(__file__).resolve().parent.parent
CHART = ROOT / "bench" / "latency.png"
PRINTERS = 2


def parse_runs(text: str) -> list[tuple[int, float]]:
    """ "50,400@0.5" → [(50, 1.0), (400, 0.5)]: handhelds, and scans per second each (1 unless given)."""
    runs = []
    for part in (p.strip() for p in text.split(",")):
        if part:
            count, _, rate = part.partition("@")
            runs.append((int(count), float(rate or 1)))
    if not runs or any(n <= 0 or r <= 0 for n, r in runs):
        raise ValueError(f"BENCH_SHIFT_RUNS={text!r}: give handhelds[@scans per second], e.g. {DEFAULT_RUNS}")
    return runs


def orders_needed(runs: list[tuple[int, float]], length: float) -> int:
    """Orders for every run with room to spare: a pick walk is ~8 scans, a packing-table check ~6."""
    per_scan = mix.SHARES["picker"] / 8 + mix.SHARES["verifier"] / 6
    return math.ceil(1.5 * sum(n * rate * length * per_scan + n for n, rate in runs))


@dataclass
class Person:
    number: int
    role: str

    @property
    def badge(self) -> str:
        return f"EDB_SH{self.number:04d}"

    @property
    def device(self) -> str:
        return f"HH-S{self.number:04d}"


@dataclass
class Result:
    """One run, for the summary table and the chart."""

    handhelds: int
    rate: float
    elapsed: float
    overall: dict[str, Any]
    scans: dict[str, Any]
    late: int
    missed: int
    lag_p99_ms: float
    lag_max_ms: float
    cpu_share: float
    mismatched: int   # replays not answered as their first request was
    second_half: dict[str, Any] | None = None   # the requests due in the run's second half: the shift under way

    def chart_row(self) -> dict[str, Any]:
        return {"handhelds": self.handhelds, "rate": self.rate, "p50_ms": self.overall["p50_ms"],
                "p95_ms": self.overall["p95_ms"], "p99_ms": self.overall["p99_ms"]}


async def run(bench: Bench) -> Section:
    section = Section("Shift: open-loop handhelds, the floor's whole mix")
    runs = parse_runs(os.environ.get("BENCH_SHIFT_RUNS") or DEFAULT_RUNS)
    length = seconds("BENCH_SHIFT_SECONDS", 20)
    since = bench.sql("SELECT now()")[0][0]
    people = [Person(n, role) for n, role in enumerate(mix.roles(max(n for n, _ in runs)), start=1)]
    work = await _prepare(bench, section, people, orders_needed(runs, length))
    printers = await _printers(bench, section, work)
    hands: list[Handheld] = []
    try:
        alone = await _generator_alone(bench, *max(runs, key=lambda r: r[0] * r[1]), length)
        results = []
        logins = Table(f"Logins (badge + PIN through the gateway, argon2 in the gateway, "
                       f"{operators.LOGIN_CONCURRENCY} at a time)", PERCENTILE_COLUMNS + ["seconds"])
        for number, (count, rate) in enumerate(runs, start=1):
            await _log_in(bench, people[len(hands):count], hands, logins)
            name = f"shift {number}: {count} @{rate:g}/s"
            results.append(await _one_run(bench, section, name, hands[:count], people, work, rate, length))
        section.tables[:0] = [_summary(results, length), _alone_table(alone), logins]
        _report(section, results, alone, work)
        section.checks += await _checks(bench, section, hands, people, since, work, printers)
        mismatched = sum(r.mismatched for r in results)
        section.checks.append(Check("replayed scans: same answer, marked Idempotent-Replayed", mismatched == 0,
                                    f"{mismatched} replays answered differently"))
    finally:
        for hand in hands:
            await hand.close()
        for printer in printers:
            printer.close()
    return section


async def _prepare(bench: Bench, section: Section, people: list[Person], orders: int) -> mix.Work:
    """The floor, the history, the shift's orders and its people, made before anything is measured."""
    section.notes.append(await stock.ready_floor(bench))
    started = time.perf_counter()
    if HISTORY_ORDERS and not bench.sql("SELECT 1 FROM scan.orders WHERE order_no = :n",
                                        {"n": seed.history_order(1)[0]}):
        for statement, params in seed.statements(seed.HISTORY, prefix=seed.HISTORY_PREFIX, orders=HISTORY_ORDERS,
                                                 waybills=seed.HISTORY_WAYBILLS, days=seed.HISTORY_DAYS,
                                                 ids=seed.HISTORY_IDS):
            bench.sql(statement, params)
        bench.settle("scan.orders", "scan.order_lines", "scan.events")
    sizes = bench.sql("SELECT (SELECT count(*) FROM scan.orders), (SELECT count(*) FROM scan.order_lines), "
                      "(SELECT count(*) FROM scan.events)")[0]
    section.notes.append(f"history: {HISTORY_ORDERS:,} shipped orders over {seed.HISTORY_DAYS} days with "
                         f"{seed.HISTORY_EVENTS_PER_ORDER} journal events each, written in "
                         f"{time.perf_counter() - started:.1f} s (INSERT ... SELECT generate_series, then VACUUM "
                         "ANALYZE and a checkpoint, so the runs do not pay for the writing); the scan "
                         f"tables then held {sizes[0]:,} orders, {sizes[1]:,} lines, {sizes[2]:,} events")
    first = bench.sql("SELECT count(*) FROM scan.orders WHERE order_no LIKE :p", {"p": seed.SHIFT_PREFIX + "%"})[0][0]
    for statement, params in seed.statements(seed.SHIFT_ORDERS, prefix=seed.SHIFT_PREFIX, first=first + 1,
                                             last=first + orders, waybills=seed.SHIFT_WAYBILLS):
        bench.sql(statement, params)
    waiting = [seed.shift_order(i) for i in range(first + 1, first + orders + 1)]
    split = int(len(waiting) * 0.6)
    operators.seed(bench, [(p.badge, f"Shift {p.number:04d}", mix.OPERATOR_ROLES[p.role]) for p in people])
    section.notes.append(f"{orders:,} printed orders waiting for the shift (SQL): {split:,} for the pickers, "
                         f"the rest for the packing table; {len(people):,} operators (SQL, one PIN hash)")
    return mix.Work(to_pick=deque(waiting[:split]), to_verify=deque(wb for _no, wb in waiting[split:]),
                    printers=[], history=HISTORY_ORDERS)


async def _printers(bench: Bench, section: Section, work: mix.Work) -> list:  # type: ignore[type-arg]
    """Fake Zebra printers on TCP for the shift's labels, registered through the API."""
    try:
        from tests.print_service.fake_printer import FakePrinter
    except ImportError:
        section.notes.append("tests/print_service/fake_printer.py is missing: the shift printed no labels")
        return []
    printers = [FakePrinter() for _ in range(PRINTERS)]
    first = bench.sql("SELECT count(*) FROM print.printers WHERE name LIKE 'shift-%'")[0][0]
    names = [f"shift-{first + n}" for n in range(PRINTERS)]
    for name, printer in zip(names, printers, strict=True):
        made = await bench.hands[0].post("printer_create", "/api/print/printers",
                                         {"name": name, "uri": printer.uri, "location": "shift", "retries": 3,
                                          "retry_interval_s": 1})
        if made.status != 201:
            section.checks.append(Check("shift printers registered", False, f"{made.status} {made.body[:200]!r}"))
            for p in printers:
                p.close()
            return []
    work.printers = names
    return printers


async def _log_in(bench: Bench, people: list[Person], hands: list[Handheld], table: Table) -> None:
    """Log in the handhelds this run adds to the last one's, and time it."""
    if not people:
        return
    stats = Stats()
    new, took = await operators.log_in(bench.url(), [(p.badge, p.device) for p in people], stats)
    hands.extend(new)
    table.rows.append(percentiles_row(f"{len(people):,} more, {len(hands):,} in all",
                                      stats.summary("login", took)) + [f"{took:.1f}"])
    print(f"  {len(people)} more shift handhelds logged in, {len(hands)} in all ({took:.1f} s)", flush=True)


async def _one_run(bench: Bench, section: Section, name: str, hands: list[Handheld], people: list[Person],
                   work: mix.Work, rate: float, length: float) -> Result:
    stats = Stats()
    role_of = {p.device: p.role for p in people}
    for hand in hands:
        hand.stats = stats

    async def shift_work(hand: Handheld) -> None:
        await mix.WORK[role_of[hand.device]](hand, work)

    before = handler_cpu.snapshot(bench.stack)
    result = await _drive_paced(bench, name, hands, rate, length, stats, shift_work)
    table = Table(f"{len(hands):,} handhelds, each sending one request every {1 / rate:g} s "
                  f"({len(hands) * rate:,.0f} due per s), {length:.0f} s", PERCENTILE_COLUMNS)
    for role in mix.SHARES:
        # Each request's resends (Handheld._settled) under it, when the gateway left any fate unknown.
        table.rows += [percentiles_row(label, stats.summary(label, result.elapsed))
                       for asked in mix.LABELS[role] for label in (asked, asked + "_resent")
                       if stats.latencies.get(label)]
    table.rows.append(percentiles_row("**all**", result.overall))
    section.tables.append(table)
    # Every run's: what a request costs is read beside what it costs at other loads, in one run.
    section.tables.append(handler_cpu.table(before, handler_cpu.snapshot(bench.stack), (
        f"CPU per request at {len(hands):,} handhelds, by service and endpoint, in the thread that served "
        "it (each service's /metrics before and after the run; the gateway's edge counts every "
        "forward as `/api/<service>/<path:rest>`)")))
    return result


async def _drive_paced(bench: Bench, name: str, hands: list[Handheld], rate: float, length: float, stats: Stats,
                       work: Callable[[Handheld], Awaitable[None]]) -> Result:
    """Every handheld doing `work` open loop, one request per 1/rate s, for `length` s."""
    period = 1 / rate
    paces: list[Pace] = []

    async def scenario(hand: Handheld, deadline: float) -> None:
        # The first request somewhere in the first period: a floor does not scan in step.
        hand.pace = Pace(time.monotonic() + random.uniform(0, period), period, deadline)  # noqa: S311
        paces.append(hand.pace)
        try:
            while True:
                try:
                    await work(hand)
                    return   # its queue of work ran out
                except ProtocolError:
                    continue   # counted as `no answer`; the handheld goes on with its next round
        except ShiftOver:
            return
        finally:
            hand.pace = None

    print(f"  {name} ...", flush=True)
    window = asyncio.create_task(_generator_share(length))
    began = time.monotonic()
    ran = await bench.phase(name, scenario, length, hands)
    cpu_share = window.result() if window.done() else ran.cpu_share   # all work ran out before the end
    window.cancel()
    labels = [label for label in stats.latencies if not label.endswith("_mismatch")]
    lags = sorted(lag for pace in paces for lag in pace.lags)
    return Result(len(hands), rate, ran.elapsed, stats.overall(ran.elapsed, labels),
                  stats.overall(ran.elapsed, mix.SCAN_LABELS), sum(p.late for p in paces),
                  sum(p.missed() for p in paces), percentile(lags, 99) * 1000, (lags[-1] if lags else 0) * 1000,
                  cpu_share, sum(stats.statuses[label].total() for label in stats.statuses
                                 if label.endswith("_mismatch")),
                  # Every handheld opens its first, heaviest round in the first period, all at once.
                  summarize("second half", stats.latencies_since(began + length / 2, labels), Counter(), length / 2))


async def _generator_alone(bench: Bench, count: int, rate: float, length: float) -> Result:
    """The biggest run's schedule against bench/stub.py in its own process: what the generator keeps alone."""
    stub = await asyncio.create_subprocess_exec(sys.executable, "-m", "bench.stub", cwd=ROOT,
                                                stdout=asyncio.subprocess.PIPE)
    stats = Stats()
    hands: list[Handheld] = []
    try:
        port = int((await stub.stdout.readline()).strip())
        hands = [Handheld(f"http://127.0.0.1:{port}", None, f"STUB-{n:04d}", stats) for n in range(count)]

        async def ask(hand: Handheld) -> None:
            while True:
                await hand.get("stub", "/")

        return await _drive_paced(bench, f"generator alone: {count} @{rate:g}/s", hands, rate, length, stats, ask)
    finally:
        for hand in hands:
            await hand.close()
        stub.terminate()
        await stub.wait()


async def _generator_share(length: float) -> float:
    """The generator's CPU (share of one core) while requests were due, not over the tail of late answers."""
    before = own_cpu()
    await asyncio.sleep(length)
    return (own_cpu() - before) / length


def _summary(results: list[Result], length: float) -> Table:
    table = Table(f"Open loop through the gateway, {length:.0f} s per run: latency from each request's due time",
                  ["handhelds", "each sends every", "due per s", "answered per s", "last answer after s", "p50 ms",
                   "p95 ms", "p99 ms", "max ms", "second half p50 / p99 ms", "pick/verify scans p99 ms", "late",
                   "never sent", "non-2xx",
                   "generator lag p99 / max ms", "generator CPU"])
    for r in results:
        total = r.overall["count"]
        table.rows.append([f"{r.handhelds:,}", f"{1 / r.rate:g} s", f"{r.handhelds * r.rate:,.0f}",
                           f"{r.overall['per_second']:.1f}", f"{r.elapsed:.1f}",
                           *(f"{r.overall[k]:.1f}" for k in ("p50_ms", "p95_ms", "p99_ms", "max_ms")),
                           _half(r), f"{r.scans['p99_ms']:.1f}", f"{r.late:,} ({r.late / total if total else 0:.0%})",
                           f"{r.missed:,}", f"{sum(r.overall['errors'].values()):,}",
                           f"{r.lag_p99_ms:.1f} / {r.lag_max_ms:.1f}", f"{r.cpu_share:.2f}"])
    return table


def _half(result: Result) -> str:
    half = result.second_half
    return f"{half['p50_ms']:.1f} / {half['p99_ms']:.1f}" if half and half["count"] else "-"


def _alone_table(alone: Result) -> Table:
    table = Table("The generator alone: the heaviest schedule against bench/stub.py, a server in another process "
                  "that answers at once", ["handhelds", "due per s", "answered per s", "p50 ms", "p99 ms", "max ms",
                                           "late", "never sent", "generator lag p99 / max ms", "generator CPU"])
    table.rows.append([f"{alone.handhelds:,}", f"{alone.handhelds * alone.rate:,.0f}",
                       f"{alone.overall['per_second']:.1f}",
                       *(f"{alone.overall[k]:.1f}" for k in ("p50_ms", "p99_ms", "max_ms")), f"{alone.late:,}",
                       f"{alone.missed:,}", f"{alone.lag_p99_ms:.1f} / {alone.lag_max_ms:.1f}",
                       f"{alone.cpu_share:.2f}"])
    return table


def _report(section: Section, results: list[Result], alone: Result, work: mix.Work) -> None:
    count, rate, goal = TARGET
    for r in results:
        if (r.handhelds, r.rate) == (count, rate):
            verdict = "met" if r.overall["p99_ms"] < goal else "not met"
            section.notes.insert(0, f"target p99 < {goal:g} ms through the gateway at {count} handhelds sending every "
                                    f"{1 / rate:g} s: p99 {r.overall['p99_ms']:.1f} ms (pick/verify scans "
                                    f"{r.scans['p99_ms']:.1f} ms), **{verdict}**")
    section.notes.append(_generator_verdict(alone))
    behind = [r for r in results if r.lag_p99_ms > GENERATOR_LAG_LIMIT_MS]
    if behind:
        section.notes.append(
            "in the runs, the generator woke idle handhelds late at "
            + ", ".join(f"{r.handhelds:,} handhelds (lag p99 {r.lag_p99_ms:.1f} ms, {r.cpu_share:.2f} core)"
                        for r in behind)
            + f"; load average {os.getloadavg()[0]:.1f} at the end: their latencies include that delay")
    section.notes.append("late: requests due while the handheld still waited for its previous answer (sent at once "
                         "then, their latency counting from the due time); never sent: due before the end of the run "
                         "but still queued behind a late answer when it ended; answered per s: every answer over the "
                         "whole run, which lasts until the last late answer came; generator CPU: while requests "
                         "were due")
    section.notes.append("every handheld opens its first round (pick start, verification, receipt, count) within "
                         "its first period, the heaviest requests of the mix all at once: a short run (BENCH_SCALE "
                         "below 1) is mostly that start of the shift")
    section.notes.append("mix (bench/mix.py): " + ", ".join(f"{share:.0%} {role}" for role, share in mix.SHARES.items())
                         + f"; one wrong item in {1 / mix.WRONG_ITEM_SHARE:.0f} verification scans; "
                         f"{scan.REPLAY_SHARE:.0%} of pick and verification scans replayed with their key")
    if work.ran_out:
        section.notes.append("stopped early: " + ", ".join(f"{k} ×{v}" for k, v in sorted(work.ran_out.items())))
    if results:
        chart.draw([r.chart_row() for r in results], CHART, TARGET[2])
        section.images.append(("latency by handheld count", CHART.name))


WRONG_ITEM_EVENTS = ("SELECT device, count(*) FROM scan.events WHERE kind = 'verify_scan' AND result = 'wrong_item' "
                     "AND at >= :since GROUP BY device")
LINES_PAST_EXPECTED = ("SELECT count(*) FROM scan.verification_lines l JOIN scan.verifications v "
                       "ON v.id = l.verification_id WHERE v.created_at >= :since AND l.scanned > l.expected")
MOVEMENTS_BY_DEVICE = ("SELECT device, count(*) FROM stock.movements WHERE type = :kind AND at >= :since "
                       "AND device LIKE 'HH-S%' GROUP BY device")
UNITS_COUNTED = ("SELECT c.created_by, sum(l.counted) FROM stock.count_lines l JOIN stock.counts c "
                 "ON c.id = l.count_id WHERE c.created_at >= :since GROUP BY c.created_by")
JOBS_BY_DEVICE = ("SELECT device, count(*) FROM print.jobs WHERE created_at >= :since AND printer LIKE 'shift-%' "
                  "GROUP BY device")


def _generator_verdict(alone: Result) -> str:
    """Can one asyncio process keep the heaviest schedule? Said from the run against the stub."""
    schedule = f"{alone.handhelds:,} handhelds at {alone.handhelds * alone.rate:,.0f} requests/s"
    measured = f"wake-up lag p99 {alone.lag_p99_ms:.1f} ms, max {alone.lag_max_ms:.1f} ms, {alone.cpu_share:.2f} core"
    if alone.lag_p99_ms <= GENERATOR_LAG_LIMIT_MS:
        return f"the generator (one asyncio process) keeps the schedule of {schedule} on its own ({measured})"
    if alone.cpu_share >= GENERATOR_BUSY_SHARE:
        return (f"one asyncio process cannot keep the schedule of {schedule} ({measured}): the largest runs' "
                "latencies include the generator's own delay; they need a second generator process")
    return (f"the generator was late even against the stub ({schedule}: {measured}) while far from using a core: "
            "it waited for a CPU the rest of the machine held, so every latency here carries some of that wait")


async def _checks(bench: Bench, section: Section, hands: list[Handheld], people: list[Person], since: Any,
                  work: mix.Work, printers: list) -> list[Check]:  # type: ignore[type-arg]
    """Every request answered 2xx is on the server once; no wrong item counted; ledger; labels."""
    checks = await scan.flow_checks(bench, hands, since)
    at = {"since": since}
    refused = scan.per_device(hands, "verify_wrong_refused")
    checks.append(compare_counts("wrong items: every one answered wrong_item",
                                 scan.per_device(hands, "verify_wrong_sent"), refused))
    checks.append(compare_counts("wrong items: journal wrong_item events = refusals", refused,
                                 _by(bench, WRONG_ITEM_EVENTS, at)))
    over = bench.sql(LINES_PAST_EXPECTED, at)[0][0]
    checks.append(Check("no verification line counted past what the parcel holds", over == 0,
                        f"{over} lines scanned past expected"))
    for kind in ("receive", "putaway"):
        written = _by(bench, MOVEMENTS_BY_DEVICE, at | {"kind": kind})
        checks.append(compare_counts(f"{kind}: movements written = requests answered 2xx",
                                     scan.per_device(hands, kind), written))
    badge_of = {p.device: p.badge for p in people}
    checks.append(compare_counts("count entries: units counted on the server = units entered (answered 201)",
                                 {badge_of[h.device]: h.sent["count_units"] for h in hands if h.sent["count_units"]},
                                 _by(bench, UNITS_COUNTED, at)))
    if printers:
        checks += await _label_delivery(bench, section, hands, work, printers, since)
    checks.append(stock.ledger_check(bench))
    return checks


async def _label_delivery(bench: Bench, section: Section, hands: list[Handheld], work: mix.Work,
                          printers: list, since: Any) -> list[Check]:  # type: ignore[type-arg]
    """Print jobs answered 202 are jobs on the server, and each reached its printer once, in order."""
    sent = scan.per_device(hands, "print_job")
    accepted = sum(sent.values())
    checks = [compare_counts("print jobs stored = jobs answered 202", sent, _by(bench, JOBS_BY_DEVICE,
                                                                               {"since": since}))]
    started = time.perf_counter()
    while time.perf_counter() - started < DELIVERY_TIMEOUT and sum(len(p.labels()) for p in printers) < accepted:
        await asyncio.sleep(0.5)
    section.notes.append(f"{accepted} labels asked for during the shift; all had reached their printers "
                         f"{time.perf_counter() - started:.1f} s after the last run")
    return checks + _label_checks(bench, work.printers, printers, accepted)


def _by(bench: Bench, statement: str, params: dict) -> dict[str, int]:
    return {str(key): int(n) for key, n in bench.sql(statement, params)}
