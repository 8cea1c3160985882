"""GTIN check digits (EAN-13, UPC-A, EAN-8, GTIN-14) and the GTIN inside a GS1 barcode."""
from __future__ import annotations

GTIN_LENGTHS = (8, 12, 13, 14)


def check_digit(payload: str) -> int:
    """The GS1 mod-10 check digit of `payload` (a GTIN without its last digit)."""
    total = 0
    for position, digit in enumerate(reversed(payload)):
        total += int(digit) * (3 if position % 2 == 0 else 1)
    return (10 - total % 10) % 10


def looks_like_gtin(code: str) -> bool:
    """All digits and of a GTIN's length: the check digit then decides whether it is valid."""
    return code.isdigit() and len(code) in GTIN_LENGTHS


def is_valid_gtin(code: str) -> bool:
    """True for an EAN-8, UPC-A, EAN-13 or GTIN-14 whose check digit is right."""
    return looks_like_gtin(code) and check_digit(code[:-1]) == int(code[-1])


def normalise(code: str) -> str:
    """The GTIN-13 form of a GTIN-14 with a zero indicator, else the code as given.

    GS1-128 and DataMatrix carry (01) as 14 digits: "06901234567892" is the EAN-13 "6901234567892".
    """
    if len(code) == 14 and code.startswith("0"):
        return code[1:]
    return code
