"""Metrics every service keeps per endpoint: requests, latency and the CPU a request cost."""
import time

from flask import Flask
from prometheus_client import REGISTRY

from common import observability

WORK_SECONDS = 0.05


def _cpu(endpoint: str) -> float:
    return REGISTRY.get_sample_value("wms_http_request_cpu_seconds_total",
                                     {"service": "probe", "endpoint": endpoint}) or 0.0


def _app() -> Flask:
    app = Flask("probe")
    observability.init_app(app, "probe")

    @app.get("/busy")
    def busy() -> str:
        started = time.thread_time()
        while time.thread_time() - started < WORK_SECONDS:
            pass
        return "done"

    @app.get("/waiting")
    def waiting() -> str:
        time.sleep(WORK_SECONDS)  # as a request waiting on PostgreSQL: wall time, no CPU
        return "done"

    return app


def test_cpu_is_counted_per_endpoint_and_waiting_is_not_cpu():
    client = _app().test_client()
    before_busy, before_waiting = _cpu("/busy"), _cpu("/waiting")
    for _ in range(3):
        assert client.get("/busy").status_code == 200
        assert client.get("/waiting").status_code == 200
    busy, waiting = _cpu("/busy") - before_busy, _cpu("/waiting") - before_waiting
    assert busy >= 3 * WORK_SECONDS
    assert waiting < WORK_SECONDS
