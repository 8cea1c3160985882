"""The ceiling, measured on the same processes in the same run: what the stack does doing nothing.

gateway bare (Flask + gunicorn), a service's bare endpoint one hop behind the gateway (session
lookup, signing, forwarding), and the same plus a one-row PostgreSQL transaction. The other
sections divide their rates by these.
"""
from __future__ import annotations

from bench.context import Bench
from bench.loadgen import repeat
from bench.results import LATENCY_COLUMNS, Check, Section, Table, latency_row

PATHS = [
    ("gateway_bare", "GET", "/_bench/bare"),
    ("stock_bare", "GET", "/api/stock/_bench/bare"),
    ("stock_tx", "POST", "/api/stock/_bench/tx"),
    ("scan_bare", "GET", "/api/scan/_bench/bare"),
    ("scan_tx", "POST", "/api/scan/_bench/tx"),
]


async def run(bench: Bench) -> Section:
    """The ceiling at the start of the run: the other sections' rates are divided by these."""
    return await _measure(bench, "Ceiling", "")


async def again(bench: Bench) -> Section:
    """The same at the end: how far the machine drifted while the run went on (noise, not a result)."""
    start = dict(bench.ceiling)
    section = await _measure(bench, "Ceiling again, at the end of the run", "_end")
    section.ratios = [(f"{label} at the end ÷ at the start", bench.ceiling[label + "_end"] / start[label])
                      for label, _method, _path in PATHS if start.get(label)]
    return section


async def _measure(bench: Bench, title: str, suffix: str) -> Section:
    section = Section(title)
    table = Table(f"{len(bench.hands)} handhelds, {bench.phase_seconds:.0f} s each", LATENCY_COLUMNS)
    for name, method, path in PATHS:
        label = name + suffix
        result = await bench.phase(label, repeat(label, method, path))
        summary = bench.stats.summary(label, result.elapsed)
        if summary["ok"] == 0:
            section.checks.append(Check(f"ceiling {label} answered", False, f"no 2xx: {summary['errors']}"))
        bench.ceiling[label] = summary["ok"] / result.elapsed
        table.rows.append(latency_row(label, summary))
    section.tables.append(table)
    if suffix:
        return section
    gateway = bench.ceiling["gateway_bare"]
    for service in ("stock", "scan"):
        section.ratios.append((f"{service} bare ÷ gateway bare", bench.ceiling[f"{service}_bare"] / gateway))
        section.ratios.append((f"{service} tx ÷ {service} bare",
                               bench.ceiling[f"{service}_tx"] / bench.ceiling[f"{service}_bare"]))
    return section

