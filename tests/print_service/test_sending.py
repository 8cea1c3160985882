"""The worker's rules run directly (real PostgreSQL, Redis, a spool directory or a fake Zebra): recovery,
order, and a run going on with the printer's newer labels."""
from __future__ import annotations

from rq import Queue
from rq.job import Job
from sqlalchemy import text

from print_service import jobs as print_jobs
from print_service.domain import sending
from tests.print_service.fake_printer import FakePrinter


def setup_printer(service, spool) -> tuple:
    supervisor = service("print", "supervisor")
    answer = supervisor.post("/api/print/printers", json={"name": "spool-1", "uri": spool.as_uri()})
    assert answer.status_code == 201
    return supervisor, service("print", "labeler")


def make_job(client, code: str) -> dict:
    answer = client.post("/api/print/jobs", json={"printer": "spool-1", "template": "location",
                                                  "data": {"code": code}})
    assert answer.status_code == 202
    return answer.get_json()


def events(client, job_id: str) -> list[str]:
    return [e["event"] for e in client.get(f"/api/print/jobs/{job_id}").get_json()["history"]]


def test_send_job_found_sending_is_sent_once_more(service, engine, redis_conn, tmp_path):
    """A job left `sending` by a dead worker is sent again once, and its history says so."""
    _, client = setup_printer(service, tmp_path)
    job = make_job(client, "A-01")
    with engine.begin() as conn:
        conn.execute(text("UPDATE print.jobs SET state = 'sending', attempts = 1 WHERE id = :id"), {"id": job["id"]})
    state = sending.send(print_jobs.worker_sessions(), redis_conn, job["id"], retries_left=2, lock_seconds=5)
    assert state == "sent"
    assert events(client, job["id"]) == ["requested", "interrupted", "attempt", "sent"]
    assert [f.read_text() for f in tmp_path.iterdir()] == [client.get(f"/api/print/jobs/{job['id']}/zpl").get_data(
        as_text=True)]


def test_send_job_interrupted_twice_fails_instead_of_a_third_copy(service, engine, redis_conn, tmp_path):
    """Interrupted a second time, the job fails with the reason and nothing more is written."""
    _, client = setup_printer(service, tmp_path)
    job = make_job(client, "A-02")
    with engine.begin() as conn:
        conn.execute(text("UPDATE print.jobs SET state = 'sending', attempts = 2 WHERE id = :id"), {"id": job["id"]})
        conn.execute(text("INSERT INTO print.job_events (job_id, event, state, attempt) "
                          "VALUES (:id, 'interrupted', 'sending', 1)"), {"id": job["id"]})
    state = sending.send(print_jobs.worker_sessions(), redis_conn, job["id"], retries_left=2, lock_seconds=5)
    assert state == "failed"
    detail = client.get(f"/api/print/jobs/{job['id']}").get_json()
    assert "interrupted twice" in detail["error"] and list(tmp_path.iterdir()) == []


def test_send_later_job_sends_older_waiting_ones_first(service, redis_conn, tmp_path):
    """Run for the newest job, a worker first sends the printer's older waiting jobs, in order."""
    _, client = setup_printer(service, tmp_path)
    made = [make_job(client, f"A-0{i}") for i in range(3)]
    state = sending.send(print_jobs.worker_sessions(), redis_conn, made[-1]["id"], retries_left=0, lock_seconds=5)
    assert state == "sent"
    details = [client.get(f"/api/print/jobs/{job['id']}").get_json() for job in made]
    assert [d["state"] for d in details] == ["sent"] * 3
    assert [d["sent_at"] for d in details] == sorted(d["sent_at"] for d in details)
    assert sending.send(print_jobs.worker_sessions(), redis_conn, made[0]["id"], retries_left=0,
                        lock_seconds=5) == "sent"
    assert events(client, made[0]["id"]) == ["requested", "attempt", "sent"]
    assert len(list(tmp_path.iterdir())) == 3
    printer = client.get("/api/print/printers/spool-1").get_json()
    assert printer["state"] == "ready"


def zpl_of(client, job_id: str) -> str:
    return client.get(f"/api/print/jobs/{job_id}/zpl").get_data(as_text=True)


