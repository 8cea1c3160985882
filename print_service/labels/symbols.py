"""What each symbology can carry, and its bars/modules for the preview.

EAN-13 and Code 128 patterns come from python-barcode, QR matrices from segno; the printer builds
its own from the same data (^BE, ^BC, ^BQ), so only the data has to agree.
"""
from __future__ import annotations

import barcode
import segno

from codes import gtin
from common.errors import InvalidInputError

EAN13 = "ean13"
CODE128 = "code128"
QR = "qr"
KINDS = (EAN13, CODE128, QR)
QR_MAX_BYTES = 500
CODE128_MAX = 48
# Code 128 quiet zone and EAN-13 guard space, in modules, on each side.
QUIET = 10


class BarcodeError(InvalidInputError):
    """The symbology cannot carry this data (422, with the field named)."""

    code = "invalid_barcode"


def ean13_check_digit(digits12: str) -> str:
    return str(gtin.check_digit(digits12))


def ean13_payload(value: str, field: str) -> str:
    """The 12 digits ^BE wants; a 13th digit given must be the right check digit."""
    if not value.isascii() or not value.isdigit() or len(value) not in (12, 13):
        raise BarcodeError(details={"field": field, "reason": "EAN-13 takes 12 or 13 digits"})
    if len(value) == 13 and value[12] != ean13_check_digit(value[:12]):
        raise BarcodeError(details={"field": field, "reason": "wrong EAN-13 check digit",
                                    "expected": ean13_check_digit(value[:12])})
    return value[:12]


def code128_payload(value: str, field: str) -> str:
    """Code 128 subset B carries printable ASCII only."""
    if not value or not all(32 <= ord(ch) < 127 for ch in value):
        raise BarcodeError(details={"field": field, "reason": "Code 128 carries printable ASCII only"})
    if len(value) > CODE128_MAX:
        raise BarcodeError(details={"field": field, "reason": f"Code 128 label holds at most {CODE128_MAX} characters"})
    return value


def qr_payload(value: str, field: str) -> str:
    if not value or len(value.encode()) > QR_MAX_BYTES:
        raise BarcodeError(details={"field": field, "reason": f"QR data must be 1 to {QR_MAX_BYTES} bytes"})
    return value


def payload(kind: str, value: str, field: str) -> str:
    return {EAN13: ean13_payload, CODE128: code128_payload, QR: qr_payload}[kind](value, field)


def full_text(kind: str, data: str) -> str:
    """What a scanner reads back: EAN-13 with its check digit, the others as given."""
    return data + ean13_check_digit(data) if kind == EAN13 else data


def bars(kind: str, data: str) -> str:
    """The 1/0 module string of a linear symbol."""
    if kind == EAN13:
        return barcode.get_barcode_class("ean13")(data).build()[0]
    return barcode.get_barcode_class("code128")(data).build()[0]


def printer_modules(kind: str, data: str) -> int:
    """Width in modules as the printer draws it (Code 128 in subset B: 11 per character)."""
    if kind == EAN13:
        return 95
    return 11 * (len(data) + 2) + 13


def qr_matrix(data: str) -> list[list[int]]:
    return [list(row) for row in segno.make_qr(data, error="m").matrix]
