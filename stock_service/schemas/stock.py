"""Locations, balances, movements, moves, receipts and putaway."""
from marshmallow import fields, validate

from common.schemas import Code, Name, PageQuery, Quantity, QuerySchema, RequestSchema, ResponseSchema, Text
from stock_service.domain.ledger import TYPES
from stock_service.domain.stock import KINDS
from stock_service.schemas.fields import Flag


class LocationIn(RequestSchema):
    code = Name(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    zone = Text(max_length=16, load_default="")
    sequence = fields.Integer(strict=True, load_default=0, validate=validate.Range(min=0, max=10_000_000))
    allow_negative = Flag(load_default=False)


class LocationOut(ResponseSchema):
    code = fields.String()
    kind = fields.String()
    zone = fields.String()
    sequence = fields.Integer()
    allow_negative = fields.Boolean()


class LocationQuery(PageQuery):
    kind = fields.String(load_default=None, validate=validate.OneOf(KINDS))


class BalanceQuery(PageQuery):
    sku = Name(load_default=None)
    location = Name(load_default=None)


class BalanceOut(ResponseSchema):
    sku = fields.String()
    location = fields.String()
    lot = fields.String()
    qty = fields.Integer()


class AvailabilityOut(ResponseSchema):
    sku = fields.String()
    on_hand = fields.Integer()
    allocated = fields.Integer()
    available = fields.Integer()
    in_transit = fields.Integer()


class MovementQuery(PageQuery):
    sku = Name(load_default=None)
    location = Name(load_default=None)
    since = fields.AwareDateTime(load_default=None)
    type = fields.String(load_default=None, validate=validate.OneOf(TYPES))
    reference = Text(max_length=128, load_default=None)


class MovementOut(ResponseSchema):
    id = fields.Integer()
    type = fields.String()
    sku = fields.String()
    qty = fields.Integer()
    from_ = fields.String(attribute="from_location", data_key="from", allow_none=True)
    to = fields.String(attribute="to_location", allow_none=True)
    lot = fields.String()
    operator = fields.String()
    device = fields.String()
    reason = fields.String()
    reference = fields.String()
    at = fields.DateTime()


class MoveIn(RequestSchema):
    sku = Name(required=True)
    qty = Quantity(required=True)
    from_ = Name(required=True, data_key="from")
    to = Name(required=True)
    reason = Text(load_default="")
    lot = Text(max_length=64, load_default="")


class ReceiptLineIn(RequestSchema):
    sku = Name(required=True)
    qty = Quantity(required=True)


class ReceiptIn(RequestSchema):
    ref = Name(required=True)
    lines = fields.List(fields.Nested(ReceiptLineIn), required=True, validate=validate.Length(min=1, max=500))
    location = Name(load_default=None)


class ReceiptLineOut(ResponseSchema):
    id = fields.Integer()
    sku = fields.String()
    expected = fields.Integer()
    received = fields.Integer()


class ReceiptOut(ResponseSchema):
    id = fields.Integer()
    ref = fields.String()
    state = fields.String()
    location = fields.String()
    created_by = fields.String()
    created_at = fields.DateTime()
    lines = fields.List(fields.Nested(ReceiptLineOut))


class ReceiveIn(RequestSchema):
    code = Code(required=True)
    qty = Quantity(required=True)
    force = Flag(load_default=False)
    lot = Text(max_length=64, load_default="")


class ReceivedLineOut(ReceiptLineOut):
    receipt_id = fields.Integer()


class SuggestQuery(QuerySchema):
    sku = Name(required=True)


class SuggestOut(ResponseSchema):
    sku = fields.String()
    location = fields.String()
    reason = fields.String()


class PutawayIn(RequestSchema):
    code = Code(required=True)
    qty = Quantity(required=True)
    to = Name(required=True)
    from_ = Name(data_key="from", load_default=None)
    lot = Text(max_length=64, load_default="")
