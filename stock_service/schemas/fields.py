"""Fields the stock requests need beyond common.schemas."""
from typing import Any

from marshmallow import ValidationError, fields


class Flag(fields.Boolean):
    """A JSON true/false only: "yes", 1 or "true" as a string are refused, not guessed."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise ValidationError("Must be true or false.")
        return value
