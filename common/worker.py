"""The RQ worker of `make run`: every queue the services use, with the scheduler for retries."""
from __future__ import annotations

import os

from redis import Redis
from rq import Worker

QUEUES = ("shipping", "print", "default")


def main() -> None:
    connection = Redis.from_url(os.environ["REDIS_URL"])
    queues = os.environ.get("WORKER_QUEUES", ",".join(QUEUES)).split(",")
    Worker(queues, connection=connection).work(with_scheduler=True)


if __name__ == "__main__":
    main()
