"""Every route a service serves is in its OpenAPI document; every api.md path is in the merged one."""
from __future__ import annotations

import re

import pytest
import requests

from common.endpoint import openapi_path

SERVICES = ("stock", "scan", "print")
METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}
# Routes a service serves that are not part of its API: probes, metrics, the document itself.
NOT_API = re.compile(r"^/(healthz|metrics)$|openapi\.json$|^/static/")

# Every path api.md names (through the gateway), with its method; `{}` stands for any parameter.
API_MD_PATHS = {
    ("POST", "/api/auth/login"), ("POST", "/api/auth/logout"), ("GET", "/api/auth/me"),
    ("POST", "/api/auth/operators"),
    ("POST", "/api/stock/skus"), ("POST", "/api/stock/skus/import"), ("GET", "/api/stock/items/lookup"),
    ("POST", "/api/stock/locations"), ("GET", "/api/stock/balances"), ("GET", "/api/stock/skus/{}/availability"),
    ("POST", "/api/stock/receipts"), ("POST", "/api/stock/receipts/{}/receive"),
    ("GET", "/api/stock/putaway/suggest"), ("POST", "/api/stock/putaway"), ("POST", "/api/stock/moves"),
    ("GET", "/api/stock/movements"), ("POST", "/api/stock/counts"), ("POST", "/api/stock/counts/{}/entries"),
    ("POST", "/api/stock/counts/{}/submit"), ("GET", "/api/stock/counts/{}/variances"),
    ("POST", "/api/stock/counts/{}/lines/{}/approve"), ("POST", "/api/stock/counts/{}/lines/{}/reject"),
    ("GET", "/api/stock/reports/negative"), ("GET", "/api/stock/reports/low"),
    ("POST", "/api/scan/orders"), ("POST", "/api/scan/orders/import"), ("GET", "/api/scan/orders/{}"),
    ("GET", "/api/scan/orders"), ("POST", "/api/scan/orders/{}/notes"), ("POST", "/api/scan/orders/{}/cancel"),
    ("POST", "/api/scan/picks"), ("POST", "/api/scan/picks/{}/scan"), ("POST", "/api/scan/picks/{}/short"),
    ("POST", "/api/scan/picks/{}/complete"), ("POST", "/api/scan/verifications"),
    ("POST", "/api/scan/verifications/{}/scan"), ("POST", "/api/scan/verifications/{}/complete"),
    ("POST", "/api/scan/verifications/{}/short"), ("POST", "/api/scan/returns"),
    ("GET", "/api/scan/stats/operators"), ("GET", "/api/scan/audit"),
    ("POST", "/api/print/printers"), ("GET", "/api/print/printers"), ("GET", "/api/print/printers/{}/status"),
    ("POST", "/api/print/printers/{}/pause"), ("POST", "/api/print/printers/{}/resume"),
    ("POST", "/api/print/jobs"), ("POST", "/api/print/batches"), ("GET", "/api/print/jobs/{}"),
    ("GET", "/api/print/jobs"), ("POST", "/api/print/jobs/{}/cancel"), ("POST", "/api/print/jobs/{}/reprint"),
    ("GET", "/api/print/jobs/{}/zpl"), ("GET", "/api/print/jobs/{}/preview.png"), ("POST", "/api/print/preview"),
}


def _shape(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path)


def _resolve(doc: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _routes(app) -> set[tuple[str, str]]:
    return {(method, openapi_path(rule.rule)) for rule in app.url_map.iter_rules()
            if not NOT_API.search(rule.rule) for method in rule.methods & METHODS}


def _endpoints(app) -> dict[tuple[str, str], object]:
    return {(doc.method, (api.blueprint.url_prefix or "") + openapi_path(doc.rule)): doc
            for api in app.extensions.get("apis", []) for doc in api.endpoints}


@pytest.mark.parametrize("name", SERVICES)
def test_openapi_lists_every_route(apps, name):
    """Every route of the service's Flask app is an operation of /api/<svc>/openapi.json."""
    app = apps[name]
    doc = app.test_client().get(f"/api/{name}/openapi.json").get_json()
    documented = {(method.upper(), path) for path, ops in doc["paths"].items() for method in ops}
    routes = _routes(app)
    assert routes, name
    assert routes - documented == set()
    assert documented - routes == set()


@pytest.mark.parametrize("name", SERVICES)
def test_openapi_request_schemas_match_validation(apps, name):
    """Each operation's request body and query parameters are the schema the endpoint validates with."""
    app = apps[name]
    doc = app.test_client().get(f"/api/{name}/openapi.json").get_json()
    for (method, path), endpoint in _endpoints(app).items():
        op = doc["paths"][path][method.lower()]
        if endpoint.body is not None:
            schema = _resolve(doc, op["requestBody"]["content"]["application/json"]["schema"])
            wanted = {f.data_key or n for n, f in endpoint.body.fields.items() if not f.dump_only}
            assert set(schema.get("properties", {})) == wanted, (method, path)
        elif endpoint.content_type != "application/json":
            assert endpoint.content_type in op["requestBody"]["content"], (method, path)
        if endpoint.query is not None:
            names = {p["name"] for p in op.get("parameters", []) if p["in"] == "query"}
            wanted = {f.data_key or n for n, f in endpoint.query.fields.items() if not f.dump_only}
            assert names == wanted, (method, path)
        assert str(endpoint.status) in op["responses"], (method, path)


def test_gateway_openapi_lists_its_own_routes(apps):
    """The gateway's own /api/auth endpoints are in the document it serves."""
    app = apps["gateway"]
    doc = app.test_client().get("/api/openapi.json").get_json()
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    own = {route for route in _routes(app) if route[1].startswith("/api/auth/")}
    assert own and own - documented == set()


def test_merged_openapi_has_every_api_md_path(live):
    """The live gateway's /api/openapi.json holds every path api.md promises, each service merged in."""
    doc = requests.get(live.url() + "/api/openapi.json", timeout=10).json()
    documented = {(m.upper(), _shape(p)) for p, ops in doc["paths"].items() for m in ops}
    assert API_MD_PATHS - documented == set()
    for name in SERVICES:
        part = requests.get(f"{live.url()}/api/{name}/openapi.json", timeout=10).json()
        assert set(part["paths"]) <= set(doc["paths"]), name
