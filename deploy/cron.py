"""Periodic jobs, run by `rq cron deploy/cron.py` (one scheduler process, see deploy/Procfile).

Re-driving shipments: the outbox delivers each shipment with RQ retries for about ten minutes; a
stock_service that stays away longer leaves rows pending, and this sends them again. Enqueuing is
duplicate-safe (fixed job ids), so a second scheduler would do no harm.

Purging idempotency keys: hourly, each service's own table (deploy/housekeeping.py).
"""
from rq import cron

from deploy.housekeeping import KEY_TABLES, purge_keys
from scan_service.jobs import SHIPPING_QUEUE, redrive_shipments

REDRIVE_EVERY_SECONDS = 300
PURGE_EVERY_SECONDS = 3600

cron.register(redrive_shipments, SHIPPING_QUEUE, kwargs={"older_than_seconds": 600},
              interval=REDRIVE_EVERY_SECONDS, name="redrive-shipments")
for service in KEY_TABLES:
    cron.register(purge_keys, "default", kwargs={"service": service}, interval=PURGE_EVERY_SECONDS,
                  name=f"purge-keys-{service}")
