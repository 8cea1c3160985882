"""Requests and answers of the printing endpoints."""
from marshmallow import Schema, fields, validate

from common.schemas import Name, PageQuery, Quantity, QuerySchema, RequestSchema, ResponseSchema, Text
from print_service.schemas.labels import TEMPLATES

PRINTER_NAME = validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$",
                               error="Letters, digits, '.', '_' and '-' only.")
MAX_COPIES = 500
MAX_BATCH = 500
JOB_STATES = ("queued", "sending", "sent", "retrying", "failed", "cancelled", "held")


class LabelStock(Schema):
    dpi = fields.Integer(strict=True, load_default=203, validate=validate.OneOf((203, 300)))
    width_mm = fields.Float(load_default=60, validate=validate.Range(min=20, max=120))
    height_mm = fields.Float(load_default=40, validate=validate.Range(min=10, max=200))


class PrinterIn(RequestSchema, LabelStock):
    name = Name(required=True, validate=PRINTER_NAME)
    uri = Text(required=True, max_length=500, validate=validate.Length(min=1, max=500))
    location = Text(load_default="")
    font = Text(load_default="E:ANMDS.TTF", validate=validate.Regexp(r"^[A-Z]:[A-Za-z0-9_.-]{1,40}$"))
    retries = fields.Integer(strict=True, load_default=5, validate=validate.Range(min=0, max=10))
    retry_interval_s = fields.Integer(strict=True, load_default=5, validate=validate.Range(min=1, max=300))


class PrinterOut(ResponseSchema):
    name = fields.String()
    uri = fields.String()
    dpi = fields.Integer()
    width_mm = fields.Float()
    height_mm = fields.Float()
    location = fields.String()
    font = fields.String()
    retries = fields.Integer()
    retry_interval_s = fields.Integer()
    state = fields.String()
    paused = fields.Boolean()
    paused_reason = fields.String(allow_none=True)
    checked_at = fields.DateTime(allow_none=True)
    waiting = fields.Integer(dump_default=None)


class PrinterStatusOut(PrinterOut):
    detail = fields.String()


class MoveIn(RequestSchema):
    to = Name(required=True, validate=PRINTER_NAME)


class MoveOut(ResponseSchema):
    moved = fields.List(fields.String())
    to = fields.String()


class JobIn(RequestSchema):
    printer = Name(required=True)
    template = Text(required=True, validate=validate.OneOf(TEMPLATES))
    data = fields.Dict(required=True)
    copies = Quantity(load_default=1, maximum=MAX_COPIES)


class BatchLabelIn(RequestSchema):
    template = Text(required=True, validate=validate.OneOf(TEMPLATES))
    data = fields.Dict(required=True)
    copies = Quantity(load_default=1, maximum=MAX_COPIES)


class BatchIn(RequestSchema):
    printer = Name(required=True)
    labels = fields.List(fields.Nested(BatchLabelIn), required=True,
                         validate=validate.Length(min=1, max=MAX_BATCH))


class ReprintIn(RequestSchema):
    printer = Name(load_default=None, allow_none=True)
    copies = Quantity(load_default=None, allow_none=True, maximum=MAX_COPIES)


class PreviewIn(RequestSchema, LabelStock):
    template = Text(required=True, validate=validate.OneOf(TEMPLATES))
    data = fields.Dict(required=True)
    printer = Name(load_default=None, allow_none=True)


class JobQuery(PageQuery):
    printer = Text(max_length=64, load_default=None)
    state = Text(load_default=None, validate=validate.OneOf(JOB_STATES))
    batch = Text(max_length=36, load_default=None)
    cursor = Text(max_length=18, load_default=None, validate=validate.Regexp(r"^\d{1,18}$"))


class EventOut(ResponseSchema):
    at = fields.DateTime()
    event = fields.String()
    state = fields.String()
    attempt = fields.Integer()
    operator = fields.String(allow_none=True)
    detail = fields.String(allow_none=True)


class JobOut(ResponseSchema):
    id = fields.String()
    printer = fields.String()
    template = fields.String()
    data = fields.Dict()
    copies = fields.Integer()
    state = fields.String()
    attempts = fields.Integer()
    error = fields.String(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    sent_at = fields.DateTime(allow_none=True)
    reprint_of = fields.String(allow_none=True)
    batch_id = fields.String(allow_none=True)
    requested_by = fields.String()
    requested_name = fields.String()
    device = fields.String()


class JobDetailOut(JobOut):
    history = fields.List(fields.Nested(EventOut))


class BatchOut(ResponseSchema):
    id = fields.String()
    printer = fields.String()
    jobs = fields.List(fields.Nested(JobOut))


class EmptyQuery(QuerySchema):
    pass
