"""`/healthz` of the whole system: the gateway's own db and Redis, and each service's health."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import requests
from flask import Blueprint, Response, current_app

from common.health import check_db, check_redis
from common.jsonutil import dumps

bp = Blueprint("health", __name__)
_pool = ThreadPoolExecutor(max_workers=3, thread_name_prefix="health")
TIMEOUT_SECONDS = 2.0


def _service_state(url: str) -> str:
    try:
        response = requests.get(url + "/healthz", timeout=TIMEOUT_SECONDS)
    except requests.RequestException:
        return "down"
    return "ok" if response.status_code == 200 else "down"


@bp.get("/healthz")
def healthz() -> Response:
    """ok: everything answers; degraded: a service is down but the gateway serves; 503: it cannot."""
    urls = current_app.config["SETTINGS"].service_urls
    futures = {name: _pool.submit(_service_state, url) for name, url in urls.items()}
    services = {name: future.result() for name, future in futures.items()}
    body = {"status": "ok", "services": services, "db": check_db(), "redis": check_redis()}
    if body["db"] != "ok" or body["redis"] != "ok":
        body["status"] = "down"
        return Response(dumps(body), status=503, mimetype="application/json")
    if any(state != "ok" for state in services.values()):
        body["status"] = "degraded"
    return Response(dumps(body), status=200, mimetype="application/json")