def test_send_goes_on_with_the_newer_labels_in_order_and_names_them(service, redis_conn, tmp_path):
    """Run for the oldest job, a worker also sends the printer's newer waiting labels, in order, each once."""
    _, client = setup_printer(service, tmp_path)
    made = [make_job(client, f"B-0{i}") for i in range(3)]
    ahead: list[str] = []
    state = sending.send(print_jobs.worker_sessions(), redis_conn, made[0]["id"], retries_left=0, lock_seconds=5,
                         sent_ahead=ahead)
    assert state == "sent"
    assert ahead == [made[1]["id"], made[2]["id"]]
    # The spool names files by seq: sorted, they are the jobs in order, each written once.
    assert [f.read_text() for f in sorted(tmp_path.iterdir())] == [zpl_of(client, job["id"]) for job in made]
    for job in made[1:]:
        assert events(client, job["id"]) == ["requested", "attempt", "sent"]
    assert client.get("/api/print/printers/spool-1").get_json()["state"] == "ready"
    # Their own runs find nothing left to do.
    assert sending.send(print_jobs.worker_sessions(), redis_conn, made[2]["id"], retries_left=0,
                        lock_seconds=5) == "sent"
    assert len(list(tmp_path.iterdir())) == 3


def test_send_out_of_drain_time_stops_at_its_own_label(service, redis_conn, tmp_path):
    """With no time to go on, a run sends up to its own label and leaves the newer ones to their own jobs."""
    _, client = setup_printer(service, tmp_path)
    made = [make_job(client, f"C-0{i}") for i in range(3)]
    ahead: list[str] = []
    state = sending.send(print_jobs.worker_sessions(), redis_conn, made[1]["id"], retries_left=0, lock_seconds=5,
                         drain_seconds=0, sent_ahead=ahead)
    assert state == "sent" and ahead == [made[0]["id"]]
    assert [client.get(f"/api/print/jobs/{job['id']}").get_json()["state"] for job in made] == [
        "sent", "sent", "queued"]


def test_discard_waiting_drops_only_rq_jobs_still_on_the_queue(service, redis_conn, tmp_path):
    """Sent-ahead labels' RQ jobs leave the queue with their hashes; one a worker already took is left alone."""
    _, client = setup_printer(service, tmp_path)
    made = [make_job(client, f"D-0{i}") for i in range(3)]
    queue = Queue(print_jobs.queue_name("spool-1"), connection=redis_conn)
    assert queue.job_ids == [job["id"] for job in made]
    redis_conn.lrem(queue.key, 1, made[2]["id"])  # as a worker's dequeue does
    removed = print_jobs.discard_waiting(redis_conn, "spool-1", [made[1]["id"], made[2]["id"]])
    assert removed == [made[1]["id"]]
    assert queue.job_ids == [made[0]["id"]]
    assert not redis_conn.exists(Job.key_for(made[1]["id"]))
    assert redis_conn.exists(Job.key_for(made[0]["id"])) and redis_conn.exists(Job.key_for(made[2]["id"]))


class GoesDark(FakePrinter):
    """Takes its first label, then closes every later connection without a word."""

    def __init__(self) -> None:
        self.connections = 0
        super().__init__()

    def _handle(self, conn) -> None:  # type: ignore[no-untyped-def]
        with self.lock:
            self.connections += 1
            first = self.connections == 1
        if first:
            super()._handle(conn)
        else:
            conn.close()


def test_send_newer_label_offline_is_left_to_its_own_job(service, redis_conn):
    """The printer goes dark after the run's own label: that label stays sent, the newer one waits for its retry."""
    printer = GoesDark()
    try:
        supervisor = service("print", "supervisor")
        assert supervisor.post("/api/print/printers", json={"name": "zebra-1", "uri": printer.uri,
                                                            "retries": 2}).status_code == 201
        client = service("print", "labeler")
        made = [client.post("/api/print/jobs", json={"printer": "zebra-1", "template": "location",
                                                     "data": {"code": f"E-0{i}"}}).get_json() for i in range(2)]
        ahead: list[str] = []
        state = sending.send(print_jobs.worker_sessions(), redis_conn, made[0]["id"], retries_left=2,
                             lock_seconds=5, sent_ahead=ahead)
        assert state == "sent" and ahead == []
        assert printer.labels() == [zpl_of(client, made[0]["id"]).encode()]
        newer = client.get(f"/api/print/jobs/{made[1]['id']}").get_json()
        assert newer["state"] == "retrying" and f":{printer.port}" in newer["error"]
        assert [e["event"] for e in newer["history"]] == ["requested", "attempt", "retrying"]
        assert made[1]["id"] in Queue(print_jobs.queue_name("zebra-1"), connection=redis_conn).job_ids
        assert supervisor.get("/api/print/printers/zebra-1").get_json()["state"] == "offline"
    finally:
        printer.close()
