"""gunicorn settings of stock_service (the shared ones and why: common/gunicorn_defaults.py)."""
from common.gunicorn_defaults import *  # noqa: F401,F403
from common.gunicorn_defaults import bind_for, shape

bind = bind_for("stock")
worker_class, workers, threads = shape("stock")
wsgi_app = "stock_service:create_app()"
