"""gunicorn settings of print_service (the shared ones and why: common/gunicorn_defaults.py)."""
from common.gunicorn_defaults import *  # noqa: F401,F403
from common.gunicorn_defaults import bind_for, shape

bind = bind_for("print")
worker_class, workers, threads = shape("print")
wsgi_app = "print_service:create_app()"
