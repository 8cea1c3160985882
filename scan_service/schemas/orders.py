"""Order requests and answers."""
from marshmallow import ValidationError, fields, post_load, validate

from common.schemas import Code, Name, PageQuery, Quantity, QuerySchema, RequestSchema, ResponseSchema, Text

MAX_LINES = 500
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
    lines = fields.List(fields.Nested(LineIn), required=True, validate=validate.Length(min=1, max=MAX_LINES))
    merge_into = Name(load_default=None, allow_none=True)

    @post_load
    def normalise(self, data, **_kwargs):
        if data.get("waybill_no"):
            data["waybill_no"] = data["waybill_no"].strip().upper()
        return data


def load_orders(bodies: list[dict]) -> list[dict | ValidationError]:
    """Each body as `OrderIn().load` answers it (the loaded order, or its ValidationError), quicker.

    A file of 10,000 orders repeats a few hundred distinct lines and a few shops, carriers and
    notes: each distinct line and each distinct rest-of-the-order is loaded once, only the order's
    own number and waybill every time. An order with any fault goes through the whole schema again,
    so its error reads exactly as for a single order.
    """
    schemas = (OrderIn(only=OWN_FIELDS), OrderIn(exclude=(*OWN_FIELDS, "lines")), LineIn())
    seen: tuple[dict, dict] = ({}, {})
    loaded: list[dict | ValidationError] = []
    for body in bodies:
        quick = _load_quickly(body, schemas, seen)
        if quick is None:
            try:
                quick = OrderIn().load(body)
            except ValidationError as exc:
                quick = exc
        loaded.append(quick)
    return loaded


OWN_FIELDS = ("order_no", "waybill_no")


def _load_quickly(body: dict, schemas: tuple[OrderIn, OrderIn, LineIn], seen: tuple[dict, dict]) -> dict | None:
    """The loaded order when nothing is wrong with it, else None (the whole schema then says what)."""
    own, rest, line_schema = schemas
    raw_lines = body.get("lines")
    if not isinstance(raw_lines, list) or not 1 <= len(raw_lines) <= MAX_LINES:
        return None
    lines = [_load_once(line_schema, raw, seen[0]) for raw in raw_lines]
    header = _load_once(rest, {k: v for k, v in body.items() if k not in (*OWN_FIELDS, "lines")}, seen[1])
    if header is None or any(line is None for line in lines):
        return None
    try:
        return header | own.load({k: body[k] for k in OWN_FIELDS if k in body}) | {"lines": lines}
    except ValidationError:
        return None


def _load_once(schema: RequestSchema, raw: object, seen: dict) -> dict | None:
    """schema.load(raw) the first time these values come; None when the schema refuses them."""
    if not isinstance(raw, dict) or any(isinstance(v, (dict, list)) for v in raw.values()):
        return None
    # The type belongs to the key: 1, 1.0 and True are equal in Python, not to the schema.
    key = tuple(sorted((str(k), type(v).__name__, v) for k, v in raw.items()))
    if key not in seen:
        try:
            seen[key] = schema.load(raw)
        except ValidationError:
            seen[key] = None
    return None if seen[key] is None else dict(seen[key])


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
