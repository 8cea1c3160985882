"""Order requests and answers."""
from marshmallow import ValidationError, fields, post_load, validate

from common.schemas import Code, Name, PageQuery, Quantity, QuerySchema, RequestSchema, ResponseSchema, Text

STATES = ("printed", "picking", "picked", "verified", "shipped", "intercepted", "short", "cancelled", "returned")


class StrictBoolean(fields.Boolean):
    """true or false only: 1, "yes" and "true" as a string are wrong types."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise ValidationError("Must be true or false.")
        return value


class LineIn(RequestSchema):
    sku = Name(required=True)
    qty = Quantity(required=True)


class OrderIn(RequestSchema):
    order_no = Name(required=True)
    shop = Text(load_default="")
    waybill_no = Code(load_default=None, allow_none=True, validate=validate.Length(min=1, max=64))
    carrier = Text(max_length=32, load_default=None, allow_none=True)
    paid = StrictBoolean(load_default=True)
    buyer_note = Text(max_length=1000, multiline=True, load_default="", allow_none=True)
    seller_note = Text(max_length=1000, multiline=True, load_default="", allow_none=True)
    lines = fields.List(fields.Nested(LineIn), required=True, validate=validate.Length(min=1, max=500))
    merge_into = Name(load_default=None, allow_none=True)

    @post_load
    def normalise(self, data, **_kwargs):
        if data.get("waybill_no"):
            data["waybill_no"] = data["waybill_no"].strip().upper()
        return data


class NoteIn(RequestSchema):
    text = Text(required=True, max_length=1000, multiline=True, validate=validate.Length(min=1, max=1000))


class CancelIn(RequestSchema):
    reason = fields.String(required=True, validate=validate.OneOf(("refund", "changed", "cancelled")))


class ImportQuery(QuerySchema):
    partial = fields.Boolean(load_default=False)


class OrderQuery(PageQuery):
    waybill = Text(max_length=64, load_default=None)
    state = fields.String(load_default=None, validate=validate.OneOf(STATES))
    date = fields.Date(load_default=None)
    q = Text(max_length=64, load_default=None)


class LineOut(ResponseSchema):
    sku = fields.String()
    qty = fields.Integer()
    returned = fields.Integer()


class NoteOut(ResponseSchema):
    id = fields.Integer()
    kind = fields.String()
    text = fields.String()
    operator = fields.String()
    created_at = fields.DateTime()


class EventOut(ResponseSchema):
    kind = fields.String()
    at = fields.DateTime()
    operator = fields.String()
    operator_name = fields.String()
    device = fields.String()
    code = fields.String(allow_none=True)
    result = fields.String(allow_none=True)
    sku = fields.String(allow_none=True)
    qty = fields.Integer()
    pick_id = fields.Integer(allow_none=True)
    verification_id = fields.Integer(allow_none=True)
    detail = fields.Dict()


class OrderOut(ResponseSchema):
    order_no = fields.String()
    shop = fields.String()
    waybill_no = fields.String(allow_none=True)
    carrier = fields.String(allow_none=True)
    paid = fields.Boolean()
    state = fields.String()
    merge_into = fields.String(allow_none=True)
    basket = fields.String(allow_none=True)
    intercept_reason = fields.String(allow_none=True)
    lines = fields.List(fields.Nested(LineOut))
    notes = fields.Method("sorted_notes")
    created_at = fields.DateTime()
    picked_at = fields.DateTime(allow_none=True)
    verified_at = fields.DateTime(allow_none=True)
    shipped_at = fields.DateTime(allow_none=True)
    intercepted_at = fields.DateTime(allow_none=True)
    returned_at = fields.DateTime(allow_none=True)

    def sorted_notes(self, order):
        from scan_service.domain.orders import sorted_notes

        return NoteOut(many=True).dump(sorted_notes(list(order.notes)))


class OrderDetailOut(OrderOut):
    events = fields.List(fields.Nested(EventOut))
