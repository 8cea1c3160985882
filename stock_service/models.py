"""The tables of stock_service, in the PostgreSQL schema `stock` (no other service reads them)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Integer, MetaData, String, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from common.idempotency import key_table

metadata = MetaData(schema="stock")


class Base(DeclarativeBase):
    metadata = metadata


idempotency_keys = key_table(metadata)


class Sku(Base):
    """A sellable item, known on the floor by its SKU code and its barcodes."""

    __tablename__ = "skus"

    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    spec: Mapped[str] = mapped_column(String(200), default="")
    image_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    home_bin: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    barcodes: Mapped[list[Barcode]] = relationship(back_populates="item", lazy="selectin",
                                                     order_by="Barcode.code")


class Barcode(Base):
    """One barcode printed on an item; a code belongs to exactly one SKU."""

    __tablename__ = "barcodes"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    sku: Mapped[str] = mapped_column(ForeignKey("skus.sku"), index=True)
    item: Mapped[Sku] = relationship(back_populates="barcodes")


class Location(Base):
    """A place stock can be: a bin on the shelves, the receiving staging area, a basket, returns, intercept."""

    __tablename__ = "locations"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    zone: Mapped[str] = mapped_column(String(16), default="")
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    allow_negative: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Balance(Base):
    """How many units of a SKU (and lot) lie in a location; written only beside a movement."""

    __tablename__ = "balances"
    __table_args__ = (UniqueConstraint("sku", "location", "lot"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    sku: Mapped[str] = mapped_column(ForeignKey("skus.sku"))
    location: Mapped[str] = mapped_column(ForeignKey("locations.code"), index=True)
    lot: Mapped[str] = mapped_column(String(64), default="")
    qty: Mapped[int] = mapped_column(Integer, default=0)


class Movement(Base):
    """One line of the ledger (append-only: the database refuses UPDATE and DELETE)."""

    __tablename__ = "movements"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    type: Mapped[str] = mapped_column(String(16))
    sku: Mapped[str] = mapped_column(ForeignKey("skus.sku"), index=True)
    qty: Mapped[int] = mapped_column(Integer)
    from_location: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    to_location: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    lot: Mapped[str] = mapped_column(String(64), default="")
    operator: Mapped[str] = mapped_column(String(64))
    device: Mapped[str] = mapped_column(String(64), default="")
    reason: Mapped[str] = mapped_column(String(200), default="")
    reference: Mapped[str] = mapped_column(String(128), default="", index=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Receipt(Base):
    """An expected delivery (a purchase order) and what has been received against it."""

    __tablename__ = "receipts"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    ref: Mapped[str] = mapped_column(String(64), unique=True)
    state: Mapped[str] = mapped_column(String(16), default="open")
    location: Mapped[str] = mapped_column(ForeignKey("locations.code"))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    lines: Mapped[list[ReceiptLine]] = relationship(lazy="selectin", order_by="ReceiptLine.id")


class ReceiptLine(Base):
    __tablename__ = "receipt_lines"
    __table_args__ = (UniqueConstraint("receipt_id", "sku"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    receipt_id: Mapped[int] = mapped_column(ForeignKey("receipts.id"), index=True)
    sku: Mapped[str] = mapped_column(ForeignKey("skus.sku"))
    expected: Mapped[int] = mapped_column(Integer)
    received: Mapped[int] = mapped_column(Integer, default=0)


class Allocation(Base):
    """Stock promised to an order, known only by its number, until it ships or is released."""

    __tablename__ = "allocations"

    order_no: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    lines: Mapped[list[AllocationLine]] = relationship(lazy="selectin", order_by="AllocationLine.sku")


class AllocationLine(Base):
    __tablename__ = "allocation_lines"

    order_no: Mapped[str] = mapped_column(ForeignKey("allocations.order_no"), primary_key=True)
    sku: Mapped[str] = mapped_column(ForeignKey("skus.sku"), primary_key=True, index=True)
    qty: Mapped[int] = mapped_column(Integer)
    # True while the order's allocation is open: a SKU's promised units are summed from these lines
    # alone (a partial index), never from every order that ever shipped it.
    held: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")


class Count(Base):
    """A cycle count of some bins (or of the bins holding some SKUs)."""

    __tablename__ = "counts"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    state: Mapped[str] = mapped_column(String(16), default="open")
    locations: Mapped[list[str]] = mapped_column(ARRAY(String(64)), default=list)
    skus: Mapped[list[str] | None] = mapped_column(ARRAY(String(64)), nullable=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CountBin(Base):
    """When a bin of a count was first scanned: the ledger position its expected quantities stand at."""

    __tablename__ = "count_bins"

    count_id: Mapped[int] = mapped_column(ForeignKey("counts.id"), primary_key=True)
    location: Mapped[str] = mapped_column(String(64), primary_key=True)
    snapshot_movement_id: Mapped[int] = mapped_column(BigInteger)
    snapshot_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CountLine(Base):
    """One (bin, SKU) of a count: expected (never shown to the counter), counted, its variance and decision."""

    __tablename__ = "count_lines"
    __table_args__ = (UniqueConstraint("count_id", "location", "sku"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    count_id: Mapped[int] = mapped_column(ForeignKey("counts.id"), index=True)
    location: Mapped[str] = mapped_column(String(64))
    sku: Mapped[str] = mapped_column(ForeignKey("skus.sku"))
    snapshot_qty: Mapped[int] = mapped_column(Integer, default=0)
    expected: Mapped[int | None] = mapped_column(Integer, nullable=True)
    counted: Mapped[int] = mapped_column(Integer, default=0)
    counted_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    recounted: Mapped[int | None] = mapped_column(Integer, nullable=True)
    recounted_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    state: Mapped[str] = mapped_column(String(16), default="open")
    reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    note: Mapped[str] = mapped_column(String(200), default="")
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    adjustment_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
