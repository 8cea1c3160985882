"""RQ side of printing: one queue per printer, the RQ job id is the print job id.

Jobs are enqueued after the transaction that created them commits (a worker must find the row),
with `unique=True` so a repeat enqueue never doubles a label, and `rq.Retry` with the printer's
backoff. `send_job` is what the worker runs; the rules live in domain/sending.py.
"""
from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from redis import Redis
from rq import Queue, Retry, get_current_job
from rq.exceptions import NoSuchJobError
from rq.executions import ExecutionRegistry
from rq.job import Job, JobStatus
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from common import db
from common.db import make_engine
from common.jobs import enqueue_once
from print_service.models import Printer, PrintJob

QUEUE_PREFIX = "print:"
PRINTER_QUEUES_KEY = "print:printer-queues"
FAILED_KEPT_SECONDS = 7 * 24 * 3600
# Generous: one run may also send the older labels of its printer that were still waiting.
JOB_TIMEOUT_SECONDS = 600


def queue_name(printer: str) -> str:
    return QUEUE_PREFIX + printer


def register_printer(redis: Redis, printer: str) -> None:
    """Make the printer's queue known to workers, which listen on every registered printer queue."""
    redis.sadd(PRINTER_QUEUES_KEY, queue_name(printer))


def printer_queues(redis: Redis) -> list[str]:
    return sorted(name.decode() if isinstance(name, bytes) else name for name in redis.smembers(PRINTER_QUEUES_KEY))


def backoff(retries: int, interval: int) -> list[int]:
    """Doubling waits from `interval` seconds, capped at five minutes."""
    return [min(300, interval * 2 ** i) for i in range(retries)]


def enqueue(redis: Redis, printer: str, job_id: str, retries: int, interval: int) -> None:
    """Put the job on its printer's queue unless it already waits there."""
    queue = Queue(queue_name(printer), connection=redis)
    retry = Retry(max=retries, interval=backoff(retries, interval)) if retries else None
    enqueue_once(queue, send_job, job_id, job_id=job_id, retry=retry, result_ttl=0,
                 failure_ttl=FAILED_KEPT_SECONDS, job_timeout=JOB_TIMEOUT_SECONDS)


def withdraw(redis: Redis, job_ids: Iterable[str]) -> None:
    """Take jobs off their queues (cancelled or moved); one already running re-reads its state."""
    for job_id in job_ids:
        try:
            job = Job.fetch(job_id, connection=redis)
        except NoSuchJobError:
            continue
        if job.get_status(refresh=True) != JobStatus.STARTED:
            job.delete()


def after_commit(s: db.Rows, action) -> None:  # type: ignore[no-untyped-def]
    """Run `action()` once the unit of work has committed; dropped on rollback."""
    db.after_commit(s, action)


def requeue_stranded(sessions: sessionmaker, redis: Redis, older_than_s: int = 60) -> list[str]:
    """Enqueue waiting jobs that have no RQ job (Redis was unreachable right after their commit)."""
    cutoff = datetime.now(UTC) - timedelta(seconds=older_than_s)
    with sessions() as s:
        rows = s.execute(select(PrintJob.id, Printer.name, Printer.retries, Printer.retry_interval_s)
                         .join(Printer, Printer.name == PrintJob.printer)
                         .where(PrintJob.state.in_(("queued", "retrying")), Printer.paused.is_(False),
                                PrintJob.updated_at < cutoff)
                         .order_by(PrintJob.seq)).all()
    stranded = [row for row in rows if not redis.exists(Job.key_for(row.id))]
    for row in stranded:
        enqueue(redis, row.name, row.id, row.retries, row.retry_interval_s)
    return [row.id for row in stranded]


def lock_seconds() -> int:
    """How long one printer's send lock lives without renewal (a dead worker's lock expires)."""
    return int(os.environ.get("PRINT_LOCK_SECONDS") or 30)


@lru_cache(maxsize=4)
def _sessions_of(pid: int) -> sessionmaker:
    engine = make_engine(os.environ["DATABASE_URL"], pool_size=2, application_name="print-worker")
    return sessionmaker(bind=engine, expire_on_commit=False)


def worker_sessions() -> sessionmaker:
    """Sessions for this process, made once: the worker runs every job in its own process.

    Keyed by process id all the same, so a process forked from it never shares its pool.
    """
    return _sessions_of(os.getpid())


@lru_cache(maxsize=1)
def _worker_redis() -> Redis:
    return Redis.from_url(os.environ["REDIS_URL"], socket_timeout=30, socket_connect_timeout=5)


def discard_waiting(redis: Redis, printer: str, job_ids: list[str]) -> list[str]:
    """Drop the RQ jobs of labels already sent by another job's run, if they still wait on the queue.

    LREM decides: a job removed from the list was taken by no worker, so its hash can go; one a
    worker already took (or a retry still scheduled) stays, and its run finds the label sent.
    """
    if not job_ids:
        return []
    key = Queue(queue_name(printer), connection=redis).key
    with redis.pipeline(transaction=False) as pipe:
        for job_id in job_ids:
            pipe.lrem(key, 1, job_id)
        removed = [job_id for job_id, count in zip(job_ids, pipe.execute(), strict=True) if count]
    if removed:
        keys = []
        for job_id in removed:
            job = Job(job_id, connection=redis)
            keys += [job.key, job.dependents_key, job.dependencies_key, ExecutionRegistry(job_id, redis).key]
        redis.delete(*keys)
    return removed


def send_job(job_id: str) -> str:
    """Send one print job (and the printer's other waiting labels, see domain/sending.py); its state."""
    from print_service.domain import sending

    current = get_current_job()
    retries_left = current.retries_left if current is not None and current.retries_left else 0
    worker = current.worker_name if current is not None else ""
    redis = _worker_redis()
    sent_ahead: list[str] = []
    try:
        return sending.send(worker_sessions(), redis, job_id, retries_left=retries_left,
                            lock_seconds=lock_seconds(), worker=worker or "", sent_ahead=sent_ahead)
    finally:
        if sent_ahead and current is not None:
            discard_waiting(redis, current.origin.removeprefix(QUEUE_PREFIX), sent_ahead)
