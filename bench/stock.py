"""Stock: SKU import, lookups at 10,000 and 1,000,000 ledger rows, moves on one hot SKU and on 10,000.

Every request goes through the gateway as a logged-in stock manager's handheld. The lookups run
with few handhelds so their latency is the service's, not the queue's.
"""
from __future__ import annotations

import asyncio
import os
import random
import time

from bench import seed
from bench.context import Bench, seconds
from bench.loadgen import Handheld, repeat
from bench.results import LATENCY_COLUMNS, Check, Section, Table, compare_counts, latency_row

LOOKUP_HANDHELDS = 4
IMPORT_WAIT_SECONDS = 300
LEDGER_TARGET = int(os.environ.get("BENCH_LEDGER_ROWS") or 1_000_000)
HOT = 0


async def run(bench: Bench) -> Section:
    section = Section("Stock")
    bench.sql(seed.BINS_SQL, seed.bin_rows())
    imports = Table("CSV import of 10,000 SKUs (POST /api/stock/skus/import, target < 10 s)",
                    ["file", "status", "created", "updated", "errors", "seconds through the gateway",
                     "in the database"])
    for variant in ("M", "L"):
        imports.rows.append(await _import(bench, variant))
    section.tables.append(imports)
    if bench.sql("SELECT count(*) FROM stock.skus")[0][0] < seed.SKUS:
        section.skipped = f"the SKU import did not store {seed.SKUS:,} SKUs; nothing else in this section ran"
        section.checks.append(Check("SKU import stored the file", False, str(imports.rows[0])))
        return section
    for statement, params in seed.statements(seed.RECEIVE_ALL):
        bench.sql(statement, params)
    lookups = Table(f"Lookups, {LOOKUP_HANDHELDS} handhelds, by ledger size, each taking turns with the bare endpoint",
                    LATENCY_COLUMNS + ["ledger rows"])
    p50: dict[str, float] = {}
    small = await _lookups(bench, lookups, section, p50)
    padding = LEDGER_TARGET - bench.sql("SELECT count(*) FROM stock.movements")[0][0]
    started = time.perf_counter()
    for statement, params in seed.statements(seed.PAD_LEDGER, rows=padding):
        bench.sql(statement, params)
    bench.settle("stock.movements", "stock.balances")
    section.notes.append(f"ledger padded with {padding:,} rows in {time.perf_counter() - started:.1f} s "
                         "(INSERT ... SELECT generate_series, balances raised to match, then VACUUM ANALYZE "
                         "and a checkpoint, so the lookups at 1,000,000 do not pay for the writing)")
    large = await _lookups(bench, lookups, section, p50)
    section.tables.append(lookups)
    section.ratios += lookup_ratios(p50, small, large)
    ledger_rows = bench.sql("SELECT count(*) FROM stock.movements")[0][0]
    moves = Table(f"Moves (POST /api/stock/moves), {len(bench.hands)} handhelds, ledger at {ledger_rows:,} rows",
                  LATENCY_COLUMNS)
    ceiling = bench.ceiling.get("stock_tx")
    spread = lambda: random.randrange(seed.SKUS)  # noqa: S311, E731 - a load pattern, not a secret
    for label, pick_sku in (("move_hot", lambda: HOT), ("move_spread", spread)):
        run_ = await bench.phase(label, _mover(label, pick_sku), seconds("BENCH_MOVE_SECONDS", 10))
        summary = bench.stats.summary(label, run_.elapsed)
        moves.rows.append(latency_row(label, summary, ceiling))
        if ceiling:
            section.ratios.append((f"{label} ÷ stock one-row tx ceiling", summary["ok"] / run_.elapsed / ceiling))
        section.checks.append(Check(f"{label}: moves were measured", summary["ok"] > 0,
                                    f"{summary['ok']} answered 2xx"))
        section.checks.append(compare_counts(f"{label}: movements written = moves answered 2xx",
                                             _sent(bench.hands, label), _written(bench, label)))
    section.tables.append(moves)
    return section


def lookup_ratios(p50: dict[str, float], small: str, large: str) -> list[tuple[str, float]]:
    """p50 at 1M ÷ p50 at 10k for each lookup: as measured, and each divided by the bare endpoint's
    p50 measured in turns with it (the machine's drift between the two sizes taken out).

    `p50`: ms by label (`balances@10,000`, `bare beside balances@10,000`, ...); `small`, `large`: the sizes.
    """
    ratios = []
    for name, label in (("balances", "balances"), ("lookup", "items/lookup")):
        at_small, at_large = p50[f"{name}@{small}"], p50[f"{name}@{large}"]
        bare_small, bare_large = p50[f"bare beside {name}@{small}"], p50[f"bare beside {name}@{large}"]
        ratios.append((f"{label} p50 at 1M ÷ at 10k ledger rows", _share(at_large, at_small)))
        ratios.append((f"{label} p50 at 1M ÷ at 10k ledger rows, each over the bare endpoint's p50 beside it",
                       _share(_share(at_large, bare_large), _share(at_small, bare_small))))
    return ratios


def _share(part: float, whole: float) -> float:
    return part / whole if whole else 0.0


async def ready_floor(bench: Bench) -> str:
    """Bins, the SKUs and their opening stock, for a section run without this one; says what it did."""
    if bench.sql("SELECT count(*) FROM stock.skus")[0][0] >= seed.SKUS:
        return "bins, SKUs and stock from the stock section"
    started = time.perf_counter()
    bench.sql(seed.BINS_SQL, seed.bin_rows())
    row = await _import(bench, "M")
    for statement, params in seed.statements(seed.RECEIVE_ALL):
        bench.sql(statement, params)
    return (f"{seed.BINS:,} bins (SQL), {seed.SKUS:,} SKUs (CSV import through the gateway, answered {row[1]}) "
            f"and their opening stock (SQL) made in {time.perf_counter() - started:.1f} s")


