"""`/api/openapi.json`: the gateway's own document merged with each service's."""
from __future__ import annotations

import requests
from flask import Blueprint, Response, current_app

from common import openapi
from common.jsonutil import dumps

bp = Blueprint("openapi_merge", __name__)


@bp.get("/api/openapi.json")
def merged() -> Response:
    """One document for every path a client may call through the gateway."""
    doc = openapi.build(current_app, "Warehouse floor API")
    for name, url in current_app.config["SETTINGS"].service_urls.items():
        try:
            part = requests.get(f"{url}/api/{name}/openapi.json", timeout=2).json()
        except (requests.RequestException, ValueError):
            continue
        doc["paths"].update(part.get("paths", {}))
        for kind, items in part.get("components", {}).items():
            doc.setdefault("components", {}).setdefault(kind, {}).update(items)
    return Response(dumps(doc), mimetype="application/json")
