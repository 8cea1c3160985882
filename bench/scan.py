"""Scan: 10,000 orders imported as CSV, then 50 handhelds picking and verifying them.

A picker's handheld: start a pick with a basket and one order, scan each bin then each item, complete.
A verifier's: scan the waybill, scan every item, complete (the shipment goes to stock through the
outbox and the RQ worker). One scan in REPLAY_SHARE is sent twice with the same Idempotency-Key,
as a handheld's outbox replays it after a lost answer: it must be answered, and counted once.
The two walks (`pick_order`, `verify_parcel`) and the checks (`flow_checks`) serve the shift too.
"""
from __future__ import annotations

import asyncio
import os
import random
import time
from collections import deque
from datetime import UTC, datetime

from bench import saturation, seed
from bench.context import Bench, seconds
from bench.loadgen import Handheld
from bench.results import LATENCY_COLUMNS, Check, Section, Table, compare_counts, latency_row

ORDERS = int(os.environ.get("BENCH_ORDERS") or 10_000)
REPLAY_SHARE = 0.05
OUTBOX_WAIT_SECONDS = 120
IMPORT_WAIT_SECONDS = 900
FIRST_STEP = {"pick_scan": "pick_start", "verify_scan": "verify_open"}
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
SCAN_LABELS = ("pick_start", "pick_scan", "pick_complete", "verify_open", "verify_scan", "verify_complete")


def order_no(i: int) -> str:
    return f"TB2026BENCH{i:05d}"


def waybill(i: int) -> str:
    return f"SF{100_000_000_000 + i}"


def order_lines(i: int) -> list[tuple[str, int]]:
    """Three different SKUs per order, the last one twice."""
    return [(seed.sku_code((i * 3 + k) % seed.SKUS), 2 if k == 2 else 1) for k in range(3)]


def orders_csv(count: int) -> bytes:
    rows = [seed.ORDERS_CSV_HEADER]
    for i in range(count):
        rows += [f"{order_no(i)},天猫旗舰店,{waybill(i)},SF,true,,,{sku},{qty}" for sku, qty in order_lines(i)]
    return ("\n".join(rows) + "\n").encode()


async def run(bench: Bench) -> Section:
    section = Section("Scan")
    imports = Table(f"CSV import of {ORDERS:,} orders × 3 lines (POST /api/scan/orders/import, target < 10 s)",
                    ["status", "created", "errors", "seconds through the gateway", "orders in the database"])
    imports.rows.append(await _import(bench))
    section.tables.append(imports)
    if imports.rows[0][0] == 404:
        section.skipped = "scan_service does not serve POST /api/scan/orders/import"
        return section
    waiting = deque(order_no(i) for i in range(ORDERS))
    numbers = {order_no(i): i for i in range(ORDERS)}
    if bench.sql("SELECT count(*) FROM scan.orders")[0][0] < ORDERS:
        section.skipped = f"the order import did not store {ORDERS:,} orders; picking and verification did not run"
        return section
    picked: deque[str] = deque()
    flows = Table(f"{len(bench.hands)} handhelds picking, then verifying", LATENCY_COLUMNS)
    ceiling = bench.ceiling.get("scan_tx")
    table, ratios, checks = await saturation.run(bench)
    section.tables.append(table)
    section.ratios += ratios
    section.checks += checks
    pick_run = await bench.phase("picking", _picker(waiting, picked), seconds("BENCH_PICK_SECONDS", 20))
    verify_run = await bench.phase("verifying", _verifier(picked, numbers), seconds("BENCH_VERIFY_SECONDS", 20))
    for label in SCAN_LABELS:
        elapsed = pick_run.elapsed if label.startswith("pick") else verify_run.elapsed
        flows.rows.append(latency_row(label, bench.stats.summary(label, elapsed),
                                      ceiling if label.endswith("_scan") else None))
    for label, run_ in (("pick_scan_replay", pick_run), ("verify_scan_replay", verify_run)):
        flows.rows.append(latency_row(label, bench.stats.summary(label, run_.elapsed)))
        mismatched = bench.stats.statuses[label + "_mismatch"].total()
        section.checks.append(Check(f"{label}: same answer, marked Idempotent-Replayed", mismatched == 0,
                                    f"{bench.stats.ok(label)} replays, {mismatched} answered differently"))
    section.tables.append(flows)
    for label, run_ in (("pick_scan", pick_run), ("verify_scan", verify_run)):
        section.checks.append(Check(f"{label}: scans were measured", bench.stats.ok(label) > 0,
                                    f"{bench.stats.ok(label)} answered 2xx; refusals: "
                                    f"{_refusals(bench, FIRST_STEP[label]) or 'none'}"))
        rate = bench.stats.ok(label) / run_.elapsed
        if ceiling:
            section.ratios.append((f"{label} ÷ scan one-row tx ceiling", rate / ceiling))
    section.notes.append(f"generator CPU: picking {pick_run.cpu_share:.2f} core, verifying "
                         f"{verify_run.cpu_share:.2f} core; {REPLAY_SHARE:.0%} of scans replayed with their key")
    section.checks += await flow_checks(bench, bench.hands)
    return section


