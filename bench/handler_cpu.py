"""CPU per request by endpoint, read off the services' own /metrics before and after a run.

Every service counts, per endpoint, its requests and the CPU of the thread that served them
(common.observability). The difference over a run divided by the requests is what one request of
each kind cost that service, whatever else the machine was doing; gunicorn's accepting and parsing,
in the worker's main thread, is not in it.
"""
from __future__ import annotations

from collections import defaultdict

import requests
from prometheus_client.parser import text_string_to_metric_families

from bench.results import Table

PARTS = ("gateway", "stock", "scan", "print")
Counts = dict[tuple[str, str], list[float]]   # (service, endpoint) → [requests, CPU seconds]


def snapshot(stack: object) -> Counts:
    """Requests and handler CPU per (service, endpoint), summed over each service's workers."""
    found: Counts = defaultdict(lambda: [0.0, 0.0])
    for part in PARTS:
        text = requests.get(stack.url(part) + "/metrics", timeout=10).text  # type: ignore[attr-defined]
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                key = (part, sample.labels.get("endpoint", ""))
                if sample.name == "wms_http_requests_total":
                    found[key][0] += sample.value
                elif sample.name == "wms_http_request_cpu_seconds_total":
                    found[key][1] += sample.value
    return found


def table(before: Counts, after: Counts, title: str, least_requests: int = 10) -> Table:
    """The endpoints that served at least `least_requests` between the snapshots, costliest in total first."""
    spent = []
    totals: dict[str, float] = defaultdict(float)
    for key, (count, cpu) in after.items():
        count -= before.get(key, [0.0, 0.0])[0]
        cpu -= before.get(key, [0.0, 0.0])[1]
        if count >= least_requests:
            spent.append((key, count, cpu))
            totals[key[0]] += cpu
    out = Table(title, ["service", "endpoint", "requests", "CPU ms per request", "share of the service's CPU"])
    for (part, endpoint), count, cpu in sorted(spent, key=lambda row: -row[2]):
        share = cpu / totals[part] if totals[part] else 0.0
        out.rows.append([part, f"`{endpoint}`", int(count), f"{1000 * cpu / count:.2f}", f"{share:.0%}"])
    return out
