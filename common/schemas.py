"""Marshmallow building blocks that make bad input fail the same way in every service.

Unknown fields raise, strings have a length limit and refuse control characters, quantities are
strict positive integers (no 1.5, no "2", no true).
"""
from __future__ import annotations

import unicodedata
from typing import Any

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, validate

MAX_TEXT = 200
MAX_CODE = 128
MAX_QTY = 1_000_000
GS = "\x1d"  # GS1 group separator: the one control character a scanned code may carry


def _has_control(value: str, allowed: str = "") -> bool:
    return any(unicodedata.category(ch) == "Cc" and ch not in allowed for ch in value)


class Text(fields.String):
    """A human string: bounded length, no control characters (newlines only where allowed)."""

    def __init__(self, *, max_length: int = MAX_TEXT, multiline: bool = False, **kwargs: Any):
        self.max_length = max_length
        self.allowed = "\n\r\t" if multiline else ""
        given = kwargs.pop("validate", None)
        validators = [] if given is None else list(given) if isinstance(given, (list, tuple)) else [given]
        # The length limit holds even when a field adds its own validators (a pattern, a choice).
        if not any(isinstance(v, validate.Length) for v in validators):
            validators.insert(0, validate.Length(max=max_length))
        super().__init__(validate=validators, **kwargs)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        result = super()._deserialize(value, attr, data, **kwargs)
        if _has_control(result, self.allowed):
            raise ValidationError("Control characters are not allowed.")
        return result


class Name(Text):
    """A required, non-blank identifier such as a SKU, bin or printer name."""

    def __init__(self, **kwargs: Any):
        kwargs.setdefault("validate", validate.Length(min=1, max=kwargs.get("max_length", 64)))
        kwargs.setdefault("max_length", 64)
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        result = super()._deserialize(value, attr, data, **kwargs)
        if not result.strip() or result != result.strip():
            raise ValidationError("Must not be blank or start/end with spaces.")
        return result


class Code(Text):
    """A scanned code: bounded, printable, except the GS1 separator."""

    def __init__(self, **kwargs: Any):
        kwargs.setdefault("validate", validate.Length(min=1, max=MAX_CODE))
        super().__init__(max_length=MAX_CODE, **kwargs)
        self.allowed = GS


class Quantity(fields.Integer):
    """A count of units: a strict integer from 1 up to a sane ceiling."""

    def __init__(self, *, minimum: int = 1, maximum: int = MAX_QTY, **kwargs: Any):
        kwargs.setdefault("validate", validate.Range(min=minimum, max=maximum))
        super().__init__(strict=True, **kwargs)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool):
            raise ValidationError("Not a valid integer.")
        return super()._deserialize(value, attr, data, **kwargs)


class RequestSchema(Schema):
    """A request body: unknown fields are an error."""

    class Meta:
        unknown = RAISE


class QuerySchema(Schema):
    """Query parameters: extra ones (cache busters) are ignored."""

    class Meta:
        unknown = EXCLUDE


class PageQuery(QuerySchema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))
    cursor = Text(max_length=64, load_default=None)


class ResponseSchema(Schema):
    """A response body; dumping never validates, so it stays cheap."""
