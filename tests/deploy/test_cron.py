"""The periodic jobs the cron scheduler runs."""
from rq import Queue
from rq.cron import CronScheduler

from deploy import cron
from scan_service.jobs import SHIPPING_QUEUE, redrive_shipments


def test_cron_config_enqueues_the_shipment_redrive(redis_conn, clean):
    """deploy/cron.py registers the re-drive, and a due run lands on the shipping queue."""
    scheduler = CronScheduler(connection=redis_conn)
    scheduler.load_config_from_file(cron.__file__)
    [job] = scheduler.get_jobs()
    assert job.func is redrive_shipments and job.interval == cron.REDRIVE_EVERY_SECONDS
    assert [c.func for c in scheduler.enqueue_jobs()] == [redrive_shipments]
    [queued] = Queue(SHIPPING_QUEUE, connection=redis_conn).get_jobs()
    assert queued.func_name == "scan_service.jobs.redrive_shipments"