def _refusals(bench: Bench, label: str) -> dict:
    """Why the flows' first steps were refused (error code → count), from the answers kept."""
    return dict(bench.stats.refusals.get(label, {}))


async def _import(bench: Bench) -> list:
    hand = bench.hands[0]
    started = time.perf_counter()
    answer = await hand.call("orders_import", "POST", "/api/scan/orders/import", orders_csv(ORDERS),
                             content_type="text/csv", key="bench-orders")
    took = time.perf_counter() - started
    body = answer.json() if answer.headers.get("content-type", "").startswith("application/json") else {}
    stored = _wait_for_orders(bench, started) if answer.status != 404 else "-"
    return [answer.status, body.get("created", "-"), len(body.get("errors", [])) if body.get("errors") else 0,
            f"{took:.2f}", stored]


def _wait_for_orders(bench: Bench, started: float) -> str:
    """The gateway may give up (its timeout) while the service goes on: say when the orders were there.

    The service's own time is the span of its `imported` journal events (clock_timestamp(), so it
    runs from the first order written to the last, inside the one transaction).
    """
    count = 0
    while time.perf_counter() - started < IMPORT_WAIT_SECONDS:
        count = bench.sql("SELECT count(*) FROM scan.orders")[0][0]
        if count >= ORDERS:
            break
        time.sleep(0.5)
    span = bench.sql("SELECT extract(epoch FROM max(at) - min(at)) FROM scan.events WHERE kind = 'imported'")[0][0]
    inside = f"; the service wrote them in {float(span):.1f} s" if span is not None else ""
    late = "" if count >= ORDERS else " (gave up waiting)"
    return f"{count:,} seen after {time.perf_counter() - started:.1f} s{late}{inside}"


def _picker(waiting: deque[str], picked: deque[str]):  # type: ignore[no-untyped-def]
    async def scenario(hand: Handheld, deadline: float) -> None:
        basket = f"BK-{hand.device.split('-')[1]}"
        while time.monotonic() < deadline and waiting:
            number = waiting.popleft()
            if await pick_order(hand, number, basket):
                picked.append(number)

    return scenario


def _verifier(picked: deque[str], numbers: dict[str, int]):  # type: ignore[no-untyped-def]
    async def scenario(hand: Handheld, deadline: float) -> None:
        while time.monotonic() < deadline and picked:
            number = picked.popleft()
            await verify_parcel(hand, waybill(numbers[number]))

    return scenario


async def pick_order(hand: Handheld, number: str, basket: str, replay_share: float = REPLAY_SHARE) -> bool:
    """One pick walk: basket and order, each bin then each of its items, complete. True when picked."""
    start = await hand.post("pick_start", "/api/scan/picks", {"basket": basket, "orders": [number]})
    if start.status != 201:
        return False
    pick = start.json()
    path = f"/api/scan/picks/{pick['id']}"
    for task in pick["tasks"]:
        await _scan(hand, "pick_scan", path + "/scan", {"code": task["location"]}, replay_share)
        for _ in range(task["qty"]):
            if await _scan(hand, "pick_scan", path + "/scan", {"code": seed.barcode(task["sku"])}, replay_share):
                hand.sent["pick_item_ok"] += 1
    done = await hand.post("pick_complete", path + "/complete")
    return done.status == 200 and done.json().get("state") == "picked"


async def verify_parcel(hand: Handheld, waybill_no: str, wrong_share: float = 0.0,
                        replay_share: float = REPLAY_SHARE) -> bool:
    """One packing-table check: the waybill, every item, complete. True when the parcel shipped.

    With `wrong_share`, that share of the item scans is preceded by a scan of an item from
    another parcel: it must be refused (`wrong_item`) and count nothing.
    """
    opened = await hand.post("verify_open", "/api/scan/verifications", {"waybill": waybill_no})
    if opened.status != 201:
        return False
    verification = opened.json()
    path = f"/api/scan/verifications/{verification['id']}"
    here = {line["sku"] for line in verification["lines"]}
    for line in verification["lines"]:
        for _ in range(line["expected"]):
            if random.random() < wrong_share:  # noqa: S311 - a load pattern
                await _wrong_item(hand, path + "/scan", here)
            if await _scan(hand, "verify_scan", path + "/scan", {"code": seed.barcode(line["sku"]), "qty": 1},
                           replay_share):
                hand.sent["verify_item_ok"] += 1
    done = await hand.post("verify_complete", path + "/complete")
    if done.status == 200:
        hand.sent["shipped_orders"] += 1
    return done.status == 200


