"""`make run` as a newcomer uses it: on the port they choose, and stopped by a signal.

Each test runs the real `make run` (migrate, seed_demo, then the web server and the django-q2
worker) on a free port with a SQLite file of its own, so it takes a while.
"""

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.reliability.live import free_port, until

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
# Variables that would point the server somewhere else than its own port, database and sandbox.
_ISOLATE = {
    "DATABASE_URL", "REDIS_URL", "PUBLIC_BASE_URL", "ALLOWED_HOSTS", "HOST", "PORT",
    "XERO_LOGIN_URL", "XERO_IDENTITY_URL", "XERO_API_URL", "TWILIO_API_URL", "SENDGRID_API_URL",
    "XERO_CLIENT_ID", "XERO_CLIENT_SECRET", "XERO_WEBHOOK_KEY", "DUNWELL_SANDBOX",
    "MAKEFLAGS", "MFLAGS", "MAKELEVEL",  # `make test` runs this suite: no jobserver of its own
}  # fmt: skip


def _descendants(pid: int) -> set[int]:
    """Every process below `pid` (make's shell, the web server, the worker and its children)."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited; its parent has not collected it yet


class MakeRun:
    """`make run HOST=127.0.0.1 PORT=<free>` in a session of its own, as a terminal runs it."""

    def __init__(self, tmp_path: Path):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp_path / "make-run.log"
        env = {k: v for k, v in os.environ.items() if k not in _ISOLATE} | {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "DEBUG": "1",
            "Q_WORKERS": "1",
        }
        venv = sys.prefix  # this interpreter's venv, already installed: make must not reinstall
        command = ["make", "--no-print-directory", f"VENV={venv}", "-o", f"{venv}/.installed",
                   "run", "HOST=127.0.0.1", f"PORT={self.port}"]  # fmt: skip
        with self.log_path.open("w") as log:
            # start_new_session: make leads its own process group, as in a terminal; signals to
            # that group reach make and its shell as Ctrl-C would.
            self.make = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, preexec_fn=_default_sigint,
            )  # fmt: skip
        self.pids: set[int] = set()

    def log(self) -> str:
        return self.log_path.read_text()

    def wait_until_ready(self) -> None:
        until(
            self._ready, seconds=180, what="make run: the web server and worker", log=self.log_path
        )
        self.pids = _descendants(self.make.pid) | {self.make.pid}

    def _ready(self) -> bool:
        if self.make.poll() is not None:
            raise AssertionError(f"make run exited with {self.make.returncode}:\n{self.log()}")
        if not re.search(r"Q Cluster \S+ \[\S+\] running", self.log()):
            return False
        try:
            return requests.get(f"{self.base}/healthz", timeout=5).status_code in (200, 503)
        except requests.ConnectionError:
            return False

    def still_running(self) -> list[int]:
        return sorted(pid for pid in self.pids | {self.make.pid} if _alive(pid))

    def kill(self) -> None:
        """Whatever is left of this test's own processes, by id."""
        for pid in _descendants(self.make.pid) | self.pids | {self.make.pid}:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.make.wait(timeout=10)


def _default_sigint():
    # A shell running this suite in the background may have left SIGINT ignored, which a shell
    # then cannot trap: give make the dispositions a terminal would.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.fixture
def make_run(tmp_path):
    server = MakeRun(tmp_path)
    try:
        server.wait_until_ready()
        yield server
    finally:
        server.kill()


def _log_in(session: requests.Session, base: str) -> None:
    page = session.get(f"{base}/accounts/login/", timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    answer = session.post(
        f"{base}/accounts/login/",
        data={"csrfmiddlewaretoken": token, "username": "demo@dunwell.test",
              "password": "demo-dunwell"},
        headers={"Referer": f"{base}/accounts/login/"},
        timeout=10,
        allow_redirects=False,
    )  # fmt: skip
    assert answer.status_code == 302, answer.text


def test_make_run_on_another_port_sends_connect_to_xero_to_that_port(make_run):
    browser = requests.Session()
    _log_in(browser, make_run.base)

    answer = browser.get(
        f"{make_run.base}/connections/xero/connect/", timeout=10, allow_redirects=False
    )

    assert answer.status_code == 302
    assert answer.headers["Location"].startswith(f"{make_run.base}/sandbox/xero/login/")
    assert f"redirect_uri=http%3A%2F%2F127.0.0.1%3A{make_run.port}%2F" in answer.headers["Location"]
    assert f"Open {make_run.base}/accounts/login/" in make_run.log()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_to_make_run_stops_the_web_server_and_the_worker_within_seconds(make_run, signum):
    os.killpg(make_run.make.pid, signum)  # what Ctrl-C, `timeout` or a supervisor sends

    deadline = time.monotonic() + 15
    while make_run.still_running() and time.monotonic() < deadline:
        time.sleep(0.2)

    assert make_run.still_running() == [], make_run.log()[-3000:]
    assert "has stopped" in make_run.log()  # the worker stopped cleanly, not killed
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{make_run.base}/healthz", timeout=5)