async def _import(bench: Bench, variant: str) -> list:
    """One import through the gateway; when the gateway gave up first, when the service's work landed."""
    started = time.perf_counter()
    answer = await bench.hands[0].call(f"sku_import_{variant}", "POST", "/api/stock/skus/import",
                                       seed.sku_csv(variant=variant), content_type="text/csv",
                                       key=f"bench-import-{variant}")
    took = time.perf_counter() - started
    body = answer.json() if answer.headers.get("content-type", "").startswith("application/json") else {}
    name = "10,000 new" if variant == "M" else "10,000 again (updates)"
    landed = f"{seed.SKUS:,} at once"
    if answer.status != 200:
        pattern = f"% {variant}"
        while time.perf_counter() - started < IMPORT_WAIT_SECONDS:
            if bench.sql("SELECT count(*) FROM stock.skus WHERE name LIKE :p", {"p": pattern})[0][0] >= seed.SKUS:
                break
            await asyncio.sleep(0.5)
        count = bench.sql("SELECT count(*) FROM stock.skus WHERE name LIKE :p", {"p": pattern})[0][0]
        landed = f"{count:,} after {time.perf_counter() - started:.1f} s"
    return [name, answer.status, body.get("created", "-"), body.get("updated", "-"), len(body.get("errors", [])),
            f"{took:.2f}", landed]


async def _lookups(bench: Bench, table: Table, section: Section, p50: dict[str, float]) -> str:
    """Both lookups at the ledger's present size, into `table` and `p50` (ms by label); the size's label."""
    rows = bench.sql("SELECT count(*) FROM stock.movements")[0][0]
    hands = bench.hands[:LOOKUP_HANDHELDS]
    for label, path, field in (("balances", lambda i: f"/api/stock/balances?sku={seed.sku_code(i)}", "items"),
                               ("lookup", lambda i: f"/api/stock/items/lookup?code={seed.ean13(i)}", "bins")):
        name = f"{label}@{rows:,}"
        empty = []

        async def scenario(hand: Handheld, deadline: float, name: str = name, path=path, field=field,
                           empty=empty) -> None:
            while time.monotonic() < deadline:
                answer = await hand.get(name, path(random.randrange(seed.SKUS)))  # noqa: S311 - a load pattern
                # Every SKU has stock in its bin: an empty answer is a wrong one, however fast.
                if answer.status == 200 and not answer.json().get(field):
                    empty.append(answer.body[:200])

        # The bare endpoint takes turns with the lookup: the machine's moment, measured beside it.
        bare = f"bare beside {name}"
        elapsed = await bench.take_turns((name, scenario, hands),
                                         (bare, repeat(bare, "GET", "/api/stock/_bench/bare"), hands),
                                         seconds("BENCH_LOOKUP_SECONDS", 5) / 4)
        for label in (name, bare):
            summary = bench.stats.summary(label, elapsed[label])
            p50[label] = summary["p50_ms"]
            table.rows.append(latency_row(label, summary) + [f"{rows:,}"])
        section.checks.append(Check(f"{name} answers list the stock", not empty,
                                    f"{len(empty)} empty answers, e.g. {empty[:1]}" if empty else
                                    f"{bench.stats.ok(name)} answers with stock"))
    return f"{rows:,}"


def _mover(label: str, pick_sku):  # type: ignore[no-untyped-def]
    """Move one unit from the SKU's home bin to the overflow bin, again and again."""

    async def scenario(hand: Handheld, deadline: float) -> None:
        while time.monotonic() < deadline:
            i = pick_sku()
            await hand.post(label, "/api/stock/moves", {"sku": seed.sku_code(i), "qty": 1, "from": seed.home_bin(i),
                                                        "to": seed.OVERFLOW_BIN, "reason": label})

    return scenario


def _sent(hands: list[Handheld], label: str) -> dict[str, int]:
    return {h.device: h.sent[label] for h in hands if h.sent[label]}


def _written(bench: Bench, label: str) -> dict[str, int]:
    rows = bench.sql("SELECT device, count(*) FROM stock.movements WHERE type = 'move' AND reason = :r "
                     "GROUP BY device", {"r": label})
    return {device: n for device, n in rows}


LEDGER_VS_BALANCES = """
    SELECT count(*), coalesce(sum(abs(coalesce(l.total, 0) - coalesce(b.qty, 0))), 0) FROM
      (SELECT sku, location, lot, sum(delta) AS total FROM (
         SELECT sku, to_location AS location, lot, qty AS delta FROM stock.movements WHERE to_location IS NOT NULL
         UNION ALL
         SELECT sku, from_location, lot, -qty FROM stock.movements WHERE from_location IS NOT NULL) moves
       GROUP BY sku, location, lot) l
    FULL JOIN stock.balances b ON b.sku = l.sku AND b.location = l.location AND b.lot = l.lot
    WHERE coalesce(l.total, 0) <> coalesce(b.qty, 0)
"""


def ledger_check(bench: Bench) -> Check:
    """SUM of the movements per (sku, location, lot) equals the balance row, for every row."""
    wrong, units = bench.sql(LEDGER_VS_BALANCES)[0]
    rows = bench.sql("SELECT count(*) FROM stock.movements")[0][0]
    if wrong:
        return Check("ledger sums = balances", False, f"{wrong} balance rows differ from the ledger by {units} units")
    return Check("ledger sums = balances", True, f"{rows:,} movements, every balance row matches")
