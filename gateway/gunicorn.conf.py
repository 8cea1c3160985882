"""gunicorn settings of gateway (the shared ones and why: common/gunicorn_defaults.py).

The gateway runs the edge (gateway/edge.py) on uvicorn's worker, not the services' gthread: its
work is forwarding, which an event loop does with no thread hand-offs. Two processes, one per core;
`threads` is the Flask door's thread pool (logins, the UI, anything the edge hands over).
GATEWAY_WEB_CONCURRENCY / GATEWAY_WEB_THREADS still override the shape; the worker class is fixed,
since the edge is an ASGI app.
"""
from common.gunicorn_defaults import *  # noqa: F401,F403
from common.gunicorn_defaults import bind_for, shape

bind = bind_for("gateway")
_class, workers, threads = shape("gateway")
worker_class = "gateway.edge.EdgeWorker"
wsgi_app = "gateway:create_edge()"
