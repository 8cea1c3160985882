"""Where the CPU went during a phase: each service's process tree, PostgreSQL, Redis, the generator.

Read from /proc (utime + stime, plus the reaped children's), so it needs no extra package; on a
2-core box the shares add up to at most 2.0 cores.
"""
from __future__ import annotations

import os
import resource
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def _table() -> dict[int, tuple[int, str, float]]:
    """pid → (parent pid, command name, CPU seconds of the process and its reaped children)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        name = raw[raw.index("(") + 1:raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2:].split()
        found[int(entry.name)] = (int(fields[1]), name, sum(int(x) for x in fields[11:15]) / TICKS)
    return found


def snapshot(roots: dict[str, int]) -> dict[str, float]:
    """CPU seconds so far per named process tree, plus `generator` (this process)."""
    table = _table()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _name, _cpu) in table.items():
        children.setdefault(ppid, []).append(pid)
    totals: dict[str, float] = {}
    for label, root in roots.items():
        stack, total = [root], 0.0
        while stack:
            pid = stack.pop()
            if pid in table:
                total += table[pid][2]
                stack.extend(children.get(pid, []))
        totals[label] = total
    usage = resource.getrusage(resource.RUSAGE_SELF)
    totals["generator"] = usage.ru_utime + usage.ru_stime
    return totals


def shares(before: dict[str, float], after: dict[str, float], elapsed: float) -> dict[str, float]:
    """Cores used by each part between two snapshots."""
    return {k: (after.get(k, 0.0) - before.get(k, 0.0)) / elapsed for k in after} if elapsed else {}

