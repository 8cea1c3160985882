"""What every section shares: the running stack, the logged-in handhelds, phase timing and CPU."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text

from bench import cpu
from bench.loadgen import Handheld, Run, Scenario, Stats, drive

MIN_PHASE_SECONDS = 0.5


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
