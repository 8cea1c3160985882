"""RQ queues with an explicit connection; jobs enqueued after commit with a fixed id.

Job functions live in each service's jobs.py, take ids, and have idempotent effects: RQ delivers
at least once.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from redis import Redis
from rq import Queue, Retry
from rq.exceptions import DuplicateJobError
from rq.job import Job

DEFAULT_RETRY = Retry(max=5, interval=[1, 2, 5, 10, 30])


def queue(name: str, connection: Redis) -> Queue:
    return Queue(name, connection=connection)


def enqueue_once(q: Queue, func: Callable[..., Any], *args: Any, job_id: str,
                 retry: Retry | None = DEFAULT_RETRY, **kwargs: Any) -> Job | None:
    """Enqueue unless a job with this id already waits; returns None for a duplicate."""
    try:
        return q.enqueue(func, *args, job_id=job_id, unique=True, retry=retry, **kwargs)
    except DuplicateJobError:
        return None
