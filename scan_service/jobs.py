"""Jobs of scan_service: plain functions taking ids, with idempotent effects (RQ delivers at least once)."""
from __future__ import annotations

import logging
from functools import lru_cache

from redis import Redis
from rq import Retry, get_current_job
from rq.job import Job
from sqlalchemy.orm import sessionmaker

from common import config
from common.auth import Identity
from common.db import make_engine, standalone
from common.http import ServiceClient
from common.jobs import enqueue_once, queue
from scan_service.domain import shipping
from scan_service.domain.stock import Stock

log = logging.getLogger(__name__)
SHIPPING_QUEUE = "shipping"
# Backoff for a stock_service that is down or restarting: about ten minutes in all, after which
# the periodic re-drive (redrive_shipments) picks the row up again.
SHIPPING_RETRY = Retry(max=8, interval=[1, 2, 5, 10, 30, 60, 120, 300])
STALE_SECONDS = 15 * 60


@lru_cache(maxsize=1)
def _context() -> tuple[config.Settings, sessionmaker, ServiceClient]:
    settings = config.load("scan")
    engine = make_engine(settings.database_url, pool_size=2, application_name="scan-jobs")
    client = ServiceClient(settings.service_urls["stock"], internal_token=settings.internal_token,
                           identity_secret=settings.identity_secret, timeout=settings.http_timeout_seconds)
    return settings, sessionmaker(bind=engine, expire_on_commit=False), client


def job_id(outbox_id: int) -> str:
    return f"scan-ship-{outbox_id}"


def deliver_shipment(outbox_id: int) -> str:
    """Deliver one outbox row to stock_service; raises (and RQ retries) while stock is away."""
    _settings, make_session, client = _context()
    with standalone(make_session) as s:
        row = shipping.claim(s, outbox_id)
        if row is None:
            return "nothing to deliver"
        actor = Identity(badge=row.identity.get("badge", "scan"), name=row.identity.get("name", ""),
                         roles=tuple(row.identity.get("roles", ())), lang=row.identity.get("lang", "zh-CN"),
                         device=row.identity.get("device", ""))
        try:
            delivered = shipping.deliver(s, row, Stock(client, actor))
        except Exception:
            s.commit()  # keep the attempt count and the reason, then let RQ retry
            raise
    if delivered:
        _redrive_stale()
    return "delivered" if delivered else "refused"


def _redrive_stale() -> None:
    """stock_service answers again: send on whatever waited longer than the retries lasted."""
    job = get_current_job()
    if job is None:
        return
    _settings, make_session, _client = _context()
    with standalone(make_session) as s:
        ids = [row.id for row in shipping.pending(s, STALE_SECONDS)]
    for outbox_id in ids:
        enqueue_shipment(job.connection, outbox_id)


def enqueue_shipment(connection: Redis, outbox_id: int) -> Job | None:
    """Enqueue a delivery once; a finished or dead job of the same id is replaced."""
    q = queue(SHIPPING_QUEUE, connection)
    return enqueue_once(q, deliver_shipment, outbox_id, job_id=job_id(outbox_id), retry=SHIPPING_RETRY)


def redrive_shipments(older_than_seconds: int = 60) -> int:
    """Re-enqueue every shipment still pending (run periodically, or from the supervisor page)."""
    settings, make_session, _client = _context()
    connection = Redis.from_url(settings.redis_url)
    with standalone(make_session) as s:
        ids = [row.id for row in shipping.pending(s, older_than_seconds)]
    enqueued = sum(1 for outbox_id in ids if enqueue_shipment(connection, outbox_id) is not None)
    log.info("shipments re-driven: %d of %d pending", enqueued, len(ids))
    return enqueued
