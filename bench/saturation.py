"""Pick and verify scans at saturation: nothing but item scans, back to back, on every handheld.

In the walk phases a scan shares the machine with pick starts and completions (which call
stock_service several times each), so their rate says little about the scan itself. Here each
handheld first opens a pick (or a check) of one order of UNITS units, unmeasured; then every
handheld scans its items as fast as the answers come, which is what is measured; then the picks
and checks are completed, unmeasured, so the end-of-section checks (journal = scans, units moved
= units picked, shipped once) cover them.

The scans are set against the scan one-row transaction measured beside them, not only at the
start of the run: scan slices and transaction slices take turns (Bench.take_turns), so the
machine's drift weighs on both alike.
"""
from __future__ import annotations

import asyncio

from bench import seed
from bench.context import ABBA, Bench
from bench.loadgen import Handheld, repeat
from bench.results import LATENCY_COLUMNS, Check, Table, latency_row

SLICES = ABBA.count("a")  # scan slices per kind (Bench.take_turns), each of SLICE_UNITS scans per handheld
SLICE_UNITS = 40
UNITS = SLICES * SLICE_UNITS
FIRST_SKU = 9_000  # a thousand SKUs, each with far more stock (seed.SEED_QTY) than the run can take


def order_no(kind: str, i: int) -> str:
    return f"TB2026SAT{kind}{i:04d}"


def waybill(kind: str, i: int) -> str:
    return f"SF{(200_000_000_000 if kind == 'P' else 300_000_000_000) + i}"


def orders_csv(count: int) -> bytes:
    rows = [seed.ORDERS_CSV_HEADER]
    for kind in ("P", "V"):
        for i in range(count):
            sku = seed.sku_code(FIRST_SKU + (i if kind == "P" else count + i) % 1_000)
            rows.append(f"{order_no(kind, i)},天猫旗舰店,{waybill(kind, i)},SF,true,,,{sku},{UNITS}")
    return ("\n".join(rows) + "\n").encode()


async def run(bench: Bench) -> tuple[Table, list[tuple[str, float]], list[Check]]:
    """The saturation table, its ratios to the transactions measured beside the scans, and its checks."""
    hands = bench.hands
    answer = await hands[0].call("saturation_import", "POST", "/api/scan/orders/import", orders_csv(len(hands)),
                                 content_type="text/csv", key="bench-saturation-orders")
    if answer.status != 200:
        return Table("Scans at saturation", LATENCY_COLUMNS), [], [
            Check("saturation orders imported", False, f"{answer.status} {answer.body[:200]!r}")]
    table = Table(f"{len(hands)} handhelds doing nothing but item scans, {UNITS} each in {SLICES} slices, taking "
                  "turns with slices of one-row transactions (`scan_tx_beside_*`; walk steps unmeasured)",
                  LATENCY_COLUMNS)
    ratios, checks = [], []
    for label, opener, closer in (("pick_scan_sat", _open_pick, _complete_pick),
                                  ("verify_scan_sat", _open_check, _complete_check)):
        opened = await asyncio.gather(*(opener(hand, i) for i, hand in enumerate(hands)))
        ready = [(hand, work) for hand, work in zip(hands, opened, strict=True) if work is not None]
        first = "sat_pick_start" if label.startswith("pick") else "sat_verify_open"
        checks.append(Check(f"{label}: every handheld opened its work", len(ready) == len(hands),
                            f"{len(ready)} of {len(hands)}; refusals: {dict(bench.stats.refusals.get(first, {}))}"))
        if not ready:
            continue
        beside = f"scan_tx_beside_{label.removesuffix('_sat')}"
        busy = [h for h, _ in ready]
        elapsed = await bench.take_turns((label, _scanner(label, dict((h.device, w) for h, w in ready)), busy),
                                         (beside, repeat(beside, "POST", "/api/scan/_bench/tx"), busy))
        tx = bench.stats.summary(beside, elapsed[beside])
        summary = bench.stats.summary(label, elapsed[label])
        table.rows.append(latency_row(beside, tx))
        table.rows.append(latency_row(label, summary, tx["per_second"]))
        checks.append(Check(f"{beside} answered", tx["ok"] > 0, f"errors: {tx['errors'] or 'none'}"))
        if tx["per_second"]:
            ratios.append((f"{label.removesuffix('_sat')} at saturation ÷ scan one-row tx measured beside it"
                           + bench.spread(label, beside),
                           summary["per_second"] / tx["per_second"]))
        await asyncio.gather(*(closer(hand, work) for hand, work in ready))
        flow = label.removesuffix("_sat")
        for hand, _ in ready:  # the section's journal check counts every scan of this kind, the bin's too
            hand.sent[flow] += hand.sent[label] + (hand.sent["sat_pick_bin"] if flow == "pick_scan" else 0)
    return table, ratios, checks


async def _open_pick(hand: Handheld, i: int) -> tuple[str, str] | None:
    start = await hand.post("sat_pick_start", "/api/scan/picks", {"basket": f"BK-9{i:04d}",
                                                                  "orders": [order_no("P", i)]})
    if start.status != 201:
        return None
    pick = start.json()
    path = f"/api/scan/picks/{pick['id']}"
    [task] = pick["tasks"]
    await hand.post("sat_pick_bin", path + "/scan", {"code": task["location"]})
    return path, seed.barcode(task["sku"])


async def _open_check(hand: Handheld, i: int) -> tuple[str, str] | None:
    opened = await hand.post("sat_verify_open", "/api/scan/verifications", {"waybill": waybill("V", i)})
    if opened.status != 201:
        return None
    check = opened.json()
    [line] = check["lines"]
    return f"/api/scan/verifications/{check['id']}", seed.barcode(line["sku"])


def _scanner(label: str, work: dict[str, tuple[str, str]]):  # type: ignore[no-untyped-def]
    counter = "pick_item_ok" if label.startswith("pick") else "verify_item_ok"
    body_extra = {} if label.startswith("pick") else {"qty": 1}

    async def scenario(hand: Handheld, _deadline: float) -> None:
        """One slice: SLICE_UNITS scans of this handheld's item."""
        path, code = work[hand.device]
        for _ in range(SLICE_UNITS):
            answer = await hand.post(label, path + "/scan", {"code": code} | body_extra)
            if answer.status == 200 and answer.json().get("result") == "ok":
                hand.sent[counter] += 1

    return scenario


async def _complete_pick(hand: Handheld, work: tuple[str, str]) -> None:
    await hand.post("sat_pick_complete", work[0] + "/complete")


async def _complete_check(hand: Handheld, work: tuple[str, str]) -> None:
    done = await hand.post("sat_verify_complete", work[0] + "/complete")
    if done.status == 200:
        hand.sent["shipped_orders"] += 1
