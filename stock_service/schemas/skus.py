"""SKU requests and answers."""
from marshmallow import fields, validate

from common.schemas import Code, Name, PageQuery, QuerySchema, RequestSchema, ResponseSchema, Text


class SkuIn(RequestSchema):
    sku = Name(required=True)
    name = Name(required=True, max_length=200)
    spec = Text(load_default="")
    barcodes = fields.List(Name(), load_default=list, validate=validate.Length(max=20))
    image_url = Text(max_length=500, load_default=None, allow_none=True)
    home_bin = Name(load_default=None, allow_none=True)


class SkuOut(ResponseSchema):
    sku = fields.String()
    name = fields.String()
    spec = fields.String()
    image_url = fields.String(allow_none=True)
    active = fields.Boolean()
    home_bin = fields.String(allow_none=True)
    barcodes = fields.Function(lambda item: [b.code for b in item.barcodes])


class ImportQuery(QuerySchema):
    partial = fields.Boolean(load_default=False)


class LookupQuery(QuerySchema):
    code = Code(required=True)


class DisableIn(RequestSchema):
    reason = Text(load_default="sku_disabled", validate=validate.Length(min=1, max=200))


class RetireQuery(PageQuery):
    idle_days = fields.Integer(load_default=30, validate=validate.Range(min=0, max=3650))


class LowQuery(PageQuery):
    threshold = fields.Integer(load_default=5, validate=validate.Range(min=1, max=1_000_000))
