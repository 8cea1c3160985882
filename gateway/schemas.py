"""Request and response schemas of the gateway's own endpoints."""
from typing import Any

from marshmallow import fields, validate

from common.auth import ROLES
from common.i18n import LANGUAGES
from common.schemas import Name, RequestSchema, ResponseSchema, Text

PIN_RULE = validate.Regexp(r"^\d{4,12}$", error="A PIN is 4 to 12 digits.")


def roles_field(**kwargs: Any) -> fields.List:
    return fields.List(fields.String(validate=validate.OneOf(ROLES)),
                       validate=validate.Length(min=1, max=len(ROLES)), **kwargs)


class LoginIn(RequestSchema):
    badge = Name(required=True)
    pin = Text(required=True, max_length=32)
    device = Text(max_length=64, load_default="")


class OperatorOut(ResponseSchema):
    badge = fields.String()
    name = fields.String()
    roles = fields.List(fields.String())
    lang = fields.String()
    active = fields.Boolean()


class LoginOut(ResponseSchema):
    token = fields.String()
    operator = fields.Nested(OperatorOut)
    expires_in = fields.Integer()


class OperatorIn(RequestSchema):
    badge = Name(required=True)
    name = Name(required=True, max_length=100)
    roles = roles_field(required=True)
    pin = Text(required=True, max_length=32, validate=PIN_RULE)
    lang = fields.String(validate=validate.OneOf(LANGUAGES), load_default="zh-CN")


class OperatorPatch(RequestSchema):
    name = Name(max_length=100)
    roles = roles_field()
    pin = Text(max_length=32, validate=PIN_RULE)
    lang = fields.String(validate=validate.OneOf(LANGUAGES))
    active = fields.Boolean()


class MePatch(RequestSchema):
    lang = fields.String(required=True, validate=validate.OneOf(LANGUAGES))
