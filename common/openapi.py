"""The OpenAPI document of a service, generated from the schemas its endpoints validate with."""
from __future__ import annotations

import re
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask

from common.endpoint import Api, EndpointDoc, openapi_path

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "object", "required": ["code", "message", "details"],
                             "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                                            "details": {"type": "object"}}}},
}


def build(app: Flask, title: str) -> dict[str, Any]:
    """Every endpoint of every Api registered on `app`, at its full path."""
    plugin = MarshmallowPlugin(schema_name_resolver=lambda schema: _schema_name(app.name, schema))
    spec = APISpec(title=title, version="1.0.0", openapi_version="3.0.3", plugins=[plugin])
    spec.components.schema("Error", ERROR_SCHEMA)
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    paths: dict[str, dict[str, Any]] = {}
    for api in app.extensions.get("apis", []):
        for doc in api.endpoints:
            full = (api.blueprint.url_prefix or "") + openapi_path(doc.rule)
            paths.setdefault(full, {})[doc.method.lower()] = _operation(api, doc)
    for path, operations in sorted(paths.items()):
        spec.path(path=path, operations=operations)
    return spec.to_dict()


def _operation(api: Api, doc: EndpointDoc) -> dict[str, Any]:
    summary, _, description = doc.summary.partition("\n")
    op: dict[str, Any] = {"tags": [api.tag], "summary": summary or doc.view.__name__,
                          "operationId": f"{api.tag}_{doc.view.__name__}", "security": [{"bearer": []}]}
    if description.strip():
        op["description"] = description.strip()
    params = [{"in": "path", "name": name, "required": True, "schema": {"type": "string"}}
              for name in _path_names(doc.rule)]
    if doc.query is not None:
        params.append({"in": "query", "schema": doc.query})
    if doc.method in ("POST", "PUT", "PATCH", "DELETE"):
        params.append({"in": "header", "name": "Idempotency-Key", "required": False,
                       "schema": {"type": "string", "maxLength": 200}})
    if params:
        op["parameters"] = params
    if doc.body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": doc.body}}}
    elif doc.content_type != "application/json":
        op["requestBody"] = {"required": True, "content": {doc.content_type: {"schema": {"type": "string"}}}}
    op["responses"] = {str(doc.status): _ok_response(doc), "default": {
        "description": "error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}}
    return op


def _ok_response(doc: EndpointDoc) -> dict[str, Any]:
    if doc.produces != "application/json":
        return {"description": "ok", "content": {doc.produces: {"schema": {"type": "string"}}}}
    if doc.response is None:
        return {"description": "ok", "content": {"application/json": {"schema": {"type": "object"}}}}
    schema: Any = doc.response
    if doc.page:
        schema = {"type": "object", "properties": {"items": {"type": "array", "items": doc.response},
                                                   "next_cursor": {"type": "string", "nullable": True}}}
    return {"description": "ok", "content": {"application/json": {"schema": schema}}}


def _schema_name(service: str, schema: Any) -> str:
    """Prefix component names with the service, so merged documents never collide."""
    cls = schema if isinstance(schema, type) else type(schema)
    return f"{service}.{cls.__name__}"


def _path_names(rule: str) -> list[str]:
    return re.findall(r"<(?:[a-z]+:)?([A-Za-z_]+)>", rule)
