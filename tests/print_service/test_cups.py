"""The CUPS path against a real cupsd: a raw queue in front of the fake Zebra.

Needs Debian's `cups` (cupsd, lpadmin) and `cups-client`/`cups-bsd` (lpr, lpstat); without them the
tests skip and say so.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from common.testing import wait_for
from print_service import drivers
from print_service.drivers.cups import CupsDriver
from tests.print_service.test_printing_live import Print

MISSING = [tool for tool in ("cupsd", "lpadmin", "lpr", "lpstat", "cupsreject")
           if not shutil.which(tool) and not Path("/usr/sbin", tool).exists()]
pytestmark = pytest.mark.live


@pytest.fixture(autouse=True)
def cups_installed():
    """`make test` installs CUPS (make system-packages): without it these tests fail, not skip."""
    if MISSING:
        pytest.fail(f"CUPS not installed (missing {', '.join(MISSING)}): `make test` installs cups cups-client "
                    "cups-bsd (make system-packages)")

CUPSD_CONF = """Listen {root}/cups.sock
LogLevel warn
WebInterface No
Browsing No
<Location />
  Order allow,deny
  Allow all
</Location>
<Policy default>
  <Limit All>
    Order deny,allow
  </Limit>
</Policy>
"""
FILES_CONF = """ServerRoot {root}
RequestRoot {root}/spool
CacheDir {root}/cache
StateDir {root}/state
ErrorLog {root}/log/error_log
AccessLog {root}/log/access_log
PageLog {root}/log/page_log
ServerBin /usr/lib/cups
DataDir /usr/share/cups
Sandboxing Relaxed
"""


class Cups:
    """A private cupsd on a Unix socket; clients find it through CUPS_SERVER."""

    def __init__(self) -> None:
        # A short path: the socket must fit in sun_path.
        self.root = Path(tempfile.mkdtemp(prefix="cups-", dir="/tmp"))
        for sub in ("spool", "cache", "state", "log", "ppd"):
            (self.root / sub).mkdir()
        (self.root / "cupsd.conf").write_text(CUPSD_CONF.format(root=self.root))
        (self.root / "cups-files.conf").write_text(FILES_CONF.format(root=self.root))
        self.env = {"CUPS_SERVER": str(self.root / "cups.sock")}
        cupsd = shutil.which("cupsd") or "/usr/sbin/cupsd"
        self.proc = subprocess.Popen([cupsd, "-f", "-c", str(self.root / "cupsd.conf"), "-s",
                                      str(self.root / "cups-files.conf")], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: (self.root / "cups.sock").exists(), timeout=15)

    def run(self, *args: str) -> subprocess.CompletedProcess:
        tool = shutil.which(args[0]) or f"/usr/sbin/{args[0]}"
        return subprocess.run([tool, *args[1:]], env=os.environ | self.env, capture_output=True, text=True,
                              timeout=20, check=False)

    def add_raw_queue(self, name: str, device: str) -> None:
        done = self.run("lpadmin", "-p", name, "-E", "-v", device, "-m", "raw")
        assert done.returncode == 0, done.stderr

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def cups() -> Iterator[Cups]:
    server = Cups()
    yield server
    server.close()


def test_post_jobs_cups_queue_delivers_exact_bytes(floor, workers, fake_printer, cups):
    """A cups:// printer: lpr hands the UTF-8 ZPL to a raw queue, the printer gets it byte for byte."""
    cups.add_raw_queue("zebra_raw", f"socket://127.0.0.1:{fake_printer.port}")
    desk = Print(floor)
    desk.printer("cups-1", "cups://zebra_raw")
    workers.env.update(cups.env)
    workers.start(1)
    answer = desk.labeler.post(desk.url("/jobs"), json={"printer": "cups-1", "template": "sku",
                                                        "data": {"sku": "TS-9", "name": "毛巾 蓝色",
                                                                 "barcode": "6901234567892"}},
                               headers={"Idempotency-Key": str(uuid.uuid4())}, timeout=10)
    assert answer.status_code == 202, answer.text
    job_id = answer.json()["id"]
    desk.wait_state(job_id, "sent")
    zpl = desk.zpl(job_id)
    assert "毛巾 蓝色".encode() in zpl
    wait_for(lambda: fake_printer.labels() == [zpl], timeout=20)
    time.sleep(1)
    assert fake_printer.labels() == [zpl]


def test_post_jobs_cups_refusal_is_retried_then_failed(floor, workers, fake_printer, cups):
    """A queue that rejects jobs makes lpr exit non-zero: the job is not marked sent, it fails saying why."""
    cups.add_raw_queue("zebra_closed", f"socket://127.0.0.1:{fake_printer.port}")
    assert cups.run("cupsreject", "zebra_closed").returncode == 0
    desk = Print(floor)
    desk.printer("cups-2", "cups://zebra_closed", retries=1, retry_interval_s=1)
    workers.env.update(cups.env)
    workers.start(1)
    job = desk.job("cups-2", "A-09-01")
    failed = desk.wait_state(job["id"], "failed", timeout=30)
    assert "lpr for zebra_closed exited" in failed["error"]
    assert failed["attempts"] == 2 and fake_printer.labels() == []


def test_cups_driver_status_reads_lpstat(cups, fake_printer, monkeypatch):
    """The CUPS driver's status: an enabled queue is ready, a disabled one paused, an unknown one offline."""
    cups.add_raw_queue("zebra_s", f"socket://127.0.0.1:{fake_printer.port}")
    for name, value in cups.env.items():
        monkeypatch.setenv(name, value)
    assert CupsDriver("zebra_s").status().state == drivers.READY
    assert cups.run("cupsdisable", "zebra_s").returncode == 0
    assert CupsDriver("zebra_s").status().state == drivers.PAUSED
    assert CupsDriver("no_such_queue").status().state == drivers.OFFLINE
