"""The worker's rules run directly (real PostgreSQL, Redis and a spool directory): recovery and order."""
from __future__ import annotations

from sqlalchemy import text

from print_service import jobs as print_jobs
from print_service.domain import sending


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
