"""The worker runs jobs in its own process: what the forked work horse gave must still hold."""
from __future__ import annotations

import threading
import time

from rq import Queue
from rq.job import JobStatus

from common.testing import wait_for
from print_service import jobs
from print_service.worker import PrinterWorker


def started_expiry(redis_conn, queue: Queue) -> float:
    [(_, score)] = redis_conn.zrange(queue.started_job_registry.key, 0, -1, withscores=True)
    return score


def test_running_job_keeps_its_heartbeat_and_a_short_lease(redis_conn, clean):
    """A job running past the monitoring interval is beaten for; its lease never runs past interval + 60 s,
    so a killed worker's job is found abandoned as soon as a forked work horse's would be."""
    queue = Queue("beat", connection=redis_conn)
    queue.enqueue(time.sleep, 2.5, job_timeout=600)
    worker = PrinterWorker(["beat"], connection=redis_conn, job_monitoring_interval=1)
    job, _ = Queue.dequeue_any([queue], None, connection=redis_conn)
    seen: list[float] = []

    def watch() -> None:
        wait_for(lambda: redis_conn.zcard(queue.started_job_registry.key), 5, interval=0.02)
        seen.append(started_expiry(redis_conn, queue))
        time.sleep(1.8)
        seen.append(started_expiry(redis_conn, queue))

    watcher = threading.Thread(target=watch)
    watcher.start()
    worker.execute_job(job, queue)
    watcher.join()
    assert seen[0] - time.time() < 120, "the lease is the job timeout's, not a heartbeat's"
    assert seen[1] > seen[0] + 0.5, "no heartbeat while the job ran"
    assert job.get_status(refresh=True) == JobStatus.FINISHED
    assert redis_conn.zcard(queue.started_job_registry.key) == 0


def test_printer_queues_take_turns_after_the_shared_ones(redis_conn, clean):
    """The printer queue just served goes to the back; shipping, print and default stay first."""
    for name in ("a", "b", "c"):
        jobs.register_printer(redis_conn, name)
    worker = PrinterWorker(["shipping", "print", "default"], connection=redis_conn)

    def order() -> list[str]:
        return [q.name for q in worker._ordered_queues]

    assert order() == ["shipping", "print", "default", "print:a", "print:b", "print:c"]
    worker.reorder_queues(Queue("print:a", connection=redis_conn))
    assert order() == ["shipping", "print", "default", "print:b", "print:c", "print:a"]
    worker.reorder_queues(Queue("print:c", connection=redis_conn))
    assert order() == ["shipping", "print", "default", "print:a", "print:b", "print:c"]
    worker.reorder_queues(Queue("shipping", connection=redis_conn))
    assert order() == ["shipping", "print", "default", "print:a", "print:b", "print:c"]


def test_worker_outlives_a_failing_and_a_timed_out_job(workers, redis_conn):
    """A job that raises and one stopped by its timeout are failed; the same worker goes on with the next."""
    [proc] = workers.start(1)
    queue = Queue("default", connection=redis_conn)
    slow = queue.enqueue(time.sleep, 30, job_timeout=1)
    bad = queue.enqueue("json.loads", "not json")
    good = queue.enqueue(len, "abc", result_ttl=60)
    wait_for(lambda: good.get_status(refresh=True) == JobStatus.FINISHED, 40)
    assert good.return_value() == 3
    assert slow.get_status(refresh=True) == JobStatus.FAILED
    assert "JobTimeoutException" in slow.latest_result().exc_string
    assert bad.get_status(refresh=True) == JobStatus.FAILED
    assert "JSONDecodeError" in bad.latest_result().exc_string
    assert proc.poll() is None
