"""Redis restarted: the handheld's session survives (append-only file), queued jobs are not lost."""
from __future__ import annotations

import uuid

import pytest

from common.testing import assert_error, wait_for
from tests.print_service.fake_printer import FakePrinter

# One xdist worker runs the whole faults suite: a second copy of its stack would only cost time.
pytestmark = [pytest.mark.live, pytest.mark.xdist_group("faults")]


def test_faults_redis_restart_keeps_sessions_and_queued_labels(fresh, floor, workers):
    """A label queued before a Redis restart prints once after; the same token works; a running worker rides it out."""
    boss, labeler = floor.login("supervisor"), floor.login("labeler")
    printer = FakePrinter()
    try:
        made = boss.post(floor.url("/api/print/printers"), json={"name": "zebra-r", "uri": printer.uri}, timeout=10)
        assert made.status_code == 201, made.text

        def label(code: str) -> dict:
            answer = labeler.post(floor.url("/api/print/jobs"), headers={"Idempotency-Key": str(uuid.uuid4())},
                                  json={"printer": "zebra-r", "template": "location", "data": {"code": code}},
                                  timeout=10)
            assert answer.status_code == 202, answer.text
            return answer.json()

        def sent(job: dict) -> bool:
            return labeler.get(floor.url(f"/api/print/jobs/{job['id']}"), timeout=10).json()["state"] == "sent"

        queued = label("A-12-01")  # no worker yet: the job waits in Redis
        fresh.stop_redis()
        try:
            # While Redis is away the gateway cannot check a token: a clear 503, not a crash or a 401.
            assert_error(labeler.get(floor.url("/api/print/printers"), timeout=10), 503, "service_unavailable")
        finally:
            fresh.start_redis()
        assert labeler.get(floor.url("/api/print/printers"), timeout=10).status_code == 200, "the session was lost"
        [worker] = workers.start(1)
        wait_for(lambda: sent(queued), 30)
        # The worker keeps serving across a second restart.
        fresh.stop_redis()
        fresh.start_redis()
        later = label("A-12-02")
        wait_for(lambda: sent(later), 40)
        assert worker.poll() is None
        zpl = [labeler.get(floor.url(f"/api/print/jobs/{job['id']}/zpl"), timeout=10).content
               for job in (queued, later)]
        assert printer.labels() == zpl
    finally:
        printer.close()
