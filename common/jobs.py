"""RQ queues with an explicit connection; jobs enqueued after commit with a fixed id.

Job functions live in each service's jobs.py, take ids, and have idempotent effects: RQ delivers
at least once.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from redis import Redis
from rq import Queue, Retry
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job, JobStatus

DEFAULT_RETRY = Retry(max=5, interval=[1, 2, 5, 10, 30])


def queue(name: str, connection: Redis) -> Queue:
    return Queue(name, connection=connection)


# A job in one of these states will still run: enqueuing its id again would double its effect.
WAITING = (JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.STARTED, JobStatus.DEFERRED)


def enqueue_once(q: Queue, func: Callable[..., Any], *args: Any, job_id: str,
                 retry: Retry | None = DEFAULT_RETRY, **kwargs: Any) -> Job | None:
    """Enqueue unless a job with this id still waits on this queue; None for such a duplicate.

    A job of the same id that already ran (finished, failed, stopped) or waits on another queue (a
    moved print job) is replaced, so a later re-drive can send the same work again.
    """
    try:
        return q.enqueue(func, *args, job_id=job_id, unique=True, retry=retry, **kwargs)
    except DuplicateJobError:
        try:
            existing = Job.fetch(job_id, connection=q.connection)
        except NoSuchJobError:
            existing = None
        if existing is not None:
            if existing.get_status(refresh=True) in WAITING and existing.origin == q.name:
                return None
            existing.delete()
        return q.enqueue(func, *args, job_id=job_id, unique=True, retry=retry, **kwargs)
