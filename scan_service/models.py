"""The tables of scan_service, in the PostgreSQL schema `scan` (no other service reads them)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Index, Integer, MetaData, String, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from common.idempotency import key_table

metadata = MetaData(schema="scan")


class Base(DeclarativeBase):
    metadata = metadata


idempotency_keys = key_table(metadata)


class Order(Base):
    """A shop order as the ERP printed it; merged orders share the main order's waybill."""

    __tablename__ = "orders"

    order_no: Mapped[str] = mapped_column(String(64), primary_key=True)
    shop: Mapped[str] = mapped_column(String(200), default="")
    waybill_no: Mapped[str | None] = mapped_column(String(64), index=True, nullable=True)
    carrier: Mapped[str | None] = mapped_column(String(32), nullable=True)
    paid: Mapped[bool] = mapped_column(Boolean, default=True)
    state: Mapped[str] = mapped_column(String(20), default="printed", index=True)
    merge_into: Mapped[str | None] = mapped_column(String(64), nullable=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    allocated: Mapped[bool] = mapped_column(Boolean, default=False)
    basket: Mapped[str | None] = mapped_column(String(64), nullable=True)
    intercept_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    picked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    shipped_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    intercepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    returned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    lines: Mapped[list[OrderLine]] = relationship(lazy="selectin", order_by="OrderLine.id",
                                                    cascade="all, delete-orphan")
    notes: Mapped[list[OrderNote]] = relationship(lazy="selectin", order_by="OrderNote.id", viewonly=True)


class OrderLine(Base):
    __tablename__ = "order_lines"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    order_no: Mapped[str] = mapped_column(ForeignKey("orders.order_no"), index=True)
    sku: Mapped[str] = mapped_column(String(64))
    qty: Mapped[int] = mapped_column(Integer)
    returned: Mapped[int] = mapped_column(Integer, default=0)


class OrderNote(Base):
    """A note on an order: append-only, a trigger refuses UPDATE and DELETE."""

    __tablename__ = "order_notes"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    order_no: Mapped[str] = mapped_column(ForeignKey("orders.order_no"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # buyer | seller | note
    text: Mapped[str] = mapped_column(Text)
    operator: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Event(Base):
    """One line of the floor's journal: an order's timeline and every scan, for stats and audit."""

    __tablename__ = "events"
    # Only the events that name an order, a pick or a check are in those indexes (migration 0004).
    __table_args__ = tuple(Index(f"ix_events_{column}", column, postgresql_where=text(f"{column} IS NOT NULL"))
                           for column in ("order_no", "pick_id", "verification_id"))

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.clock_timestamp(), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    order_no: Mapped[str | None] = mapped_column(String(64), nullable=True)
    pick_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    verification_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    operator: Mapped[str] = mapped_column(String(64), index=True)
    operator_name: Mapped[str] = mapped_column(String(200), default="")
    device: Mapped[str] = mapped_column(String(64), default="")
    code: Mapped[str | None] = mapped_column(String(256), nullable=True)
    result: Mapped[str | None] = mapped_column(String(32), nullable=True)
    sku: Mapped[str | None] = mapped_column(String(64), nullable=True)
    qty: Mapped[int] = mapped_column(Integer, default=0)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)


class Pick(Base):
    """A picker's walk with one basket for one or more orders."""

    __tablename__ = "picks"
    # An order's timeline finds its picks by `orders @> [order_no]`.
    __table_args__ = (Index("ix_picks_orders", "orders", postgresql_using="gin"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    basket: Mapped[str] = mapped_column(String(64), index=True)
    picker: Mapped[str] = mapped_column(String(64))
    picker_name: Mapped[str] = mapped_column(String(200), default="")
    state: Mapped[str] = mapped_column(String(16), default="open")  # open | picked | short
    location: Mapped[str | None] = mapped_column(String(64), nullable=True)
    orders: Mapped[list[str]] = mapped_column(JSONB, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # Moved on by every change to the pick or its tasks: a scan reads without a lock and claims it (scanrows).
    version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    tasks: Mapped[list[PickTask]] = relationship(lazy="selectin", order_by="PickTask.seq")


class PickTask(Base):
    __tablename__ = "pick_tasks"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    pick_id: Mapped[int] = mapped_column(ForeignKey("picks.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    location: Mapped[str] = mapped_column(String(64))
    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200), default="")
    image_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    barcodes: Mapped[list[str]] = mapped_column(JSONB, default=list)
    qty: Mapped[int] = mapped_column(Integer)
    picked: Mapped[int] = mapped_column(Integer, default=0)
    short: Mapped[int] = mapped_column(Integer, default=0)


class Verification(Base):
    """A verifier's check of one parcel: waybill first, then every item."""

    __tablename__ = "verifications"
    __table_args__ = (Index("ix_verifications_orders", "orders", postgresql_using="gin"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    waybill: Mapped[str] = mapped_column(String(64), index=True)
    verifier: Mapped[str] = mapped_column(String(64))
    verifier_name: Mapped[str] = mapped_column(String(200), default="")
    state: Mapped[str] = mapped_column(String(16), default="open")  # open | shipped | short
    orders: Mapped[list[str]] = mapped_column(JSONB, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # Moved on by every change to the check or its lines, as a pick's.
    version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    lines: Mapped[list[VerificationLine]] = relationship(lazy="selectin", order_by="VerificationLine.id")


class VerificationLine(Base):
    __tablename__ = "verification_lines"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    verification_id: Mapped[int] = mapped_column(ForeignKey("verifications.id"), index=True)
    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200), default="")
    barcodes: Mapped[list[str]] = mapped_column(JSONB, default=list)
    expected: Mapped[int] = mapped_column(Integer)
    scanned: Mapped[int] = mapped_column(Integer, default=0)


class ShipmentOutbox(Base):
    """A shipment to deliver to stock_service, written in the same transaction as the verification."""

    __tablename__ = "shipment_outbox"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    order_no: Mapped[str] = mapped_column(String(64), unique=True)
    basket: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    identity: Mapped[dict[str, Any]] = mapped_column(JSONB)
    state: Mapped[str] = mapped_column(String(16), default="pending", index=True)  # pending | delivered
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class ReturnArrival(Base):
    """A parcel come back (退货到货): what arrived and in which condition."""

    __tablename__ = "returns"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    order_no: Mapped[str] = mapped_column(String(64), index=True)
    reference: Mapped[str] = mapped_column(String(250), unique=True)
    condition: Mapped[str] = mapped_column(String(16))
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    operator: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
