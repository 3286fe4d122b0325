"""Real processes for the crash tests: a qcluster worker (and a web server) against the test's
own database, and a stand-in Twilio they reach over real HTTP.

`StandInTwilio` counts what Twilio would have received. It can hold one send mid-way — after
accepting it (the answer is not yet sent) or before — so that a test can kill the worker at
exactly the moment FACTS.md calls ambiguous.

`Processes` starts `manage.py qcluster` (and gunicorn) in their own process groups, so SIGKILL
takes the whole cluster — sentinel, pusher, monitor and workers — at once. A restarted worker
can run with its clock moved on (`qcluster_at.py`): a claim a dead worker left behind goes
stale after SENDING_STALE_AFTER (5 minutes), and the test does not wait 5 real minutes.
"""

import contextlib
import glob
import json
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import requests
from django.conf import settings
from django.db import connection, connections

from connections.models import MessagingSettings
from messaging.models import Message
from messaging.services import SENDING_STALE_AFTER, notify
from sandbox.models import SmsMessage, TwilioAccount
from sandbox.twilio_fake import message_json
from snapshots.contacts import ContactCard

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT_SID = "AC" + "f" * 32
AUTH_TOKEN = "stand-in-twilio-auth-token-0001"
WEBHOOK_KEY = "stand-in-xero-webhook-key-0001"
NOT_FINAL = ("pending", "scheduled", "sending")
RESTART_AHEAD = SENDING_STALE_AFTER + timedelta(minutes=1)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def until(condition, *, seconds: float, what: str, log: Path | None = None):
    """Wait for `condition()` to be truthy; fail with the worker's last log lines if it never is."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.1)
    tail = "\n".join(log.read_text().splitlines()[-30:]) if log and log.exists() else ""
    raise AssertionError(f"timed out after {seconds:.0f} s waiting for {what}\n{tail}")


# --- Twilio -------------------------------------------------------------------------------------


class StandInTwilio:
    """POST Messages.json accepts and records a text; GET lists a number's texts (reconcile)."""

    def __init__(self, *, seed: int):
        self.received: list[dict] = []
        self.lock = threading.Lock()
        self.random = random.Random(seed)
        self.hold_at: tuple[int, bool] | None = None  # (nth send, after accepting it?)
        self.held_sid = ""
        self.held = threading.Event()
        self.release = threading.Event()
        self.requests_seen = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def hold(self, nth: int, *, accepted: bool) -> None:
        """Hold the nth send from now (after accepting it, or before) until `release` is set."""
        self.held.clear()
        self.release.clear()
        with self.lock:
            self.hold_at = (self.requests_seen + nth, accepted)

    def count(self) -> int:
        with self.lock:
            return len(self.received)

    def _is_held(self) -> tuple[int, bool] | None:
        """Count this request; the hold if it is the one to hold."""
        with self.lock:
            self.requests_seen += 1
            if self.hold_at and self.hold_at[0] == self.requests_seen:
                return self.hold_at
        return None

    def _accept(self, form: dict) -> dict:
        sent = {
            "sid": "SM" + secrets.token_hex(16),
            "to": form["To"],
            "body": form.get("Body", ""),
            "from": form.get("From", ""),
            "date_created": datetime.now(UTC),
        }
        with self.lock:
            self.received.append(sent)
        return sent

    def _json(self, sent: dict) -> dict:
        account = TwilioAccount(account_sid=ACCOUNT_SID)
        return message_json(
            SmsMessage(
                account=account, sid=sent["sid"], direction="outbound-api", to=sent["to"],
                from_number=sent["from"], body=sent["body"], status="queued",
                date_created=sent["date_created"], date_updated=sent["date_created"],
            )
        )  # fmt: skip

    def _handler(self):
        twilio = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _reply(self, status: int, payload: dict) -> None:
                body = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the worker that asked was killed meanwhile

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                hold = twilio._is_held()
                if hold and not hold[1]:  # in flight, never accepted: the worker dies first
                    twilio.held.set()
                    twilio.release.wait(60)
                    return
                sent = twilio._accept(form)
                if hold:  # accepted, and the answer never reaches the worker
                    twilio.held_sid = sent["sid"]
                    twilio.held.set()
                    twilio.release.wait(60)
                else:
                    time.sleep(twilio.random.uniform(0, 0.02))  # a window to be killed in
                self._reply(201, twilio._json(sent))

            def do_GET(self):
                to = parse_qs(urlsplit(self.path).query).get("To", [""])[0]
                with twilio.lock:
                    mine = [s for s in reversed(twilio.received) if s["to"] == to]
                self._reply(200, {
                    "messages": [twilio._json(s) for s in mine],
                    "next_page_uri": None, "page": 0, "page_size": 100, "start": 0,
                    "end": max(len(mine) - 1, 0), "uri": self.path,
                })  # fmt: skip

        return Handler


