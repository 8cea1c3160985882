"""The ceiling, measured on the same processes in the same run: what the stack does doing nothing.

gateway bare (a Flask endpoint of the gateway, behind its edge), a service's bare endpoint one
hop behind the gateway (session lookup, signing, forwarding), the same endpoint called directly
on the service's own port (with the internal token and a signed identity, as the gateway sends
them), and the hop plus a one-row PostgreSQL transaction. The other sections divide their rates
by these. A service's bare endpoint through the gateway and on its own port take turns in
slices (Bench.take_turns), so the hop's ratio compares the two at the same moments of a shared
machine.
"""
from __future__ import annotations

from bench.context import Bench
from bench.loadgen import Handheld, repeat
from bench.results import LATENCY_COLUMNS, Check, Section, Table, latency_row
from common.auth import TOKEN_HEADER, Identity, sign

# (label, method, path, where it is called: "gateway" or the service's own port)
PATHS = [
    ("gateway_bare", "GET", "/_bench/bare", "gateway"),
    ("stock_bare", "GET", "/api/stock/_bench/bare", "gateway"),
    ("stock_direct", "GET", "/api/stock/_bench/bare", "stock"),
    ("stock_tx", "POST", "/api/stock/_bench/tx", "gateway"),
    ("scan_bare", "GET", "/api/scan/_bench/bare", "gateway"),
    ("scan_direct", "GET", "/api/scan/_bench/bare", "scan"),
    ("scan_tx", "POST", "/api/scan/_bench/tx", "gateway"),
]


async def run(bench: Bench) -> Section:
    """The ceiling at the start of the run: the other sections' rates are divided by these."""
    return await _measure(bench, "Ceiling", "")


async def again(bench: Bench) -> Section:
    """The same at the end: how far the machine drifted while the run went on (noise, not a result)."""
    start = dict(bench.ceiling)
    section = await _measure(bench, "Ceiling again, at the end of the run", "_end")
    section.ratios = [(f"{label} at the end ÷ at the start", bench.ceiling[label + "_end"] / start[label])
                      for label, _method, _path, _where in PATHS if start.get(label)]
    return section


async def _hop(bench: Bench, service: str, suffix: str, paths: dict) -> dict[str, float]:
    """The bare endpoint through the gateway and on the service's own port, taking turns (Bench.take_turns)."""
    bare, direct = f"{service}_bare{suffix}", f"{service}_direct{suffix}"
    hands = direct_hands(bench, service)
    try:
        method, path, _where = paths[f"{service}_bare"]
        return await bench.take_turns((bare, repeat(bare, method, path), None),
                                      (direct, repeat(direct, method, path), hands), bench.phase_seconds / 4)
    finally:
        for hand in hands:
            await hand.close()


def direct_hands(bench: Bench, service: str) -> list[Handheld]:
    """As many handhelds as the bench has, talking to the service's own port as the gateway does.

    The identity is signed now: it stays valid for common.auth.MAX_SKEW_SECONDS, far longer than a phase.
    """
    secret, token = bench.stack.env["IDENTITY_SECRET"], bench.stack.env["INTERNAL_TOKEN"]
    hands = []
    for hand in bench.hands:
        direct = Handheld(bench.url(service), None, hand.device, bench.stats)
        identity = Identity(badge="EDB_AD900", name="Bench", roles=("admin",), lang="en", device=hand.device)
        direct.headers |= {TOKEN_HEADER: token, **sign(identity, secret)}
        hands.append(direct)
    return hands


async def _measure(bench: Bench, title: str, suffix: str) -> Section:
    section = Section(title)
    table = Table(f"{len(bench.hands)} handhelds, {bench.phase_seconds:.0f} s each; `_direct`: on the service's "
                  "own port, not through the gateway, taking turns with `_bare` in slices", LATENCY_COLUMNS)
    paths = {name: (method, path, where) for name, method, path, where in PATHS}
    for name in paths:
        if name.endswith("_direct"):
            continue  # measured in turns with its `_bare`, below
        if name.endswith("_bare") and name != "gateway_bare":
            service = name.removesuffix("_bare")
            elapsed = await _hop(bench, service, suffix, paths)
        else:
            method, path, _where = paths[name]
            result = await bench.phase(name + suffix, repeat(name + suffix, method, path))
            elapsed = {name + suffix: result.elapsed}
        for label, seconds_ in elapsed.items():
            summary = bench.stats.summary(label, seconds_)
            if summary["ok"] == 0:
                section.checks.append(Check(f"ceiling {label} answered", False, f"no 2xx: {summary['errors']}"))
            bench.ceiling[label] = summary["ok"] / seconds_
            table.rows.append(latency_row(label, summary))
    section.tables.append(table)
    if suffix:
        return section
    gateway = bench.ceiling["gateway_bare"]
    for service in ("stock", "scan"):
        bare, direct = bench.ceiling[f"{service}_bare"], bench.ceiling[f"{service}_direct"]
        spread = bench.spread(f"{service}_bare", f"{service}_direct")
        section.ratios.append((f"{service} hop: bare through the gateway ÷ bare direct on the service{spread}",
                               bare / direct if direct else 0.0))
        section.ratios.append((f"{service} bare ÷ gateway bare", bare / gateway))
        section.ratios.append((f"{service} tx ÷ {service} bare", bench.ceiling[f"{service}_tx"] / bare))
    return section
