"""Picking, verification, returns, stats and audit requests and answers."""
from marshmallow import ValidationError, fields, validate, validates_schema

from common.schemas import Code, Name, Quantity, QuerySchema, RequestSchema, ResponseSchema
from scan_service.schemas.orders import LineIn


class PickIn(RequestSchema):
    basket = Code(required=True)
    orders = fields.List(Name(), load_default=None, allow_none=True, validate=validate.Length(max=50))
    picker = Code(load_default=None, allow_none=True)
    max_orders = fields.Integer(load_default=5, strict=True, validate=validate.Range(min=1, max=50))


class CodeIn(RequestSchema):
    code = Code(required=True)


class VerifyScanIn(RequestSchema):
    code = Code(required=True)
    qty = Quantity(load_default=1, maximum=10_000)


class PickShortIn(RequestSchema):
    location = Name(required=True)
    sku = Name(required=True)
    qty = Quantity(required=True)


class VerifyShortIn(RequestSchema):
    sku = Name(required=True)
    qty = Quantity(required=True)


class WaybillIn(RequestSchema):
    waybill = Code(required=True)


class ReturnIn(RequestSchema):
    waybill = Code(load_default=None)
    order_no = Name(load_default=None)
    lines = fields.List(fields.Nested(LineIn), required=True, validate=validate.Length(min=1, max=500))
    condition = fields.String(required=True, validate=validate.OneOf(("ok", "damaged")))

    @validates_schema
    def one_reference(self, data, **_kwargs):
        if bool(data.get("waybill")) == bool(data.get("order_no")):
            raise ValidationError("Give exactly one of waybill or order_no.", field_name="waybill")


class DayQuery(QuerySchema):
    date = fields.Date(required=True)


class TaskOut(ResponseSchema):
    seq = fields.Integer()
    location = fields.String()
    sku = fields.String()
    name = fields.String()
    image_url = fields.String(allow_none=True)
    qty = fields.Integer()
    picked = fields.Integer()
    short = fields.Integer()


class PickOut(ResponseSchema):
    id = fields.Integer()
    basket = fields.String()
    picker = fields.String()
    picker_name = fields.String()
    state = fields.String()
    location = fields.String(allow_none=True)
    orders = fields.List(fields.String())
    tasks = fields.List(fields.Nested(TaskOut))
    created_at = fields.DateTime()


class PickScanOut(ResponseSchema):
    result = fields.String()
    message = fields.String()
    task = fields.Nested(TaskOut, allow_none=True)
    next_task = fields.Nested(TaskOut, allow_none=True)
    done = fields.Boolean()
    next_state = fields.String()
    location = fields.String(allow_none=True)
    scan = fields.Dict()


class PickShortOut(ResponseSchema):
    task = fields.Nested(TaskOut)
    next_task = fields.Nested(TaskOut, allow_none=True)
    done = fields.Boolean()
    count = fields.Dict(allow_none=True)


class PickDoneOut(ResponseSchema):
    id = fields.Integer()
    state = fields.String()
    orders = fields.List(fields.String())


class VerifyLineOut(ResponseSchema):
    sku = fields.String()
    name = fields.String()
    expected = fields.Integer()
    scanned = fields.Integer()


class VerificationOut(ResponseSchema):
    id = fields.Integer()
    waybill = fields.String()
    state = fields.String()
    verifier = fields.String()
    orders = fields.List(fields.Dict())
    notes = fields.List(fields.Dict())
    alerts = fields.List(fields.Dict())
    lines = fields.List(fields.Nested(VerifyLineOut))
    next_state = fields.String()


class VerifyScanOut(ResponseSchema):
    result = fields.String()
    message = fields.String()
    line = fields.Nested(VerifyLineOut, allow_none=True)
    lines = fields.List(fields.Nested(VerifyLineOut))
    complete = fields.Boolean()
    next_state = fields.String()
    scan = fields.Dict()


class ReturnOut(ResponseSchema):
    id = fields.Integer()
    order_no = fields.String()
    reference = fields.String()
    condition = fields.String()
    lines = fields.List(fields.Dict())
    created_at = fields.DateTime()


class HourOut(ResponseSchema):
    hour = fields.Integer()
    items = fields.Integer()


class StatsOut(ResponseSchema):
    badge = fields.String()
    name = fields.String()
    orders_picked = fields.Integer()
    items_picked = fields.Integer()
    verifications = fields.Integer()
    items_verified = fields.Integer()
    wrong_scans = fields.Integer()
    shortages = fields.Integer()
    first_scan_at = fields.DateTime(allow_none=True)
    last_scan_at = fields.DateTime(allow_none=True)
    items_per_hour = fields.Float()
    hours = fields.List(fields.Nested(HourOut))


class OutboxOut(ResponseSchema):
    id = fields.Integer()
    order_no = fields.String()
    state = fields.String()
    attempts = fields.Integer()
    last_error = fields.String(allow_none=True)
    created_at = fields.DateTime()
    delivered_at = fields.DateTime(allow_none=True)


class RedriveIn(RequestSchema):
    older_than_seconds = fields.Integer(load_default=0, strict=True, validate=validate.Range(min=0, max=86400))


class OutboxQuery(QuerySchema):
    state = fields.String(load_default="pending", validate=validate.OneOf(("pending", "delivered", "failed")))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))




class OrderSummaryOut(ResponseSchema):
    order_no = fields.String()
    waybill_no = fields.String(allow_none=True)
    state = fields.String()
    shop = fields.String()
    created_at = fields.DateTime()
    shipped_at = fields.DateTime(allow_none=True)
    intercepted_at = fields.DateTime(allow_none=True)


class AuditOut(ResponseSchema):
    verified_not_shipped = fields.List(fields.Nested(OrderSummaryOut))
    shipped_not_verified = fields.List(fields.Nested(OrderSummaryOut))
    printed_without_waybill = fields.List(fields.Nested(OrderSummaryOut))
    intercepted_open = fields.List(fields.Nested(OrderSummaryOut))
    picked_not_verified = fields.List(fields.Nested(OrderSummaryOut))
    shipments_undelivered = fields.List(fields.Dict())
    totals = fields.Dict()
