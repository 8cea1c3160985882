"""SKU requests and answers."""
from marshmallow import fields, validate

from common.schemas import Name, RequestSchema, ResponseSchema, Text


class SkuIn(RequestSchema):
    sku = Name(required=True)
    name = Name(required=True, max_length=200)
    spec = Text(load_default="")
    barcodes = fields.List(Name(), load_default=list, validate=validate.Length(max=20))
    image_url = Text(max_length=500, load_default=None, allow_none=True)


class SkuOut(ResponseSchema):
    sku = fields.String()
    name = fields.String()
    spec = fields.String()
    image_url = fields.String(allow_none=True)
    active = fields.Boolean()
    barcodes = fields.Function(lambda item: [b.code for b in item.barcodes])
