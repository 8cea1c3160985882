"""Request ids, structured JSON logs and Prometheus metrics, the same for every service."""
from __future__ import annotations

import logging
import os
import re
import sys
import time
import uuid

from flask import Flask, Response, current_app, g, has_app_context, has_request_context, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from pythonjsonlogger.json import JsonFormatter

REQUEST_ID_HEADER = "X-Request-ID"
VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

REQUESTS = Counter("wms_http_requests_total", "HTTP requests", ["service", "method", "endpoint", "status"])
LATENCY = Histogram("wms_http_request_seconds", "HTTP request latency", ["service", "endpoint"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))
# CPU the request's own thread spent (time.thread_time), by endpoint: with the request counter it
# gives the CPU one request of each kind costs, which latency alone hides on a busy box.
CPU = Counter("wms_http_request_cpu_seconds", "CPU of the thread that served the request", ["service", "endpoint"])


class RequestContextFilter(logging.Filter):
    """Stamp every log line with the service, the request id and the operator."""

    def __init__(self, service: str):
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        record.service = current_app.name if has_app_context() else self.service
        if has_request_context():
            record.request_id = getattr(g, "request_id", None)
            identity = getattr(g, "identity", None)
            record.operator = identity.badge if identity else None
        return True


def configure_logging(service: str) -> None:
    """JSON lines on stderr; one handler, installed once per process."""
    root = logging.getLogger()
    if any(getattr(h, "_wms", False) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler._wms = True  # type: ignore[attr-defined]
    handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s",
                                       rename_fields={"asctime": "time", "levelname": "level"}))
    handler.addFilter(RequestContextFilter(service))
    root.addHandler(handler)
    root.setLevel(os.environ.get("LOG_LEVEL", "INFO"))


def request_id() -> str | None:
    return getattr(g, "request_id", None) if has_request_context() else None


def request_id_from(incoming: str) -> str:
    """The caller's request id when it is a sane one, else a new one."""
    return incoming if VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex


def count_request(log: logging.Logger, service: str, method: str, endpoint: str, path: str, status: int,
                  started: tuple[float, float], log_all: bool, **context: str) -> None:
    """Metrics for one answered request, and its access log line when it failed (or ACCESS_LOG is on).

    `started` is `clocks()` when the request began. `context` adds what the log filter cannot read
    from a Flask request (the gateway's edge).
    """
    wall, cpu = clocks()
    elapsed = wall - started[0]
    REQUESTS.labels(service, method, endpoint, str(status)).inc()
    LATENCY.labels(service, endpoint).observe(elapsed)
    CPU.labels(service, endpoint).inc(max(cpu - started[1], 0.0))
    if status >= 400 or log_all:
        log.info("request", extra={"method": method, "path": path, "status": status,
                                   "ms": round(elapsed * 1000, 1), **context})


def clocks() -> tuple[float, float]:
    """(wall, this thread's CPU) now, for count_request."""
    return time.perf_counter(), time.thread_time()


def init_app(app: Flask, service: str) -> None:
    configure_logging(service)
    log = logging.getLogger(f"wms.{service}.access")

    @app.before_request
    def _start() -> None:
        g.request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER, ""))
        g.started = clocks()

    @app.after_request
    def _finish(response: Response) -> Response:
        response.headers[REQUEST_ID_HEADER] = getattr(g, "request_id", "") or uuid.uuid4().hex
        started = getattr(g, "started", None)
        if started is not None and request.path != "/metrics":
            endpoint = request.url_rule.rule if request.url_rule else "unmatched"
            count_request(log, service, request.method, endpoint, request.path, response.status_code, started,
                          app.config.get("ACCESS_LOG", False))
        return response

    @app.get("/metrics")
    def metrics() -> Response:
        """Prometheus text: this process, or every gunicorn worker when multiprocess mode is on."""
        return Response(generate_latest(_registry()), mimetype=CONTENT_TYPE_LATEST)


def _registry() -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    from prometheus_client import REGISTRY

    return REGISTRY
