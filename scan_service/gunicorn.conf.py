"""gunicorn settings of scan_service (the shared ones and why: common/gunicorn_defaults.py)."""
from common.gunicorn_defaults import *  # noqa: F401,F403
from common.gunicorn_defaults import bind_for, shape

bind = bind_for("scan")
worker_class, workers, threads = shape("scan")
wsgi_app = "scan_service:create_app()"
