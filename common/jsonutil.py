"""Fast JSON for every response body, and the Flask provider that uses it."""
from __future__ import annotations

from typing import Any

import orjson
from flask.json.provider import JSONProvider

_OPTIONS = orjson.OPT_NON_STR_KEYS


def dumps(obj: Any) -> bytes:
    return orjson.dumps(obj, option=_OPTIONS)


def loads(data: str | bytes) -> Any:
    return orjson.loads(data)


class OrjsonProvider(JSONProvider):
    """Flask's JSON, through orjson: the serialiser is on every request's hot path."""

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        return orjson.dumps(obj, option=_OPTIONS).decode()

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return orjson.loads(s)

    def response(self, *args: Any, **kwargs: Any):  # type: ignore[override]
        obj = self._prepare_response_obj(args, kwargs)
        return self._app.response_class(dumps(obj), mimetype="application/json")
