"""The gateway's tables: operators (and the idempotency keys of its own endpoints)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ARRAY, Boolean, DateTime, MetaData, String, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from common.idempotency import key_table

metadata = MetaData(schema="gateway")


class Base(DeclarativeBase):
    metadata = metadata


class Operator(Base):
    """A person on the floor, known by the badge they scan."""

    __tablename__ = "operators"

    badge: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    roles: Mapped[list[str]] = mapped_column(ARRAY(String(32)))
    lang: Mapped[str] = mapped_column(String(8), default="zh-CN")
    pin_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


idempotency_keys = key_table(metadata)