# --- the database the processes share -----------------------------------------------------------


def database_url() -> str:
    """The database this test runs in, as DATABASE_URL for a process of its own."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


class PrivatePostgres:
    """A PostgreSQL server of this test's own, to stop and start mid-run.

    Restarting the machine's shared server (pg_ctlcluster 15 main restart) would kill every
    other test run's connections too. This one is initdb'ed into a temporary directory, runs the
    same binaries, and holds a copy of the test database (pg_dump | psql, a second or two).
    """

    def __init__(self):
        self.bin = _postgres_bin()
        self.home = Path(tempfile.mkdtemp(prefix="dunwell-pg-"))
        self.port = free_port()
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_postgres:
            shutil.chown(self.home, "postgres")
        self._run("initdb", "-D", self.home / "data", "-A", "trust", "-U", "postgres",
                  "--no-sync", "-E", "UTF8", "--locale=C")  # fmt: skip
        self.start()

    def _run(self, tool: str, *args, **kwargs):
        command = [*self.as_postgres, str(self.bin / tool), *map(str, args)]
        return subprocess.run(command, check=True, capture_output=True, timeout=60, **kwargs)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.home} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", self.home / "data", "-o", options, "-l", self.home / "log",
                  "-w", "start")  # fmt: skip

    def stop(self) -> None:
        """Down, as a restart takes it down: every connection is cut."""
        self._run("pg_ctl", "-D", self.home / "data", "-m", "fast", "-w", "stop")

    def clone(self, db: dict) -> str:
        """Copy the test database here; return the copy's name."""
        psql = [str(self.bin / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres"]
        subprocess.run([*psql, "-q", "-c", "CREATE DATABASE dunwell"], check=True, timeout=60)
        dump = subprocess.run(
            [str(self.bin / "pg_dump"), "-h", db["HOST"], "-p", str(db["PORT"]), "-U", db["USER"],
             "--no-owner", "--no-privileges", db["NAME"]],
            check=True, capture_output=True, timeout=120,
            env=os.environ | {"PGPASSWORD": db.get("PASSWORD") or ""},
        )  # fmt: skip
        subprocess.run([*psql, "-q", "-d", "dunwell"], input=dump.stdout, check=True,
                       capture_output=True, timeout=120)  # fmt: skip
        return "dunwell"

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run("pg_ctl", "-D", self.home / "data", "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.home, ignore_errors=True)


def _postgres_bin() -> Path:
    found = shutil.which("pg_ctl") or max(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), default="")
    return Path(found).resolve().parent if found else Path()


def postgres_restartable() -> str:
    """Why a PostgreSQL restart cannot be tested here ("" when it can)."""
    if connection.vendor != "postgresql":
        return "needs PostgreSQL (DATABASE_URL=postgres://…): SQLite has no server to restart"
    if not (_postgres_bin() / "initdb").exists():
        return "needs PostgreSQL's server binaries (initdb, pg_ctl) to run a server of its own"
    return ""


# --- processes ----------------------------------------------------------------------------------


class Processes:
    """A qcluster worker, and optionally a gunicorn web server, on the test's database."""

    def __init__(self, tmp_path: Path, *, twilio: StandInTwilio):
        self.tmp_path = tmp_path
        self.worker_log = tmp_path / "worker.log"
        self.web_log = tmp_path / "web.log"
        self.worker: subprocess.Popen | None = None
        self.web: subprocess.Popen | None = None
        self.web_url = ""
        self.restarts = 0
        self.env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("DATABASE_URL", "REDIS_URL", "PYTEST", "DJANGO_SETTINGS"))
        } | {
            "DEBUG": "1",
            "DUNWELL_SANDBOX": "0",
            "SECRET_KEY": settings.SECRET_KEY,
            "FIELD_ENCRYPTION_KEYS": ",".join(settings.FIELD_ENCRYPTION_KEYS),
            "TWILIO_API_URL": twilio.url,
            "Q_WORKERS": "2",
            "LOG_LEVEL": "WARNING",
            "XERO_WEBHOOK_KEY": WEBHOOK_KEY,
        }
        if settings.REDIS_URL:
            self.env["REDIS_URL"] = settings.REDIS_URL

    def _start(self, args: list[str], log: Path) -> subprocess.Popen:
        env = self.env | {"DATABASE_URL": database_url()}
        with log.open("a") as out:
            return subprocess.Popen(
                [sys.executable, *args], cwd=ROOT, env=env, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip

    def worker_start(self, *, clock_ahead_seconds: float = 0) -> None:
        self.worker = self._start(
            ["-m", "tests.reliability.qcluster_at", str(clock_ahead_seconds)], self.worker_log
        )

    def worker_kill(self) -> None:
        """SIGKILL the whole cluster: nothing gets to clean up, as when a machine dies."""
        os.killpg(self.worker.pid, signal.SIGKILL)
        self.worker.wait(timeout=30)

    def worker_restart(self) -> None:
        """Kill the worker and start another, its clock past the dead one's stale claims."""
        self.worker_kill()
        self.restarts += 1
        self.worker_start(clock_ahead_seconds=self.restarts * RESTART_AHEAD.total_seconds())

    def web_start(self) -> None:
        port = free_port()
        self.web_url = f"http://127.0.0.1:{port}"
        self.web = self._start(
            ["-m", "gunicorn", "config.wsgi", "--workers", "3", "--bind", f"127.0.0.1:{port}"],
            self.web_log,
        )
        until(self._web_answers, seconds=120, what="the web server", log=self.web_log)

    def _web_answers(self) -> bool:
        try:
            return requests.get(f"{self.web_url}/healthz", timeout=30).status_code == 200
        except requests.RequestException:  # not listening yet, or a worker still booting
            return False

    def stop(self) -> None:
        for process in (self.worker, self.web):
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=30)


