"""What a scanned code means: an item barcode (EAN/UPC, Code 128, GS1 with a GTIN) or a SKU code."""
from __future__ import annotations

from functools import lru_cache

from biip import parse
from biip.gs1_messages import GS1Message
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session, lazyload

from codes import gtin
from common.errors import InvalidInputError
from stock_service.models import Barcode, Sku


def check(codes: list[str], field: str = "barcodes") -> None:
    """A code that looks like a GTIN (8, 12, 13 or 14 digits) must carry its right check digit."""
    for index, code in enumerate(codes):
        if gtin.looks_like_gtin(code) and not gtin.is_valid_gtin(code):
            raise InvalidInputError(code="invalid_barcode", details={field: {str(index): code}, "barcode": code})


def gtin_of(code: str) -> str | None:
    """The GTIN a GS1 barcode (or a bare GTIN) carries, as 14 digits; None when it carries none."""
    try:
        if code.startswith("("):
            element = GS1Message.parse_hri(code).element_strings.get(ai="01")
            return element.gtin.value.zfill(14) if element is not None and element.gtin else None
        result = parse(code)
    except Exception:  # biip raises its own ParseError family on anything it cannot read
        return None
    return result.gtin.value.zfill(14) if result.gtin is not None else None


def candidates(code: str) -> list[str]:
    """The stored forms a code may match: as scanned, then its GTIN as GTIN-14, EAN-13, UPC-A and EAN-8."""
    return list(_forms(code))


@lru_cache(maxsize=8192)
def _forms(code: str) -> tuple[str, ...]:
    # Parsing a GS1 code costs about 0.1 ms, as much as a statement; the floor scans the same items all day.
    forms = [code]
    found = gtin_of(code)
    if found is not None:
        forms += [found, found[1:]]
        if found.startswith("00"):
            forms.append(found[2:])
        if found.startswith("000000"):
            forms.append(found[6:])
    return tuple(dict.fromkeys(forms))


def resolve(s: Session, code: str) -> Sku | None:
    """The SKU a scanned code names: one of its barcodes (in any GTIN form), else its SKU code."""
    return s.scalar(_RESOLVE, {"forms": candidates(code), "code": code})


# One statement, built once: the barcode's owner if a barcode matches, else the SKU of that code.
# Its barcodes load only when read (the item lookup): receiving, putaway and counts need the code.
_RESOLVE = select(Sku).where(Sku.sku == func.coalesce(
    select(Barcode.sku).where(Barcode.code.in_(bindparam("forms", expanding=True))).limit(1).scalar_subquery(),
    bindparam("code"))).options(lazyload(Sku.barcodes))

# The same rule in SQL, for statements on the unit's cursor that resolve a scanned code beside
# other reads; parameters %(forms)s (candidates(code)) and %(code)s. CODE_TO_SKU is the SKU code
# the scan names, known or not (to join stock.skus on); SKU_OF_CODE is that SKU if it exists.
CODE_TO_SKU = "coalesce((SELECT b.sku FROM stock.barcodes b WHERE b.code = ANY(%(forms)s::text[]) LIMIT 1), %(code)s)"
SKU_OF_CODE = f"(SELECT k.sku FROM stock.skus k WHERE k.sku = {CODE_TO_SKU})"  # noqa: S608 - constant fragments
