"""Label → PNG preview, one pixel per printer dot, black on white like the printed label."""
from __future__ import annotations

import io

from PIL import Image, ImageDraw

from print_service.labels import fonts, symbols
from print_service.labels.model import Barcode, Box, Label, Text
from print_service.labels.symbols import EAN13, QR


def render(label: Label) -> bytes:
    size = label.size
    image = Image.new("L", (size.width, size.height), 255)
    draw = ImageDraw.Draw(image)
    for element in label.elements:
        if isinstance(element, Text):
            _text(draw, element)
        elif isinstance(element, Box):
            _box(draw, element)
        else:
            _barcode(draw, element)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _text(draw: ImageDraw.ImageDraw, element: Text) -> None:
    face = fonts.font(element.height)
    step = element.height + element.line_gap
    for i, line in enumerate(element.lines):
        draw.text((element.x, element.y + i * step), line, fill=0, font=face)


def _box(draw: ImageDraw.ImageDraw, element: Box) -> None:
    right, bottom = element.x + element.width - 1, element.y + element.height - 1
    draw.rectangle((element.x, element.y, right, bottom), outline=0, width=element.thickness)


def _barcode(draw: ImageDraw.ImageDraw, element: Barcode) -> None:
    if element.kind == QR:
        _qr(draw, element)
        return
    try:
        pattern = symbols.bars(element.kind, element.data)
    except Exception:  # noqa: BLE001 - raw ZPL may carry data the symbology refuses; show nothing
        return
    m = element.module
    for i, bit in enumerate(pattern):
        if bit == "1":
            draw.rectangle((element.x + i * m, element.y, element.x + (i + 1) * m - 1,
                            element.y + element.height - 1), fill=0)
    if element.readable:
        text = symbols.full_text(element.kind, element.data) if element.kind == EAN13 else element.data
        face = fonts.font(max(12, m * 9))
        width = draw.textlength(text, font=face)
        centre = element.x + len(pattern) * m / 2
        draw.text((centre - width / 2, element.y + element.height + 2), text, fill=0, font=face)


def _qr(draw: ImageDraw.ImageDraw, element: Barcode) -> None:
    try:
        matrix = symbols.qr_matrix(element.data)
    except Exception:  # noqa: BLE001 - raw ZPL may carry more than a QR code holds
        return
    m = element.module
    # ^BQ places the symbol about 10 dots below ^FO on Zebra printers; the preview follows.
    top = element.y + 10
    for r, row in enumerate(matrix):
        for c, bit in enumerate(row):
            if bit:
                draw.rectangle((element.x + c * m, top + r * m, element.x + (c + 1) * m - 1,
                                top + (r + 1) * m - 1), fill=0)
