"""Print: labels rendered per second in-process (ZPL, PNG), and jobs delivered through RQ to fake printers.

Delivery: PRINTERS fake Zebra printers on TCP (tests/print_service/fake_printer.py) registered through
the API, JOBS SKU labels asked for by the handhelds, timed until the last one reached its printer.
That rate cannot exceed the rate the handhelds ask at, so a second phase measures the worker alone:
BACKLOG labels asked for while the printers are paused, then every printer resumed at once, timed
from the resumes to the last label. Each printer must have received every one of its labels once,
in the order the jobs were made.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from bench import seed
from bench.context import Bench, seconds
from bench.loadgen import Handheld
from bench.results import LATENCY_COLUMNS, Check, Section, Table, latency_row

PRINTERS = 4
JOBS = 200
BACKLOG = 400
DELIVERY_TIMEOUT = 300


def label_data(n: int) -> dict[str, str]:
    return {"sku": seed.sku_code(n % seed.SKUS), "name": f"T恤 {n} 红 M 纯棉圆领", "spec": f"棉 100% #{n:06d}",
            "barcode": seed.ean13(n % seed.SKUS)}


def _rate(work: Callable[[int], object], duration: float) -> tuple[int, float]:
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < duration:
        work(count)
        count += 1
    return count, time.perf_counter() - started


def render_rates(duration: float) -> Table:
    """ZPL and PNG renderings per second of a SKU label, in this process (one core)."""
    from print_service.labels import png, templates, zpl
    from print_service.labels.model import Size

    size = Size(203, 60, 40)

    def label(n: int):  # type: ignore[no-untyped-def]
        return templates.build("sku", templates.load_data("sku", label_data(n)), size)

    table = Table("Label rendering in-process (SKU label, 60×40 mm, 203 dpi, Chinese text)",
                  ["what", "labels", "seconds", "per s"])
    for name, work in (("ZPL", lambda n: zpl.render(label(n))), ("PNG preview", lambda n: png.render(label(n)))):
        count, took = _rate(work, duration)
        table.rows.append([name, count, f"{took:.1f}", f"{count / took:.1f}"])
    return table


async def run(bench: Bench) -> Section:
    section = Section("Print")
    probe = await bench.hands[0].get("print_probe", "/api/print/printers")
    if probe.status == 404:
        section.skipped = "print_service does not serve /api/print/printers"
        return section
    section.tables.append(render_rates(seconds("BENCH_RENDER_SECONDS", 5)))
    try:
        from tests.print_service.fake_printer import FakePrinter
    except ImportError:
        section.skipped = "tests/print_service/fake_printer.py is missing: delivery through RQ not measured"
        return section
    printers = [FakePrinter() for _ in range(PRINTERS)]
    try:
        await _deliver(bench, section, printers)
    finally:
        for printer in printers:
            printer.close()
    return section


async def _deliver(bench: Bench, section: Section, printers: list) -> None:  # type: ignore[type-arg]
    admin = bench.hands[0]
    names = [f"bench-{n}" for n in range(len(printers))]
    for name, printer in zip(names, printers, strict=True):
        made = await admin.post("printer_create", "/api/print/printers",
                                {"name": name, "uri": printer.uri, "location": "bench", "retries": 3,
                                 "retry_interval_s": 1})
        if made.status != 201:
            section.checks.append(Check("printers registered", False, f"{made.status} {made.body[:200]!r}"))
            return
    per_hand = JOBS // len(bench.hands) + 1
    submitted = iter(range(JOBS))
    started = time.perf_counter()

    async def submit(hand: Handheld, index: int) -> None:
        for n in submitted:
            await hand.post("print_job", "/api/print/jobs", {"printer": names[index % len(names)], "template": "sku",
                                                             "data": label_data(n), "copies": 1})

    await asyncio.gather(*(submit(h, i) for i, h in enumerate(bench.hands)))
    asked = time.perf_counter() - started
    accepted = bench.stats.ok("print_job")
    while time.perf_counter() - started < DELIVERY_TIMEOUT:
        if sum(len(p.labels()) for p in printers) >= accepted:
            break
        await asyncio.sleep(0.2)
    took = time.perf_counter() - started
    received = sum(len(p.labels()) for p in printers)
    table = Table(f"{JOBS} print jobs from {len(bench.hands)} handhelds to {len(printers)} fake TCP printers "
                  "through RQ", ["asked (2xx)", "asking took s", "labels received", "all received after s",
                                 "delivered per s"])
    table.rows.append([accepted, f"{asked:.1f}", received, f"{took:.1f}", f"{received / took:.1f}"])
    section.tables.append(table)
    section.tables.append(Table("POST /api/print/jobs", LATENCY_COLUMNS,
                                [latency_row("print_job", bench.stats.summary("print_job", asked))]))
    section.notes.append(f"each handheld asked for about {per_hand} labels, spread over the printers")
    accepted += await _drain(bench, section, names, printers, accepted)
    section.checks += _label_checks(bench, names, printers, accepted)


async def _drain(bench: Bench, section: Section, names: list[str], printers: list,  # type: ignore[type-arg]
                 before: int) -> int:
    """BACKLOG labels waiting on paused printers, all resumed at once: the worker's own rate. Returns accepted."""
    admin = bench.hands[0]
    for name in names:
        paused = await admin.post("printer_pause", f"/api/print/printers/{name}/pause")
        if paused.status != 200:
            section.checks.append(Check("printers paused", False, f"{paused.status} {paused.body[:200]!r}"))
            return 0
    submitted = iter(range(JOBS, JOBS + BACKLOG))

    async def submit(hand: Handheld, index: int) -> None:
        for n in submitted:
            await hand.post("print_backlog", "/api/print/jobs", {"printer": names[index % len(names)],
                                                                  "template": "sku", "data": label_data(n),
                                                                  "copies": 1})

    await asyncio.gather(*(submit(h, i) for i, h in enumerate(bench.hands)))
    accepted = bench.stats.ok("print_backlog")
    held = sum(len(p.labels()) for p in printers) - before
    started = time.perf_counter()
    for name in names:
        await admin.post("printer_resume", f"/api/print/printers/{name}/resume")
    resumed = time.perf_counter() - started
    while time.perf_counter() - started < DELIVERY_TIMEOUT:
        if sum(len(p.labels()) for p in printers) >= before + accepted:
            break
        await asyncio.sleep(0.05)
    took = time.perf_counter() - started
    received = sum(len(p.labels()) for p in printers) - before
    table = Table(f"{BACKLOG} labels asked for on {len(printers)} paused printers, then all resumed at once "
                  "(one RQ worker)", ["asked (2xx)", "printed while paused", "resuming took s", "labels received",
                                      "all received after s", "delivered per s"])
    table.rows.append([accepted, held, f"{resumed:.2f}", received, f"{took:.2f}", f"{received / took:.1f}"])
    section.tables.append(table)
    section.checks.append(Check("nothing printed while the printers were paused", held == 0,
                                f"{held} labels arrived before the resumes"))
    return accepted


def _label_checks(bench: Bench, names: list[str], printers: list, accepted: int) -> list[Check]:  # type: ignore[type-arg]
    """Every accepted job printed once, and each printer's labels in the order of its jobs."""
    checks = []
    total = sum(len(p.labels()) for p in printers)
    checks.append(Check("every label printed once", total == accepted,
                        f"{accepted} jobs accepted, {total} labels received"))
    for name, printer in zip(names, printers, strict=True):
        expected = [row[0].strip() for row in bench.sql(
            "SELECT zpl FROM print.jobs WHERE printer = :p ORDER BY seq", {"p": name})]
        got = [label.decode("utf-8", "replace").strip() for label in printer.labels()]
        in_order = got == expected
        first = next((i for i, (a, b) in enumerate(zip(got, expected, strict=False)) if a != b),
                     min(len(got), len(expected)))
        detail = (f"{len(got)} labels in job order" if in_order else
                  f"{len(got)} received vs {len(expected)} jobs; first difference at label {first}")
        checks.append(Check(f"printer {name}: labels in job order, none twice", in_order, detail))
    return checks
