"""The periodic jobs the cron scheduler runs."""
import pytest
from rq import Queue, SimpleWorker
from rq.cron import CronScheduler
from sqlalchemy import text

from deploy import cron, housekeeping
from scan_service.jobs import SHIPPING_QUEUE, redrive_shipments


def test_cron_config_enqueues_the_shipment_redrive(redis_conn, clean):
    """deploy/cron.py registers the re-drive, and a due run lands on the shipping queue."""
    scheduler = CronScheduler(connection=redis_conn)
    scheduler.load_config_from_file(cron.__file__)
    job = next(j for j in scheduler.get_jobs() if j.func is redrive_shipments)
    assert job.interval == cron.REDRIVE_EVERY_SECONDS
    assert redrive_shipments in [c.func for c in scheduler.enqueue_jobs()]
    [queued] = Queue(SHIPPING_QUEUE, connection=redis_conn).get_jobs()
    assert queued.func_name == "scan_service.jobs.redrive_shipments"


def test_cron_config_purges_every_services_keys_hourly(redis_conn, clean):
    scheduler = CronScheduler(connection=redis_conn)
    scheduler.load_config_from_file(cron.__file__)
    purges = [j for j in scheduler.get_jobs() if j.func is housekeeping.purge_keys]
    assert sorted(j.kwargs["service"] for j in purges) == ["gateway", "print", "scan", "stock"]
    assert {j.interval for j in purges} == {cron.PURGE_EVERY_SECONDS}


@pytest.mark.parametrize("service", ["scan", "gateway"])
def test_purge_deletes_only_keys_past_their_keep(engine, redis_conn, clean, monkeypatch, service):
    """Run by a real worker: keys older than IDEMPOTENCY_KEEP_HOURS go, younger ones stay, in batches."""
    monkeypatch.setenv("IDEMPOTENCY_KEEP_HOURS", "24")
    monkeypatch.setattr(housekeeping.idempotency, "purge", _small_batches(housekeeping.idempotency.purge))
    with engine.begin() as conn:
        conn.execute(text(f"INSERT INTO {service}.idempotency_keys (operator, key, fingerprint, status, body, headers, "
                          "created_at) SELECT 'EDB_PH001', 'k' || n, 'f', 200, '', '{}', "
                          "now() - make_interval(hours => CASE WHEN n <= 7 THEN 25 ELSE 23 END) "
                          "FROM generate_series(1, 10) n"))
    Queue("default", connection=redis_conn).enqueue(housekeeping.purge_keys, service)
    SimpleWorker(["default"], connection=redis_conn).work(burst=True)
    with engine.connect() as conn:
        left = conn.execute(text(f"SELECT key FROM {service}.idempotency_keys ORDER BY key")).scalars().all()
    assert left == ["k10", "k8", "k9"]


def _small_batches(purge):
    def purge_by_three(sessions, table, hours):
        return purge(sessions, table, hours, batch=3)
    return purge_by_three
