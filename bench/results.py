"""What each section hands to the report: tables, ratios, correctness checks, or why it did not run."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Check:
    """One correctness check: a fast wrong run fails on these."""

    name: str
    ok: bool
    detail: str = ""


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list[Any]] = field(default_factory=list)


@dataclass
class Section:
    title: str
    tables: list[Table] = field(default_factory=list)
    ratios: list[tuple[str, float]] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    images: list[tuple[str, str]] = field(default_factory=list)   # (caption, file beside RESULTS.md)
    skipped: str | None = None   # why the section could not run (then nothing else is reported)

    @property
    def failed(self) -> bool:
        return any(not c.ok for c in self.checks)


def compare_counts(name: str, expected: dict[str, int], actual: dict[str, int]) -> Check:
    """Server-side counts against the generator's, key by key (e.g. per device)."""
    wrong = {k: (expected.get(k, 0), actual.get(k, 0)) for k in set(expected) | set(actual)
             if expected.get(k, 0) != actual.get(k, 0)}
    total = f"{sum(expected.values())} sent and answered 2xx, {sum(actual.values())} on the server"
    if wrong:
        sample = dict(sorted(wrong.items())[:5])
        return Check(name, False, f"{total}; {len(wrong)} keys differ (sent, server): {sample}")
    return Check(name, True, total)


def latency_row(name: str, summary: dict[str, Any], ceiling: float | None = None) -> list[Any]:
    """A table row: what, requests, 2xx, per second, p50, p99, share of the ceiling, non-2xx."""
    ratio = f"{summary['per_second'] / ceiling:.2f}" if ceiling else ""
    errors = ", ".join(f"{s}×{n}" for s, n in sorted(summary["errors"].items())) or "none"
    return [name, summary["count"], summary["ok"], f"{summary['per_second']:.1f}", f"{summary['p50_ms']:.1f}",
            f"{summary['p99_ms']:.1f}", ratio, errors]


def percentiles_row(name: str, summary: dict[str, Any]) -> list[Any]:
    """A table row with the tail: what, requests, 2xx, per second, p50, p95, p99, max, non-2xx."""
    errors = ", ".join(f"{s or 'no answer'}×{n}" for s, n in sorted(summary["errors"].items())) or "none"
    return [name, summary["count"], summary["ok"], f"{summary['per_second']:.1f}",
            *(f"{summary[k]:.1f}" for k in ("p50_ms", "p95_ms", "p99_ms", "max_ms")), errors]


PERCENTILE_COLUMNS = ["what", "requests", "2xx", "per s", "p50 ms", "p95 ms", "p99 ms", "max ms", "non-2xx"]
LATENCY_COLUMNS = ["what", "requests", "2xx", "per s", "p50 ms", "p99 ms", "÷ ceiling", "non-2xx"]
