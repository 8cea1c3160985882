"""What each template's `data` must hold (unknown fields raise, like every request body)."""
from marshmallow import validate

from common.schemas import Code, Name, RequestSchema, Text

SYMBOLOGIES = ("ean13", "code128", "qr")
MAX_RAW_ZPL = 64 * 1024


class SkuLabel(RequestSchema):
    sku = Name(required=True)
    name = Text(required=True, validate=validate.Length(min=1, max=200))
    spec = Text(load_default="")
    barcode = Code(load_default=None, allow_none=True)
    symbology = Text(load_default=None, allow_none=True, validate=validate.OneOf(("ean13", "code128")))


class CodeLabel(RequestSchema):
    code = Code(required=True)
    caption = Text(max_length=60, load_default="")


class BadgeLabel(RequestSchema):
    badge = Code(required=True)
    name = Text(required=True, validate=validate.Length(min=1, max=60))
    symbology = Text(load_default="code128", validate=validate.OneOf(("code128", "qr")))


class RawLabel(RequestSchema):
    zpl = Text(required=True, multiline=True, max_length=MAX_RAW_ZPL,
               validate=validate.Length(min=1, max=MAX_RAW_ZPL))


TEMPLATE_SCHEMAS = {"sku": SkuLabel, "location": CodeLabel, "basket": CodeLabel, "badge": BadgeLabel,
                    "raw": RawLabel}
TEMPLATES = tuple(TEMPLATE_SCHEMAS)
