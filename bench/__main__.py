"""`make bench`: start the system in var/bench, measure every section, check correctness, write RESULTS.md.

Sections, always in this order (BENCH_SECTIONS=ceiling,stock,scan,print,shift picks some): the
ceiling, stock, scan (needs stock's SKUs and stock), print, shift (open-loop handhelds doing the
floor's mix; makes what it needs when run alone), then the ceiling again when it ran with others.
Knobs: BENCH_HANDHELDS (50), BENCH_PHASE_SECONDS (10, the ceiling's phases), BENCH_SCALE
(multiplies every phase: 0.2 for a quick look), BENCH_LEDGER_ROWS (1,000,000), BENCH_ORDERS
(10,000), BENCH_SHIFT_RUNS ("50,200,400@0.5,1000"), BENCH_SHIFT_SECONDS (20), BENCH_HISTORY_ORDERS
(100,000), BENCH_VAR_DIR (var/bench), WEB_CONCURRENCY / WEB_THREADS (2 / 4, the production
defaults). Exit status 1 when any correctness check failed or a section broke.
"""
from __future__ import annotations

import asyncio
import os
import sys
import time
import traceback
from pathlib import Path

from bench import ceiling, operators, printing, report, scan, shift, stock
from bench.context import Bench, seconds
from bench.loadgen import Stats
from bench.results import Check, Section, Table
from bench.stack import BenchStack, procfile_command

KNOBS = ("BENCH_SECTIONS", "BENCH_HANDHELDS", "BENCH_PHASE_SECONDS", "BENCH_SCALE", "BENCH_LEDGER_ROWS",
         "BENCH_ORDERS", "BENCH_SHIFT_RUNS", "BENCH_SHIFT_SECONDS", "BENCH_HISTORY_ORDERS")
SECTIONS = {"ceiling": ceiling.run, "stock": stock.run, "scan": scan.run, "print": printing.run, "shift": shift.run}
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


async def measure(stack: BenchStack, wanted: list[str], box: list[Bench]) -> list[Section]:
    """Log the handhelds in, run the sections; `box` receives the Bench for the report's settings."""
    stats = Stats()
    started = time.perf_counter()
    hands = await operators.floor(stack.url(), int(os.environ.get("BENCH_HANDHELDS") or 50), stats)
    print(f"{len(hands)} handhelds logged in ({time.perf_counter() - started:.1f} s)", flush=True)
    bench = Bench(stack, hands, stats, phase_seconds=seconds("BENCH_PHASE_SECONDS", 10))
    box.append(bench)
    sections = []
    for name in wanted:
        print(f"section {name} ...", flush=True)
        try:
            section = await SECTIONS[name](bench)
        except Exception as exc:  # noqa: BLE001 - the report says which section broke and why; the run fails
            traceback.print_exc()
            section = Section(name.title(), skipped=f"broke: {type(exc).__name__}: {exc}")
            section.checks.append(Check(f"{name} section ran", False, section.skipped))
        sections.append(section)
        print(f"section {name}: {'FAILED' if section.failed else 'ok'}", flush=True)
    if "ceiling" in wanted and len(wanted) > 1:
        sections.append(await ceiling.again(bench))
    sections.append(cpu_section(bench))
    if "stock" in wanted:
        sections.append(Section("End of run", checks=[stock.ledger_check(bench)]))
    for hand in hands:
        await hand.close()
    return sections


def cpu_section(bench: Bench) -> Section:
    """Cores each part used in each driven phase (from /proc; 2.0 is the whole machine)."""
    parts = ["gateway", "stock", "scan", "print", "worker", "postgres", "redis", "generator"]
    table = Table("Cores used per phase (gunicorn master + workers per service; generator = this process)",
                  ["phase", *parts, "total"])
    for phase, cores in bench.cores.items():
        table.rows.append([phase, *(f"{cores.get(p, 0.0):.2f}" for p in parts), f"{sum(cores.values()):.2f}"])
    return Section("Where the CPU went", tables=[table])


def main() -> int:
    wanted = [s for s in (os.environ.get("BENCH_SECTIONS") or ",".join(SECTIONS)).split(",") if s]
    unknown = set(wanted) - set(SECTIONS)
    if unknown:
        print(f"unknown sections: {sorted(unknown)}; known: {list(SECTIONS)}")
        return 2
    # Later sections build on earlier ones (scan on stock's SKUs), whatever order they were named in.
    wanted = [name for name in SECTIONS if name in wanted]
    info = report.machine()
    with BenchStack() as stack:
        bench_box: list[Bench] = []
        sections = asyncio.run(measure(stack, wanted, bench_box))
        settings = describe_run(stack, bench_box[0] if bench_box else None)
    end_load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    RESULTS.write_text(report.render(info, settings, sections, end_load))
    failed = [c for s in sections for c in s.checks if not c.ok]
    for check in failed:
        print(f"FAIL {check.name}: {check.detail}")
    print(f"results: {RESULTS}" + (" (FAILED)" if failed else ""))
    return 1 if failed else 0


def describe_run(stack: BenchStack, bench: Bench | None) -> list[str]:
    """How the system ran and why, for the report."""
    worker = [Path(w).name if w == sys.executable else w for w in procfile_command("worker")[0]]
    busiest = max((cores.get("gateway", 0.0) for cores in bench.cores.values()), default=0.0) if bench else 0.0
    knobs = ", ".join(f"{k}={os.environ[k]}" for k in KNOBS if os.environ.get(k))
    return [f"gunicorn, WEB_CONCURRENCY={stack.env['WEB_CONCURRENCY']} processes per service: gthread with "
            f"WEB_THREADS={stack.env['WEB_THREADS']} threads for stock, scan and print; the gateway's edge on "
            "uvicorn's worker (gateway/edge.py), its Flask app on as many threads: the production defaults of "
            "common/gunicorn_defaults.py and gateway/gunicorn.conf.py",
            "why: every request runs CPU-bound Python, and one process holds at most one core "
            f"(the GIL); the gateway used up to {busiest:.2f} cores in this run"
            + (", more than one process could give. " if busiest > 1 else ". ")
            + "More processes than the 2 cores add memory and switching, not throughput; the services' threads "
            "cover the waits on PostgreSQL and Redis, the edge's event loop the waits on the next hop",
            f"RQ worker: `{' '.join(worker)}` (the worker line of deploy/Procfile)",
            f"embedded PostgreSQL and Redis under {stack.var}, BENCH_ENDPOINTS=1",
            "load generator: bench/loadgen.py, asyncio streams, one keep-alive HTTP/1.1 connection per handheld; "
            "closed loop (the next request as soon as the answer came) except in the shift, which is open loop "
            "(requests due on a schedule, latency from the due time); its own CPU is the `generator` column of "
            "the last table",
            f"run settings: {knobs or 'the defaults'}"]


if __name__ == "__main__":
    sys.exit(main())
