"""The tables of stock_service, in the PostgreSQL schema `stock` (no other service reads them)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, MetaData, String, func
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
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    barcodes: Mapped[list["Barcode"]] = relationship(back_populates="item", lazy="selectin",
                                                     order_by="Barcode.code")


class Barcode(Base):
    """One barcode printed on an item; a code belongs to exactly one SKU."""

    __tablename__ = "barcodes"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    sku: Mapped[str] = mapped_column(ForeignKey("skus.sku"), index=True)
    item: Mapped[Sku] = relationship(back_populates="barcodes")