async def _wrong_item(hand: Handheld, path: str, here: set[str]) -> None:
    """An item of another parcel in the basket: counted as sent, and as refused when answered so."""
    other = seed.sku_code(random.randrange(seed.SKUS))  # noqa: S311 - a load pattern
    while other in here:
        other = seed.sku_code(random.randrange(seed.SKUS))  # noqa: S311
    answer = await hand.post("verify_scan", path, {"code": seed.barcode(other), "qty": 1})
    hand.sent["verify_wrong_sent"] += 1
    if answer.status == 200 and answer.json().get("result") == "wrong_item":
        hand.sent["verify_wrong_refused"] += 1


async def _scan(hand: Handheld, label: str, path: str, body: dict, replay_share: float = REPLAY_SHARE) -> bool:
    """One scan; True when the server said ok."""
    answer = await hand.post(label, path, body, replay=random.random() < replay_share)  # noqa: S311 - a load pattern
    return answer.status == 200 and answer.json().get("result") == "ok"


def per_device(hands: list[Handheld], label: str) -> dict[str, int]:
    return {h.device: h.sent[label] for h in hands if h.sent[label]}


def _server(bench: Bench, statement: str, params: dict | None = None) -> dict[str, int]:
    return {device: int(n) for device, n in bench.sql(statement, params)}


async def flow_checks(bench: Bench, hands: list[Handheld], since: datetime = EPOCH) -> list[Check]:
    """Every scan counted once, every picked unit moved once, every shipped order shipped once.

    Counts what `hands` did against what the server wrote since `since` (a section run after
    others, or after seeded history, compares only its own part).
    """
    checks = []
    at = {"since": since}
    for kind in ("pick_scan", "verify_scan"):
        events = _server(bench, "SELECT device, count(*) FROM scan.events WHERE kind = :kind AND at >= :since "
                                "GROUP BY device", at | {"kind": kind})
        checks.append(compare_counts(f"{kind}: journal events = scans answered 2xx (replays excluded)",
                                     per_device(hands, kind), events))
    checks.append(compare_counts("picked units = item scans answered ok", per_device(hands, "pick_item_ok"),
                                 _server(bench, "SELECT e.device, count(*) FROM scan.events e WHERE "
                                                "e.kind = 'pick_scan' AND e.result = 'ok' AND e.qty = 1 "
                                                "AND e.at >= :since GROUP BY e.device", at)))
    checks.append(compare_counts("units verified = item scans answered ok", per_device(hands, "verify_item_ok"),
                                 _server(bench, "SELECT device, sum(qty) FROM scan.events WHERE kind = 'verify_scan' "
                                                "AND result = 'ok' AND at >= :since GROUP BY device", at)))
    shipped = sum(h.sent["shipped_orders"] for h in hands)
    in_db = bench.sql("SELECT count(*) FROM scan.orders WHERE state = 'shipped' AND shipped_at >= :since", at)[0][0]
    checks.append(compare_counts("orders shipped = verifications completed", {"orders": shipped}, {"orders": in_db}))
    drained = await _drain_outbox(bench)
    checks.append(drained)
    checks.append(compare_counts(
        "units shipped in stock = units of shipped orders (each once)",
        {"units": int(bench.sql("SELECT coalesce(sum(l.qty), 0) FROM scan.order_lines l JOIN scan.orders o "
                                "USING (order_no) WHERE o.state = 'shipped' AND o.shipped_at >= :since", at)[0][0])},
        {"units": int(bench.sql("SELECT coalesce(sum(qty), 0) FROM stock.movements WHERE type = 'ship' "
                                "AND at >= :since", at)[0][0])}))
    checks.append(compare_counts(
        "units moved bin → basket = units picked",
        {"units": int(bench.sql("SELECT coalesce(sum(t.picked), 0) FROM scan.pick_tasks t JOIN scan.picks p "
                                "ON p.id = t.pick_id WHERE p.state <> 'open' AND p.created_at >= :since", at)[0][0])},
        {"units": int(bench.sql("SELECT coalesce(sum(qty), 0) FROM stock.movements WHERE type = 'pick' "
                                "AND at >= :since", at)[0][0])}))
    return checks


async def _drain_outbox(bench: Bench) -> Check:
    """Wait for the RQ worker to deliver every shipment; how long it took says its rate."""
    started = time.perf_counter()
    while time.perf_counter() - started < OUTBOX_WAIT_SECONDS:
        pending = bench.sql("SELECT count(*) FROM scan.shipment_outbox WHERE state <> 'delivered'")[0][0]
        if pending == 0:
            total = bench.sql("SELECT count(*) FROM scan.shipment_outbox")[0][0]
            return Check("shipment outbox delivered", True,
                         f"{total} shipments, the last delivered {time.perf_counter() - started:.1f} s after "
                         "verification stopped")
        await asyncio.sleep(0.5)
    return Check("shipment outbox delivered", False, f"{pending} still pending after {OUTBOX_WAIT_SECONDS} s")