# --- the work: many texts, and the check that each went once -----------------------------------


def texts_queue(*, tenant, count: int) -> None:
    """`count` invoice texts to 50 phones, through notify(): rows, then kicks on the queue."""
    tenant.quiet_hours_start = tenant.quiet_hours_end = "00:00"  # send at any hour
    tenant.save()
    MessagingSettings.objects.update_or_create(
        tenant=tenant,
        defaults={
            "twilio_account_sid": ACCOUNT_SID,
            "twilio_auth_token": AUTH_TOKEN,
            "twilio_from_number": "+6498880000",
        },
    )
    for n in range(count):
        phone = f"+6421{555_0000 + n % 50}"
        contact = ContactCard(
            contact_id=f"contact-{n % 50}", name=f"Customer {n % 50}", first_name="Kia",
            phones=({"PhoneType": "MOBILE", "PhoneNumber": phone},),
        )  # fmt: skip
        notify(
            tenant=tenant, kind="invoice_issued", contact=contact,
            context={"invoice_number": f"INV-{n:04d}", "amount_due": Decimal("120.00"),
                     "due_date": date(2027, 3, 1), "organisation_name": tenant.name,
                     "online_invoice_url": "https://example.test/pay"},
            dedup_key=f"invoice:load-{n}:issued", invoice_id=f"load-{n}",
        )  # fmt: skip


def unfinished(statuses=NOT_FINAL) -> int:
    connections.close_all()  # a fresh read, whatever happened to the last connection
    return Message.objects.filter(status__in=statuses).count()


def each_text_sent_once(twilio: StandInTwilio, *, count: int) -> None:
    received = twilio.received
    messages = list(Message.objects.all())
    assert len(messages) == count
    assert not [m for m in messages if m.status != "sent"], "a text was lost or left unsettled"
    assert len(received) == count, f"Twilio received {len(received)} texts for {count} messages"
    assert len({(s["to"], s["body"]) for s in received}) == count, "a text was sent twice"
    assert {m.provider_id for m in messages} == {s["sid"] for s in received}
