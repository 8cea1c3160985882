"""The tables of print_service, in the PostgreSQL schema `print` (no other service reads them)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Identity, Integer, MetaData, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from common.idempotency import key_table

metadata = MetaData(schema="print")


class Base(DeclarativeBase):
    metadata = metadata


idempotency_keys = key_table(metadata)


class Printer(Base):
    """A label printer on the floor and what it last said about itself."""

    __tablename__ = "printers"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    uri: Mapped[str] = mapped_column(String(500))
    dpi: Mapped[int] = mapped_column(Integer, default=203)
    width_mm: Mapped[float] = mapped_column(default=60)
    height_mm: Mapped[float] = mapped_column(default=40)
    location: Mapped[str] = mapped_column(String(200), default="")
    font: Mapped[str] = mapped_column(String(64), default="E:ANMDS.TTF")
    retries: Mapped[int] = mapped_column(Integer, default=5)
    retry_interval_s: Mapped[int] = mapped_column(Integer, default=5)
    state: Mapped[str] = mapped_column(String(20), default="unknown")
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    paused_reason: Mapped[str | None] = mapped_column(String(40), nullable=True)
    checked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Batch(Base):
    """Labels asked for together (all labels of a receipt), printed in the order given."""

    __tablename__ = "batches"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    printer: Mapped[str] = mapped_column(ForeignKey("printers.name"))
    requested_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class PrintJob(Base):
    """One label (with copies) for one printer; `seq` is the order printers must keep."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, Identity(always=False), unique=True)
    printer: Mapped[str] = mapped_column(ForeignKey("printers.name"), index=True)
    template: Mapped[str] = mapped_column(String(20))
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    copies: Mapped[int] = mapped_column(Integer, default=1)
    zpl: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(20), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    reprint_of: Mapped[str | None] = mapped_column(ForeignKey("jobs.id"), nullable=True)
    batch_id: Mapped[str | None] = mapped_column(ForeignKey("batches.id"), nullable=True, index=True)
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_name: Mapped[str] = mapped_column(String(200), default="")
    device: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class JobEvent(Base):
    """The history of a job: who asked, every attempt and what the printer said, append-only."""

    __tablename__ = "job_events"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    event: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(20))
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    operator: Mapped[str | None] = mapped_column(String(64), nullable=True)
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)
