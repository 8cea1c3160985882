"""Bodies of the service-to-service endpoints (docs/internal-api.md)."""
from marshmallow import fields, validate

from common.schemas import Name, Quantity, RequestSchema, ResponseSchema, Text

LINES = validate.Length(min=1, max=500)


class LineIn(RequestSchema):
    sku = Name(required=True)
    qty = Quantity(required=True)


class PickLineIn(LineIn):
    from_ = Name(required=True, data_key="from")


class AllocationIn(RequestSchema):
    order_no = Name(required=True)
    lines = fields.List(fields.Nested(LineIn), required=True, validate=LINES)


class LineOut(ResponseSchema):
    sku = fields.String()
    qty = fields.Integer()


class AllocationOut(ResponseSchema):
    order_no = fields.String()
    state = fields.String()
    lines = fields.List(fields.Nested(LineOut))


class EmptyIn(RequestSchema):
    pass


class PlanIn(RequestSchema):
    lines = fields.List(fields.Nested(LineIn), required=True, validate=LINES)


class PickIn(RequestSchema):
    reference = Text(required=True, max_length=128, validate=validate.Length(min=1, max=128))
    basket = Name(required=True)
    lines = fields.List(fields.Nested(PickLineIn), required=True, validate=LINES)


class ShipmentIn(RequestSchema):
    order_no = Name(required=True)
    basket = Name(load_default=None, allow_none=True)
    lines = fields.List(fields.Nested(LineIn), required=True, validate=LINES)


class InterceptIn(RequestSchema):
    order_no = Name(required=True)
    basket = Name(required=True)
    lines = fields.List(fields.Nested(LineIn), required=True, validate=LINES)


class ReturnIn(RequestSchema):
    reference = Text(required=True, max_length=128, validate=validate.Length(min=1, max=128))
    order_no = Name(required=True)
    lines = fields.List(fields.Nested(LineIn), required=True, validate=LINES)
    condition = fields.String(load_default="ok", validate=validate.OneOf(("ok", "damaged")))
