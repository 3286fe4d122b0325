"""`manage.py runserver` (what `make run` serves with) on PostgreSQL: database connections stay
bounded however many keep-alive connections a browser opens."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.db import connection

from tests.reliability.live import database_url, free_port, until

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def _server_connections() -> int:
    """Connections to this test database other than this test's own."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def _answers(url: str) -> bool:
    try:
        answer = requests.get(url, timeout=5, headers={"Connection": "close"})
    except requests.ConnectionError:
        return False
    return answer.status_code in (200, 503)  # 503: up, with something unhealthy to report


@pytest.fixture
def runserver(transactional_db, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("counts PostgreSQL connections: run with DATABASE_URL=postgres://…")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "PYTEST"))}
    log = (tmp_path / "runserver.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env | {"DATABASE_URL": database_url(), "DEBUG": "1", "DUNWELL_SANDBOX": "0"},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        until(lambda: _answers(f"{url}/healthz"), seconds=60, what="runserver",
              log=tmp_path / "runserver.log")  # fmt: skip
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()


def test_runserver_holds_no_database_connection_per_keep_alive_browser_connection(runserver):
    before = _server_connections()
    browsers = [requests.Session() for _ in range(10)]  # each keeps its socket open, as tabs do

    for _ in range(2):
        for browser in browsers:
            assert browser.get(f"{runserver}/healthz", timeout=10).status_code in (200, 503)

    # A request's connection closes just after its answer is sent: allow it a moment.
    deadline = time.monotonic() + 5
    while _server_connections() > before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _server_connections() <= before
    for browser in browsers:
        browser.close()
