"""The tables of scan_service, in the PostgreSQL schema `scan` (no other service reads them)."""
from __future__ import annotations

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from common.idempotency import key_table

metadata = MetaData(schema="scan")


class Base(DeclarativeBase):
    metadata = metadata


idempotency_keys = key_table(metadata)
