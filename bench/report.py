"""bench/RESULTS.md: the machine, the commit, a table per section, the ratios and the checks."""
from __future__ import annotations

import os
import platform
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from bench.results import Section

ROOT = Path(__file__).resolve().parent.parent


HISTORY = Path(__file__).resolve().parent / "HISTORY.md"


def machine() -> dict[str, str]:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")),
                 platform.processor() or "unknown")
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))
    commit = _git("rev-parse", "--short", "HEAD")
    dirty = _git("status", "--porcelain", "--untracked-files=no")  # a file git does not track is not the code
    return {"date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "cores (nproc)": str(os.cpu_count()), "CPU": model, "memory": f"{mem_kb / 1024 / 1024:.1f} GiB",
            "commit": (commit or "unknown") + (" (with uncommitted changes)" if dirty else ""),
            "load average at start": " ".join(f"{x:.2f}" for x in os.getloadavg())}


def _git(*args: str) -> str:
    git = shutil.which("git")
    if git is None:
        return ""
    done = subprocess.run([git, *args], cwd=ROOT, capture_output=True, text=True)  # noqa: S603 - fixed arguments
    return done.stdout.strip()


def _table(columns: list[str], rows: list[list]) -> list[str]:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines


def render(info: dict[str, str], settings: list[str], sections: list[Section], end_load: str) -> str:
    out = ["# Benchmark results", "", "Written by `make bench` (bench/__main__.py); every number below comes from "
           "one run, so the ratios compare like with like.", ""]
    out += _table(["", ""], [[k, v] for k, v in info.items()] + [["load average at end", end_load]])
    out += ["", "## How the system ran", ""] + [f"- {line}" for line in settings]
    for section in sections:
        out += ["", f"## {section.title}", ""]
        if section.skipped and not section.tables:
            out += [f"**Not measured:** {section.skipped}"]
            continue
        for table in section.tables:
            out += [f"**{table.title}**", ""] + _table(table.columns, table.rows) + [""]
        out += [f"![{caption}]({image})\n" for caption, image in section.images]
        if section.skipped:
            out += [f"**Partly measured:** {section.skipped}", ""]
        if section.ratios:
            out += ["Ratios:", ""] + [f"- {name}: **{value:.2f}**" for name, value in section.ratios] + [""]
        if section.checks:
            out += ["Correctness:", ""]
            out += [f"- {'PASS' if c.ok else 'FAIL'} {c.name}: {c.detail}" for c in section.checks] + [""]
        out += [f"- {note}" for note in section.notes]
    failed = [c.name for s in sections for c in s.checks if not c.ok]
    out += ["", "## Verdict", "", f"**FAILED** checks: {', '.join(failed)}" if failed else
            "All correctness checks passed."]
    if HISTORY.exists():  # kept by hand: what earlier runs measured and what changed in between
        out += ["", HISTORY.read_text().strip()]
    return "\n".join(out) + "\n"
