"""One decorator per endpoint: role check, schema in, domain call, schema out, OpenAPI entry.

    api = Api(bp, "stock")

    @api.route("POST", "/skus", body=SkuIn, response=SkuOut, status=201, roles=("stock_manager",))
    def create_sku(body):
        with transaction() as s:
            return skus.create(s, body)

State-changing methods go through the Idempotency-Key wrapper automatically.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from flask import Blueprint, Response, current_app, request
from marshmallow import Schema

from common import db, idempotency
from common.auth import check_roles
from common.errors import InvalidInputError, MalformedJsonError
from common.jsonutil import dumps, loads

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass
class Page:
    """A list answer: `{"items": [...], "next_cursor": ...}`."""

    items: list[Any]
    next_cursor: str | None = None


@dataclass
class EndpointDoc:
    method: str
    rule: str
    view: Callable
    body: Schema | None
    query: Schema | None
    response: Schema | None
    status: int
    roles: tuple[str, ...]
    page: bool
    content_type: str
    produces: str
    summary: str
    errors: tuple[int, ...] = field(default_factory=tuple)


def _instance(schema: type[Schema] | Schema | None) -> Schema | None:
    return schema() if isinstance(schema, type) else schema


class Api:
    """The endpoints of one blueprint, kept so the OpenAPI document can be generated from them."""

    def __init__(self, blueprint: Blueprint, tag: str):
        self.blueprint = blueprint
        self.tag = tag
        self.endpoints: list[EndpointDoc] = []
        blueprint.record_once(lambda state: state.app.extensions.setdefault("apis", []).append(self))

    def route(self, method: str, rule: str, *, body: Any = None, query: Any = None,
              response: Any = None, status: int = 200, roles: Iterable[str] = (), page: bool = False,
              content_type: str = "application/json", produces: str = "application/json",
              errors: Iterable[int] = (), idempotent: bool = True, key_read_first: bool = True,
              optimistic: bool = False) -> Callable:
        """One endpoint. `key_read_first=False`: its work is all in its own transaction (or its calls
        out are idempotent), so a repeated Idempotency-Key is found by the key's insert at the
        commit, not by a read before the work (common.idempotency.run). `optimistic=True` (implies
        it): its work reads without locks and writes with a claim, and runs again when the claim is
        lost (common.db.optimistically)."""
        key_read_first = key_read_first and not optimistic
        body_schema, query_schema, out_schema = _instance(body), _instance(query), _instance(response)
        roles = tuple(roles)

        def decorate(view: Callable) -> Callable:
            doc = EndpointDoc(method, rule, view, body_schema, query_schema, out_schema, status, roles,
                              page, content_type, produces, (view.__doc__ or "").strip(), tuple(errors))
            self.endpoints.append(doc)

            @wraps(view)
            def handler(**url_args: Any) -> Response:
                check_roles(roles)
                kwargs = dict(url_args)
                if query_schema is not None:
                    kwargs["query"] = query_schema.load(request.args.to_dict())
                if idempotent and method in UNSAFE_METHODS:
                    table = current_app.extensions["idempotency_table"]

                    def run() -> Response:
                        return idempotency.run(lambda: _call(doc, kwargs), table, read_first=key_read_first)
                    return db.optimistically(run) if optimistic else run()
                return _call(doc, kwargs)

            self.blueprint.add_url_rule(rule, view.__name__, handler, methods=[method])
            return view

        return decorate


def _call(doc: EndpointDoc, kwargs: dict[str, Any]) -> Response:
    if doc.body is not None:
        kwargs["body"] = doc.body.load(_json_body())
    elif doc.content_type != "application/json":
        kwargs["body"] = request.get_data(cache=True)
    result = doc.view(**kwargs)
    if isinstance(result, Response):
        return result
    return _serialise(doc, result)


def _json_body() -> dict[str, Any]:
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    try:
        data = loads(raw)
    except ValueError as exc:
        raise MalformedJsonError(details={"position": str(exc)[:120]}) from exc
    if not isinstance(data, dict):
        raise InvalidInputError(details={"body": "must be a JSON object"})
    return data


def _serialise(doc: EndpointDoc, result: Any) -> Response:
    status = doc.status
    if isinstance(result, tuple):
        result, status = result
    schema = doc.response
    if isinstance(result, Page):
        items = schema.dump(result.items, many=True) if schema else result.items
        payload: Any = {"items": items, "next_cursor": result.next_cursor}
    else:
        payload = schema.dump(result) if schema is not None else result
    return Response(dumps(payload), status=status, mimetype="application/json")


def openapi_path(rule: str) -> str:
    """Flask's `<int:id>` becomes OpenAPI's `{id}`."""
    return re.sub(r"<(?:[a-z]+:)?([A-Za-z_]+)>", r"{\1}", rule)
