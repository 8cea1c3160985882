"""Housekeeping jobs the cron scheduler runs (deploy/cron.py): plain functions taking a service name.

Every state-changing request stores its Idempotency-Key with its answer; a floor of 200 handhelds
writes millions a day. Past the time any handheld may still resend a scan (IDEMPOTENCY_KEEP_HOURS)
they are dead weight, and each service's own table is emptied of them here.
"""
from __future__ import annotations

from sqlalchemy import Table
from sqlalchemy.orm import sessionmaker

import gateway.models
import print_service.models
import scan_service.models
import stock_service.models
from common import config, db, idempotency

KEY_TABLES: dict[str, Table] = {
    "gateway": gateway.models.idempotency_keys,
    "stock": stock_service.models.idempotency_keys,
    "scan": scan_service.models.idempotency_keys,
    "print": print_service.models.idempotency_keys,
}


def purge_keys(service: str) -> int:
    """Delete `service`'s idempotency keys older than its IDEMPOTENCY_KEEP_HOURS; how many went."""
    settings = config.load(service)
    engine = db.make_engine(settings.database_url, pool_size=1, application_name=f"{service}-housekeeping")
    try:
        return idempotency.purge(sessionmaker(bind=engine), KEY_TABLES[service], settings.idempotency_keep_hours)
    finally:
        engine.dispose()
