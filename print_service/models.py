"""The tables of print_service, in the PostgreSQL schema `print` (no other service reads them)."""
from __future__ import annotations

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from common.idempotency import key_table

metadata = MetaData(schema="print")


class Base(DeclarativeBase):
    metadata = metadata


idempotency_keys = key_table(metadata)
