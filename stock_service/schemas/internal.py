"""Bodies of the service-to-service endpoints (docs/internal-api.md)."""
from marshmallow import ValidationError, fields, validate, validates_schema

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


class AllocationsIn(RequestSchema):
    """A basket's orders, each as `AllocationIn`; an order number at most once."""

    orders = fields.List(fields.Nested(AllocationIn), required=True, validate=validate.Length(min=1, max=100))
    # The pick plan of all the orders' lines, in the same call: a pick start asks stock once.
    plan = fields.Boolean(load_default=False)

    @validates_schema
    def _each_order_once(self, data: dict, **_kwargs: object) -> None:
        numbers = [order["order_no"] for order in data.get("orders", [])]
        if len(set(numbers)) != len(numbers):
            raise ValidationError("An order number appears more than once.", "orders")


class AllocationsOut(ResponseSchema):
    allocations = fields.List(fields.Nested(AllocationOut))
    plan = fields.Raw()  # as `pick-plan` answers it, when asked for


class ItemsIn(RequestSchema):
    skus = fields.List(Name(), required=True, validate=LINES)


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
