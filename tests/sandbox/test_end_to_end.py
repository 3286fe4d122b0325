"""End to end over real HTTP: the real server and a real django-q2 worker, with the sandbox as
Xero and Twilio. Connect to Xero, approve an invoice in the sandbox console, and the text arrives
on the sandbox phone and shows as delivered in Dunwell's send log; a payment brings a receipt."""

import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
AROHA = "+64215550101"
# Variables that would point the servers somewhere else than their own sandbox.
_ISOLATE = (
    "DATABASE_URL",
    "REDIS_URL",
    "XERO_LOGIN_URL",
    "XERO_IDENTITY_URL",
    "XERO_API_URL",
    "TWILIO_API_URL",
    "SENDGRID_API_URL",
    "XERO_CLIENT_ID",
    "XERO_CLIENT_SECRET",
    "XERO_WEBHOOK_KEY",
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _until(condition, *, seconds: float = 30, what: str = ""):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


class Dunwell:
    """A running `make run`: web server and worker on a file database of their own."""

    def __init__(self, tmp_path: Path):
        port = _free_port()
        self.base = f"http://127.0.0.1:{port}"
        self.database = tmp_path / "e2e.sqlite3"
        self.env = {k: v for k, v in os.environ.items() if k not in _ISOLATE} | {
            "DATABASE_URL": f"sqlite:///{self.database}",
            "DEBUG": "1",
            "DUNWELL_SANDBOX": "1",
            "PUBLIC_BASE_URL": self.base,
            "SANDBOX_TWILIO_STEP_SECONDS": "0.2",
            "Q_WORKERS": "1",
        }
        self.logs = (tmp_path / "web.log").open("w"), (tmp_path / "worker.log").open("w")
        self._manage("migrate", "--noinput")
        self._manage("seed_demo")
        # The servers run in processes of their own on the real clock, so the test cannot travel
        # in time: without this, a run after 21:00 in Auckland holds Aroha's text for quiet hours.
        self._manage(
            "shell",
            "-c",
            "from connections.models import Tenant; "
            "Tenant.objects.update(quiet_hours_start='00:00', quiet_hours_end='00:00')",
        )
        self.processes = [
            self._start(["runserver", "--noreload", f"127.0.0.1:{port}"], self.logs[0]),
            self._start(["qcluster"], self.logs[1]),
        ]
        self.browser = requests.Session()

    def _manage(self, *args):
        subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
            timeout=120,
        )

    def _start(self, args, log):
        command = [sys.executable, "manage.py", *args]
        return subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=log)

    def stop(self):
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        for log in self.logs:
            log.close()

    def query(self, sql: str):
        with sqlite3.connect(self.database) as db:
            return db.execute(sql).fetchall()

    def get(self, path: str, **kwargs):
        return self.browser.get(self.base + path, timeout=10, **kwargs)

    def post_form(self, page_path: str, action: str, fields: dict):
        """Submit a form the way a browser does: CSRF token from the page, Referer set."""
        page = self.get(page_path)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        return self.browser.post(
            self.base + action,
            data={"csrfmiddlewaretoken": token, **fields},
            headers={"Referer": self.base + page_path},
            timeout=10,
        )


@pytest.fixture
def dunwell(tmp_path):
    server = Dunwell(tmp_path)
    try:
        _until(lambda: _answers(server, "/sandbox/"), what="the web server")
        yield server
    finally:
        server.stop()


def _answers(server, path) -> bool:
    try:
        return server.get(path).status_code == 200
    except requests.ConnectionError:
        return False


def _connect_to_xero(dunwell: Dunwell) -> None:
    dunwell.post_form(
        "/accounts/login/",
        "/accounts/login/",
        {"username": "demo@dunwell.test", "password": "demo-dunwell"},
    )
    consent = dunwell.get("/connections/xero/connect/")
    assert "/sandbox/xero/login/identity/connect/authorize" in consent.url
    hidden = dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', consent.text))
    organisations = re.findall(r'name="organisation" value="([^"]+)"', consent.text)
    back = dunwell.browser.post(
        consent.url,
        data={**hidden, "organisation": organisations, "allow": "1"},
        headers={"Referer": consent.url},
        timeout=10,
    )
    assert back.url.endswith("/connections/xero/choose/"), back.url
    chosen = re.findall(r'name="xero_tenant_id"[^>]*?value="([^"]+)"', back.text, re.S)
    done = dunwell.post_form(
        "/connections/xero/choose/", "/connections/xero/choose/", {"xero_tenant_id": chosen}
    )
    assert "Connected to Xero" in done.text


def _invoice_id(dunwell: Dunwell, number: str) -> str:
    [(hex_id,)] = dunwell.query(
        "select invoice_id from sandbox_invoice i join sandbox_organisation o "
        f"on o.id = i.organisation_id where o.name like 'Kauri%' and invoice_number = '{number}'"
    )
    return f"{hex_id[:8]}-{hex_id[8:12]}-{hex_id[12:16]}-{hex_id[16:20]}-{hex_id[20:]}"


@pytest.mark.slow
def test_an_approved_invoice_reaches_the_phone_and_a_payment_brings_a_receipt(dunwell):
    _connect_to_xero(dunwell)
    # Invoices open at connection time are imported silently, by the once-a-minute poll
    # schedule; wait for that before acting.
    _until(
        lambda: (
            dunwell.query(
                "select count(*) from billing_events_organisationsync where imported_at is not null"
            )[0][0]
            == 2
        ),
        seconds=90,
        what="the initial import",
    )
    [(aroha,)] = dunwell.query("select id from sandbox_contact where name = 'Aroha Ngata'")
    dunwell.post_form(
        "/sandbox/",
        "/sandbox/xero/invoices/",
        {"contact": aroha, "total": "485.00", "due_in_days": "7", "description": "Cake"},
    )
    invoice_id = _invoice_id(dunwell, "INV-0005")
    dunwell.post_form("/sandbox/", f"/sandbox/xero/invoices/{invoice_id}/approve/", {})

    phone = f"/sandbox/twilio/phones/{AROHA}/"
    issued = _until(
        lambda: "INV-0005" in (text := dunwell.get(phone).text) and "delivered" in text and text,
        what="the invoice text on the sandbox phone",
    )
    assert "$485.00" in issued
    _until(
        lambda: "delivered" in dunwell.get("/messaging/").text,
        what="delivered in Dunwell's send log",
    )

    dunwell.post_form("/sandbox/", f"/sandbox/xero/invoices/{invoice_id}/pay/", {"amount": "485"})
    _until(
        lambda: "received $485.00" in dunwell.get(phone).text,
        what="the receipt on the sandbox phone",
    )
