"""gunicorn settings of gateway (the shared ones and why: common/gunicorn_defaults.py)."""
from common.gunicorn_defaults import *  # noqa: F401,F403
from common.gunicorn_defaults import bind_for, shape

bind = bind_for("gateway")
worker_class, workers, threads = shape("gateway")
wsgi_app = "gateway:create_app()"
