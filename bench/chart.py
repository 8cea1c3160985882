"""The latency chart of the shift: p50/p95/p99 against the number of handhelds (PNG, log scale)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

PERCENTILES = ("p50", "p95", "p99")
FLOOR_MS = 0.1   # a log axis has no zero: an empty run is drawn at the bottom, not left out silently


def chart_data(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Points to draw, by handheld count: x, tick labels (count and rate) and one series per percentile.

    `rows` are the shift's runs: {"handhelds", "rate" (scans per second each), "p50_ms", "p95_ms", "p99_ms"}.
    """
    ordered = sorted(rows, key=lambda r: (r["handhelds"], r["rate"]))
    return {"x": [r["handhelds"] for r in ordered],
            "ticks": [f"{r['handhelds']:,}\n{r['handhelds'] * r['rate']:,.0f}/s" for r in ordered],
            "series": {p: [max(FLOOR_MS, float(r[f"{p}_ms"])) for r in ordered] for p in PERCENTILES}}


def draw(rows: list[dict[str, Any]], path: Path, target_ms: float | None = None) -> Path:
    """Write the chart as a PNG (matplotlib's Agg backend: no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    data = chart_data(rows)
    figure, axes = pyplot.subplots(figsize=(8, 5), dpi=100)
    for name, values in data["series"].items():
        axes.plot(data["x"], values, marker="o", label=name)
    if target_ms:
        axes.axhline(target_ms, color="grey", linestyle="--", linewidth=1, label=f"target p99 {target_ms:g} ms")
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xticks(data["x"], data["ticks"])
    axes.minorticks_off()
    axes.set_xlabel("handhelds (and the scans per second they are due to send)")
    axes.set_ylabel("latency from the scheduled time, ms")
    axes.set_title("Shift through the gateway, open loop: latency by handheld count")
    axes.grid(True, which="major", alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, format="png")
    pyplot.close(figure)
    return path
