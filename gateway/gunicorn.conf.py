"""gunicorn settings of gateway (the shared ones and why: common/gunicorn_defaults.py)."""
from common.gunicorn_defaults import *  # noqa: F401,F403
from common.gunicorn_defaults import bind_for

bind = bind_for("gateway")
wsgi_app = "gateway:create_app()"
