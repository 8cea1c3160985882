"""Periodic jobs, run by `rq cron deploy/cron.py` (one scheduler process, see deploy/Procfile).

Re-driving shipments: the outbox delivers each shipment with RQ retries for about ten minutes; a
stock_service that stays away longer leaves rows pending, and this sends them again. Enqueuing is
duplicate-safe (fixed job ids), so a second scheduler would do no harm.
"""
from rq import cron

from scan_service.jobs import SHIPPING_QUEUE, redrive_shipments

REDRIVE_EVERY_SECONDS = 300

cron.register(redrive_shipments, SHIPPING_QUEUE, kwargs={"older_than_seconds": 600},
              interval=REDRIVE_EVERY_SECONDS, name="redrive-shipments")
