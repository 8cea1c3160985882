"""SKUs and their barcodes."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.errors import ConflictError, NotFoundError
from stock_service.models import Barcode, Sku


def create(s: Session, *, sku: str, name: str, spec: str = "", barcodes: list[str] = (),
           image_url: str | None = None) -> Sku:
    """Add a SKU with its barcodes; a SKU code or barcode already in use is a 409."""
    if s.get(Sku, sku) is not None:
        raise ConflictError(code="sku_exists", details={"sku": sku})
    taken = s.scalars(select(Barcode).where(Barcode.code.in_(list(barcodes)))).all()
    if taken:
        raise ConflictError(code="barcode_taken", details={"barcode": taken[0].code, "sku": taken[0].sku})
    item = Sku(sku=sku, name=name, spec=spec, image_url=image_url, active=True,
               barcodes=[Barcode(code=code) for code in dict.fromkeys(barcodes)])
    s.add(item)
    s.flush()
    return item


def get(s: Session, sku: str) -> Sku:
    item = s.get(Sku, sku)
    if item is None:
        raise NotFoundError(code="unknown_sku", details={"sku": sku})
    return item
