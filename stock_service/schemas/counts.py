"""Cycle count requests and answers; nothing a counter sees carries the expected quantity."""
from marshmallow import ValidationError, fields, validate, validates_schema

from common.schemas import Code, Name, PageQuery, Quantity, RequestSchema, ResponseSchema, Text
from stock_service.domain.counts import REASONS, STATES


class CountIn(RequestSchema):
    locations = fields.List(Name(), validate=validate.Length(min=1, max=500), load_default=None)
    skus = fields.List(Name(), validate=validate.Length(min=1, max=500), load_default=None)

    @validates_schema
    def _one_of(self, data: dict, **_kwargs: object) -> None:
        if (data.get("locations") is None) == (data.get("skus") is None):
            raise ValidationError("Give either locations or skus.", field_name="locations")


class CountOut(ResponseSchema):
    id = fields.Integer()
    state = fields.String()
    locations = fields.List(fields.String())
    skus = fields.List(fields.String(), allow_none=True)
    created_by = fields.String()
    created_at = fields.DateTime()


class CountQuery(PageQuery):
    state = fields.String(load_default=None, validate=validate.OneOf(STATES))


class EntryIn(RequestSchema):
    location = Name(required=True)
    code = Code(required=True)
    qty = Quantity(required=True)


class EntryOut(ResponseSchema):
    """What the counter's handheld shows: what was scanned, never what was expected."""

    id = fields.Integer()
    count_id = fields.Integer()
    location = fields.String()
    sku = fields.String()
    name = fields.String()
    qty = fields.Integer()
    counted = fields.Integer()


class SubmitIn(RequestSchema):
    pass


class ApproveIn(RequestSchema):
    reason = fields.String(required=True, validate=validate.OneOf(REASONS))
    note = Text(load_default="")


class RejectIn(RequestSchema):
    note = Text(load_default="")
