"""What every section shares: the running stack, the logged-in handhelds, phase timing and CPU."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text

from bench import cpu
from bench.loadgen import Handheld, Run, Scenario, Stats, drive

MIN_PHASE_SECONDS = 0.5
ABBA = ("a", "b", "b", "a") * 2
Turn = tuple[str, Scenario, "list[Handheld] | None"]   # label, scenario, handhelds (None: the bench's)


def seconds(name: str, default: float) -> float:
    """A phase length from the environment, else `default`; BENCH_SCALE multiplies them all (0.1: a smoke run)."""
    return float(os.environ.get(name) or default) * float(os.environ.get("BENCH_SCALE") or 1)


@dataclass
class Bench:
    stack: Any                      # bench.stack.BenchStack, or any object with url(), engine, pids()
    hands: list[Handheld]
    stats: Stats
    phase_seconds: float = 10.0
    cores: dict[str, dict[str, float]] = field(default_factory=dict)
    ceiling: dict[str, float] = field(default_factory=dict)
    # (a, b) → rate of a ÷ rate of b in each pair of neighbouring slices of take_turns (ABBA ABBA: four)
    turn_ratios: dict[tuple[str, str], list[float]] = field(default_factory=dict)

    def url(self, name: str = "gateway") -> str:
        return self.stack.url(name)

    async def phase(self, name: str, scenario: Scenario, seconds_: float | None = None,
                    hands: list[Handheld] | None = None) -> Run:
        """Drive `scenario` on the handhelds; the CPU each part used is kept under `name`."""
        roots = self.stack.pids()
        before = cpu.snapshot(roots)
        run = await drive(hands or self.hands, scenario, seconds_ or self.phase_seconds)
        if run.elapsed >= MIN_PHASE_SECONDS:  # a phase that found nothing to do says nothing about CPU
            self.cores[name] = cpu.shares(before, cpu.snapshot(roots), run.elapsed)
        return run

    async def take_turns(self, a: Turn, b: Turn, seconds: float | None = None) -> dict[str, float]:
        """Two phases cut in slices run in the order ABBA ABBA; the seconds spent on each label.

        On a shared machine the rate drifts by a third within minutes: two phases measured one
        after the other compare the machine's moments as much as the phases. Taking turns this
        way, a steady drift weighs on both alike. With `seconds` every slice lasts that long;
        without, an `a` slice lasts until its scenario ends and a `b` slice as long as the `a`
        slice before it. The cores each part used are averaged over a label's slices.
        """
        elapsed: dict[str, float] = {}
        used: dict[str, dict[str, float]] = {}
        rates: list[float] = []
        last_a = seconds or self.phase_seconds / 4
        for turn in ABBA:
            label, scenario, hands = a if turn == "a" else b
            length = seconds or (600 if turn == "a" else last_a)
            answered = self.stats.ok(label)
            run = await self.phase(label, scenario, length, hands=hands)
            rates.append((self.stats.ok(label) - answered) / max(run.elapsed, MIN_PHASE_SECONDS / 100))
            if turn == "a":
                last_a = max(run.elapsed, MIN_PHASE_SECONDS)
            elapsed[label] = elapsed.get(label, 0.0) + run.elapsed
            for part, share in self.cores.get(label, {}).items():
                used.setdefault(label, {})[part] = used.get(label, {}).get(part, 0.0) + share * run.elapsed
        for label, by_part in used.items():
            self.cores[label] = {part: cpu_seconds / elapsed[label] for part, cpu_seconds in by_part.items()}
        # Neighbouring slices (one of each label) make a pair: how far the pairs disagree says how
        # much of a difference between two runs' ratios is the machine's.
        pairs = [(rates[i], rates[i + 1]) if ABBA[i] == "a" else (rates[i + 1], rates[i])
                 for i in range(0, len(ABBA), 2)]
        self.turn_ratios[(a[0], b[0])] = [rate_a / rate_b for rate_a, rate_b in pairs if rate_b]
        return elapsed

    def spread(self, a: str, b: str) -> str:
        """' (turn pairs 0.61–0.70)': the lowest and highest of take_turns' pair ratios of a ÷ b."""
        found = self.turn_ratios.get((a, b))
        return f" (turn pairs {min(found):.2f}–{max(found):.2f})" if found else ""

    def settle(self, *tables: str) -> None:
        """Vacuum freshly written tables and flush them to disk now, not during the next measured phase.

        Left alone, autovacuum and the checkpointer get to a million new rows while the phase after
        the seeding is being measured. VACUUM cannot run inside a transaction: autocommit.
        """
        with self.stack.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f"VACUUM (ANALYZE) {', '.join(tables)}"))
            conn.execute(text("CHECKPOINT"))

    def sql(self, statement: str, params: dict[str, Any] | list[dict[str, Any]] | None = None) -> list[Any]:
        """Rows of one statement, committed (seeding and the end-of-run checks)."""
        with self.stack.engine.begin() as conn:
            result = conn.execute(text(statement), params or {})
            return list(result) if result.returns_rows else []
