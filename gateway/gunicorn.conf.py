"""gunicorn settings of gateway (the shared ones and why: common/gunicorn_defaults.py).

The gateway keeps the shared shape, 2 processes x 4 threads. With the fast lane (gateway/proxy.py)
a forwarded scan costs the gateway about the CPU it costs the service behind it (~0.55 and ~0.6 ms
on the bench), so the same shape on both sides is the balanced one: under a forwarding load each
uses about a core. Other shapes, measured side by side on one stack (interleaved slices of the
ceiling's scan hop, three runs): 3x4 forwarded about as much for a little more gateway CPU per
request (0.56-0.59 ms against 0.54-0.55), 4x2 spent more (0.61-0.64 ms) and forwarded less, 2x8
and 1x8 forwarded no more. GATEWAY_WEB_CONCURRENCY / GATEWAY_WEB_THREADS still override it.
"""
from common.gunicorn_defaults import *  # noqa: F401,F403
from common.gunicorn_defaults import bind_for, shape

bind = bind_for("gateway")
worker_class, workers, threads = shape("gateway")
wsgi_app = "gateway:create_app()"
