"""The floor's labels, each built once as a label model from its template data.

sku: name (wrapped/shrunk to two lines), SKU code and spec, EAN-13 or Code 128.
location / basket: the code big enough to read from a forklift, and its Code 128.
badge: the operator's name and badge code as Code 128 or QR. raw: ZPL passed through.
"""
from __future__ import annotations

from typing import Any

from marshmallow import ValidationError

from common.errors import InvalidInputError
from print_service.labels import symbols, zpl
from print_service.labels.model import DEFAULT_PRINTER_FONT, Barcode, Box, Label, Size, fit_text
from print_service.labels.symbols import CODE128, EAN13, QR, QUIET, BarcodeError
from print_service.schemas.labels import TEMPLATE_SCHEMAS

MARGIN_MM = 2
MIN_BAR_HEIGHT_MM = 5


class LabelTooSmallError(InvalidInputError):
    code = "label_too_small"


# One schema instance per template, made once and shared (loading keeps no state on it): making
# one copies every declared field, which cost more than validating the data.
_SCHEMAS = {name: schema() for name, schema in TEMPLATE_SCHEMAS.items()}


def load_data(template: str, data: Any) -> dict[str, Any]:
    """Validate template data; errors name the field as data.<field>."""
    schema = _SCHEMAS.get(template)
    if schema is None:
        raise ValidationError({"template": [f"Must be one of: {', '.join(TEMPLATE_SCHEMAS)}."]})
    if not isinstance(data, dict):
        raise ValidationError({"data": ["Must be an object."]})
    try:
        return schema.load(data)
    except ValidationError as exc:
        raise ValidationError({"data": exc.normalized_messages()}) from exc


def build(template: str, data: dict[str, Any], size: Size, printer_font: str = DEFAULT_PRINTER_FONT) -> Label:
    """The label model of validated `data` on stock of `size`."""
    label = Label(size=size, printer_font=printer_font)
    if template == "raw":
        parsed = zpl.parse(data["zpl"], size)
        parsed.raw_zpl = data["zpl"]
        return parsed
    {"sku": _sku, "location": _code, "basket": _code, "badge": _badge}[template](label, data, template)
    return label


def _sku(label: Label, data: dict[str, Any], _template: str) -> None:
    size, m = label.size, label.size.mm(MARGIN_MM)
    width = size.width - 2 * m
    name = fit_text(data["name"], x=m, y=m, width=width, max_lines=2, largest=int(size.height * 0.12),
                    smallest=max(16, int(size.height * 0.06)))
    label.add(name)
    detail = " ".join(part for part in (data["sku"], data.get("spec") or "") if part)
    # The SKU line never outshouts the name, even when a long name had to shrink.
    spec = fit_text(detail, x=m, y=name.bottom + 2, width=width, max_lines=1,
                    largest=min(name.height, max(16, int(size.height * 0.08))), smallest=14)
    label.add(spec)
    kind, payload = _sku_symbol(data)
    _linear(label, kind, payload, top=spec.bottom + size.mm(1.5), field="data.barcode" if data.get("barcode")
            else "data.sku")


def _sku_symbol(data: dict[str, Any]) -> tuple[str, str]:
    code = data.get("barcode")
    if not code:
        return CODE128, symbols.code128_payload(data["sku"], "data.sku")
    wanted = data.get("symbology")
    if wanted == EAN13 or (wanted is None and code.isascii() and code.isdigit() and len(code) in (12, 13)):
        return EAN13, symbols.ean13_payload(code, "data.barcode")
    return CODE128, symbols.code128_payload(code, "data.barcode")


def _code(label: Label, data: dict[str, Any], template: str) -> None:
    size, m = label.size, label.size.mm(MARGIN_MM)
    width = size.width - 2 * m
    y = m
    if template == "basket":
        label.add(Box(0, 0, size.width, size.height, thickness=max(2, size.mm(0.5))))
        y = m + size.mm(0.5)
    if data.get("caption"):
        caption = fit_text(data["caption"], x=m + size.mm(0.5), y=y, width=width - size.mm(1), max_lines=1,
                           largest=max(16, int(size.height * 0.08)), smallest=14)
        label.add(caption)
        y = caption.bottom + 2
    code = fit_text(data["code"], x=m + size.mm(0.5), y=y, width=width - size.mm(1), max_lines=1,
                    largest=int(size.height * 0.25), smallest=16)
    label.add(code)
    _linear(label, CODE128, symbols.code128_payload(data["code"], "data.code"), top=code.bottom + size.mm(1.5),
            field="data.code", readable=False)


def _badge(label: Label, data: dict[str, Any], _template: str) -> None:
    size, m = label.size, label.size.mm(MARGIN_MM)
    width = size.width - 2 * m
    if data["symbology"] == QR:
        payload = symbols.qr_payload(data["badge"], "data.badge")
        modules = len(symbols.qr_matrix(payload)) + 8
        side = min(size.height - 2 * m, width // 2)
        module = min(10, side // modules)
        if module < 2:
            raise BarcodeError(details={"field": "data.badge", "reason": "too much data for a QR code on this label"})
        label.add(Barcode(m + 4 * module, max(0, m + 4 * module - 10), QR, payload, module))
        left = m + modules * module + size.mm(1)
        name = fit_text(data["name"], x=left, y=m, width=size.width - m - left, max_lines=2,
                        largest=int(size.height * 0.2), smallest=16)
        label.add(name)
        label.add(fit_text(data["badge"], x=left, y=name.bottom + size.mm(1), width=size.width - m - left,
                           max_lines=1, largest=int(size.height * 0.12), smallest=14))
        return
    name = fit_text(data["name"], x=m, y=m, width=width, max_lines=1, largest=int(size.height * 0.2),
                    smallest=16)
    label.add(name)
    _linear(label, CODE128, symbols.code128_payload(data["badge"], "data.badge"), top=name.bottom + size.mm(1.5),
            field="data.badge")


def _linear(label: Label, kind: str, payload: str, *, top: int, field: str, readable: bool = True) -> None:
    """Centre a linear symbol below `top` at the widest module that fits, quiet zones included."""
    size, m = label.size, label.size.mm(MARGIN_MM)
    modules = symbols.printer_modules(kind, payload) + 2 * QUIET
    module = min(4 if size.dpi == 300 else 3, (size.width - 2 * m) // modules)
    if module < 2:
        raise BarcodeError(details={"field": field, "reason": "too long for a readable barcode on this label"})
    text_room = module * 10 + 6 if readable else 0
    height = size.height - m - top - text_room
    if height < size.mm(MIN_BAR_HEIGHT_MM):
        raise LabelTooSmallError(details={"field": field, "reason": "no room left for the barcode"})
    x = (size.width - symbols.printer_modules(kind, payload) * module) // 2
    label.add(Barcode(x, top, kind, payload, module, height, readable))
