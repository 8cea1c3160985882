"""gunicorn settings shared by the four services; each service's gunicorn.conf.py binds its port.

gthread workers: the sync worker closes every connection, and the gateway's keep-alive pool to
the services is what keeps the extra hop cheap. Two processes on a 2-core box, a few threads each
so a request waiting on PostgreSQL or another service does not idle a core. The gateway takes the
shape but runs uvicorn's worker instead (gateway/gunicorn.conf.py).
"""
import os

from common.config import DEFAULT_PORTS

worker_class = os.environ.get("WORKER_CLASS", "gthread")
# gunicorn's C parser (gunicorn_h1c, pinned in requirements.txt): parsing each request in Python
# was an eighth of the gateway's CPU. "fast" refuses to start without it rather than quietly
# falling back.
http_parser = "fast"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("WEB_THREADS", "4"))
keepalive = 75
timeout = 30
graceful_timeout = 30
backlog = 2048
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# Four masters (and a second copy of the stack) on one host must not share one control socket.
control_socket_disable = True
# gunicorn's most: a GET carrying a long scanned code reaches the app, which refuses it with the
# JSON error body, instead of gunicorn's HTML 414 at 4 KB.
limit_request_line = 8190


def shape(service: str) -> tuple[str, int, int]:
    """worker class, processes, threads of one service: `<SERVICE>_WORKER_CLASS`, `<SERVICE>_WEB_CONCURRENCY`,
    `<SERVICE>_WEB_THREADS` when set (a gateway busier than the services it fronts), else the shared ones."""
    prefix = service.upper()

    def setting(name: str, shared: object) -> str:
        return os.environ.get(f"{prefix}_{name}") or str(shared)

    return (setting("WORKER_CLASS", worker_class), int(setting("WEB_CONCURRENCY", workers)),
            int(setting("WEB_THREADS", threads)))


def bind_for(service: str) -> list[str]:
    port = os.environ.get(f"{service.upper()}_PORT") or str(DEFAULT_PORTS[service])
    host = os.environ.get("BIND_HOST", "127.0.0.1")
    return [f"{host}:{port}"]


def post_worker_init(worker) -> None:  # type: ignore[no-untyped-def]
    """Each worker warms its app (connections, caches: common/warmup.py) before it accepts a request.

    As many connections as it has threads: the most it uses at once. The gateway's app is its edge,
    which holds the Flask app.
    """
    from common import warmup

    warmup.warm(getattr(worker.wsgi, "flask_app", worker.wsgi), worker.cfg.threads)


def child_exit(server, worker) -> None:  # type: ignore[no-untyped-def]
    """Drop a dead worker's metric files, as prometheus_client's multiprocess mode asks."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
