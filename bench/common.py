"""Shared pieces of the benchmarks: environment, databases, stand-in, seeding, processes, stats.

Every benchmark runs Dunwell as production would (DEBUG=0, so no query log grows in memory),
against bench/standin.py on loopback, with databases of its own (never `postgres` or a `wt_*`).
"""

import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
OUT = BENCH / "out"
PYTHON = str(ROOT / ".venv" / "bin" / "python")
STANDIN_PORT = int(os.getenv("BENCH_STANDIN_PORT", "8765"))
WEB_PORT = int(os.getenv("BENCH_WEB_PORT", "8766"))
STANDIN = f"http://127.0.0.1:{STANDIN_PORT}"
PG = os.getenv("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
REDIS_URL = os.getenv("BENCH_REDIS_URL", "redis://127.0.0.1:6379/10")
WEBHOOK_KEY = "bench-webhook-key-3b1f0c"
NAMESPACE = uuid.UUID("0b6a4a4e-2f0e-4f7e-b3f7-5b0c1a2d9e10")

# A fixed, throwaway Fernet key: the benchmark databases hold no real secrets.
BENCH_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "bench-" + "k" * 60,
    "FIELD_ENCRYPTION_KEYS": "2XKq8oQmZ0cV1f7q3mJ2Jt3yq6Gv2bJ4mC5yX9zWc0s=",
    "SECURE_SSL_REDIRECT": "0",  # loopback http; production sits behind TLS
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "PUBLIC_BASE_URL": f"http://127.0.0.1:{WEB_PORT}",
    "XERO_WEBHOOK_KEY": WEBHOOK_KEY,
    "XERO_API_URL": STANDIN,
    "XERO_IDENTITY_URL": STANDIN,
    "XERO_LOGIN_URL": STANDIN,
    "TWILIO_API_URL": STANDIN,
    "LOG_LEVEL": "WARNING",
    "DJANGO_SETTINGS_MODULE": "config.settings",
}


def org_id(index: int) -> str:
    """The Xero tenantId of the benchmark's organisation number `index`."""
    return str(uuid.uuid5(NAMESPACE, f"org:{index}"))


def env(*, database_url: str, redis_url: str = "", **extra) -> dict:
    values = {**os.environ, **BENCH_ENV, "DATABASE_URL": database_url, **extra}
    values.pop("REDIS_URL", None)
    if redis_url:
        values["REDIS_URL"] = redis_url
    return values


def apply_env(**kwargs) -> None:
    """For benchmarks that run Dunwell in their own process: set the environment, then setup."""
    os.environ.clear()
    os.environ.update(env(**kwargs))
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def db_name(name: str) -> str:
    """`name`, or `name` plus BENCH_DB_SUFFIX: bench/against.py gives the other commit's runs
    databases of their own, as its migrations may differ."""
    return name + os.getenv("BENCH_DB_SUFFIX", "")


def database_fresh(name: str, *, sqlite: bool = False) -> str:
    """An empty database called `name` (PostgreSQL, or a SQLite file under bench/out)."""
    if sqlite:
        OUT.mkdir(exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{OUT / name}.sqlite3{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{OUT / name}.sqlite3"
    assert name.startswith("bench_"), "benchmarks only ever touch bench_* databases"
    host = ["-U", "postgres", "-h", "127.0.0.1"]
    subprocess.run(["dropdb", *host, "--if-exists", "--force", name], check=True)
    subprocess.run(["createdb", *host, name], check=True)
    return f"{PG}/{name}"


def migrate(environment: dict) -> None:
    subprocess.run(
        [PYTHON, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=environment, check=True
    )


def seed(*, organisations: int, quiet_hours: bool = False) -> None:
    """Tenants with one active Xero organisation each, Twilio settings, and default templates.

    Imported a day ago (as if connected yesterday), token valid for a day (no refresh in the
    measured runs), quiet hours off so every message is due now — unless `quiet_hours`.
    """
    from django.db import transaction
    from django.utils import timezone

    from billing_events.models import OrganisationSync
    from connections.models import MessagingSettings, XeroConnection, XeroGrant
    from dashboard.services import tenant_open

    now = timezone.now()
    for index in range(organisations):
        with transaction.atomic():
            hours = {"quiet_hours_start": "00:00", "quiet_hours_end": "00:00"}
            if quiet_hours:
                hours = {}
            tenant, _ = tenant_open(
                name=f"Bench {index}", owner_email=f"owner{index}@bench.example", **hours
            )
            grant = XeroGrant.objects.create(
                tenant=tenant,
                access_token="bench-access",
                refresh_token="bench-refresh",
                expires_at=now + timedelta(days=1),
            )
            XeroConnection.objects.create(
                tenant=tenant,
                grant=grant,
                xero_tenant_id=org_id(index),
                connection_id=str(uuid.uuid4()),
                name=f"Bench Org {index}",
                country_code="NZ",
                timezone="Pacific/Auckland",
                currency="NZD",
            )
            MessagingSettings.objects.create(
                tenant=tenant,
                twilio_account_sid="AC" + uuid.uuid5(NAMESPACE, f"ac{index}").hex,
                twilio_auth_token="bench-auth-token",
                twilio_from_number="+6498876543",
            )
            OrganisationSync.objects.create(
                tenant=tenant,
                xero_tenant_id=org_id(index),
                imported_at=now - timedelta(days=1),
                last_polled_at=now - timedelta(days=1),
                next_poll_at=now + timedelta(days=1),  # keep the poll out of the measurement
            )


def import_organisations() -> dict:
    """The real initial import of every seeded organisation, against the stand-in (its open
    invoices and contacts). Counted apart: it runs once per organisation, when it is connected."""
    from billing_events.models import OrganisationSync
    from billing_events.services import connection_initial_import
    from connections.selectors import connections_active

    OrganisationSync.objects.update(imported_at=None)
    standin_reset()
    started = time.monotonic()
    for connection in connections_active():
        connection_initial_import(connection=connection)
    stats = standin_get("/_stats")
    return {
        "seconds": round(time.monotonic() - started, 1),
        "xero_calls": stats["xero_calls"],
        "xero_calls_by_kind": stats["xero_calls_by_kind"],
        "xero_429": stats["xero_429_total"],
    }


# --- processes -------------------------------------------------------------------------------


def wait_http(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except OSError as error:
            if getattr(error, "code", None):  # an HTTP error answer: the server is up
                return
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@contextmanager
def process(
    args: list[str], *, environment: dict | None = None, ready_url: str = "", log="", cwd=ROOT
):
    """Start a process in its own group; stop that group (and only it) on the way out."""
    OUT.mkdir(exist_ok=True)
    out = open(OUT / log, "w") if log else subprocess.DEVNULL  # noqa: SIM115
    proc = subprocess.Popen(
        args, cwd=cwd, env=environment, stdout=out, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    try:
        if ready_url:
            wait_http(ready_url)
        yield proc
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=15)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        if log:
            out.close()


@contextmanager
def standin(**settings):
    environment = {**os.environ, **{k: str(v) for k, v in settings.items()}}
    with process(
        [PYTHON, str(BENCH / "standin.py"), "--port", str(STANDIN_PORT)],
        environment=environment,
        ready_url=f"{STANDIN}/_stats",
        log="standin.log",
    ) as proc:
        yield proc


def standin_get(path: str):
    return json.load(urllib.request.urlopen(f"{STANDIN}{path}", timeout=30))


def standin_reset() -> None:
    urllib.request.urlopen(urllib.request.Request(f"{STANDIN}/_reset", method="POST"), timeout=5)


def peak_rss_mb(pids) -> dict[int, float]:
    """VmHWM (peak resident set) of each process, read while it is still alive."""
    peaks = {}
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks[pid] = int(line.split()[1]) / 1024
        except OSError:
            pass
    return peaks


def children(pid: int) -> list[int]:
    import psutil

    try:
        return [p.pid for p in psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


# --- statistics and recording ---------------------------------------------------------------


def percentile(values, q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q
    low = int(k)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def median(values):
    return statistics.median(values)


def record(name: str, result: dict) -> None:
    """Write the figures to bench/out/<name>.json, with the machine and its load, and print them."""
    OUT.mkdir(exist_ok=True)
    command = " ".join([f"python -m bench.{Path(sys.argv[0]).stem}", *sys.argv[1:]])
    result = {
        "command": command,
        "machine": machine(),
        "load_1min_during": _load_during(),
        "cpu_steal_percent_during": steal_percent(since=_CPU_AT_START),
        **result,
    }
    (OUT / f"{name}.json").write_text(json.dumps(result, indent=2, default=str))
    print(json.dumps(result, indent=2, default=str))


def load_average() -> list[str]:
    return Path("/proc/loadavg").read_text().split()[:3]


_LOAD = []  # the 1-minute load average, every 5 s while a benchmark runs


def _watch_load() -> None:
    while True:
        _LOAD.append(float(load_average()[0]))
        time.sleep(5)


threading.Thread(target=_watch_load, daemon=True).start()


def cpu_counters() -> list[int]:
    """The machine's CPU counters since boot: user nice system idle iowait irq softirq steal."""
    return [int(n) for n in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]


def steal_percent(*, since: list[int]) -> float:
    """Of the machine's CPU time since `since`, the share the hypervisor gave to other guests:
    on a shared host it, not our code, moves the tail latencies between identical runs."""
    spent = [now - then for now, then in zip(cpu_counters(), since, strict=True)]
    return round(100 * spent[7] / max(sum(spent), 1), 1)


_CPU_AT_START = cpu_counters()


def _load_during() -> dict:
    return {"min": min(_LOAD), "mean": round(statistics.mean(_LOAD), 2), "max": max(_LOAD)}


def _version(command: list[str]) -> str:
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=10)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "not found"


def machine() -> dict:
    """What the figures were measured on: they mean little without it."""
    from importlib.metadata import version

    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")), "unknown",
    )  # fmt: skip
    memory = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
    psql = ["psql", "-U", "postgres", "-h", "127.0.0.1", "-tAc"]
    return {
        "date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
        "cpus": os.cpu_count(),
        "cpu_model": cpu,
        "memory_gb": round(int(memory) / 1024 / 1024, 1),
        "python": sys.version.split()[0],
        **{package: version(package)
           for package in ("django", "django-q2", "gunicorn", "psycopg", "redis", "twilio")},
        "postgresql": _version([*psql, "SHOW server_version"]),
        "postgresql_synchronous_commit": _version([*psql, "SHOW synchronous_commit"]),
        "redis_server": _version(["redis-server", "--version"]),
        "wrk": _version(["wrk", "--version"]),
    }  # fmt: skip


def have(tool: str) -> bool:
    return shutil.which(tool) is not None


# --- Dunwell running as in production: gunicorn and qcluster pools ----------------------------

# Re-kick due events and due sends every minute: part of the pipeline (config/schedules.py).
MEASURED_JOBS = ("billing_events.requeue", "messaging.due")
WEBHOOK_URL = f"http://127.0.0.1:{WEB_PORT}/webhooks/xero/"


def _unmeasured_jobs_postpone() -> None:
    """The jobs a run does not measure — the hourly check of Xero's own reminder settings, the
    polls, the daily sweep — move past its end, so every Xero call counted is one events caused."""
    from django.utils import timezone
    from django_q.models import Schedule

    from billing_events.models import OrganisationSync

    Schedule.objects.exclude(name__in=MEASURED_JOBS).update(
        next_run=timezone.now() + timedelta(days=1)
    )
    OrganisationSync.objects.update(next_poll_at=timezone.now() + timedelta(days=1))


@contextmanager
def running(config: str, *, db: str, organisations: int, pools: int = 1, log: str, **pool_env):
    """A fresh database for `config` ("sqlite-orm", "pg-orm" or "redis": the broker and the
    database), seeded and imported, then gunicorn (2 workers × 4 threads, as the Dockerfile) and
    `pools` × `manage.py qcluster`. Each pool runs from a working directory and an environment
    of its own, as on a host of its own: pools share nothing but the database and Redis (and,
    on SQLite, one host, the temporary directory through which enqueues wake them).
    Yields (gunicorn process, [qcluster processes]). Call it in a process of its own: Django's
    database settings are fixed at setup."""
    import tempfile
    from contextlib import ExitStack

    redis_url = REDIS_URL if config == "redis" else ""
    url = database_fresh(db_name(db), sqlite=config == "sqlite-orm")
    environment = env(database_url=url, redis_url=redis_url, **pool_env)
    migrate(environment)
    apply_env(database_url=url, redis_url=redis_url)
    seed(organisations=organisations)
    import_organisations()
    _unmeasured_jobs_postpone()
    if redis_url:
        import redis

        redis.Redis.from_url(redis_url).flushdb()
    standin_reset()
    gunicorn = [
        str(ROOT / ".venv/bin/gunicorn"), "config.wsgi", "--workers", "2",
        "--threads", "4", "--bind", f"127.0.0.1:{WEB_PORT}",
    ]  # fmt: skip

    def own_tmp(home: str) -> dict:
        # SQLite means one host: there the web and the pools share the temporary directory in
        # which an enqueue wakes idle pushers (config/wakeful_broker.py), as `make run` does.
        return {} if config == "sqlite-orm" else {"TMPDIR": home}

    with ExitStack() as stack:
        web = stack.enter_context(
            process(gunicorn, environment=environment,
                    ready_url=f"http://127.0.0.1:{WEB_PORT}/healthz", log=f"{log}-web.log")
        )  # fmt: skip
        clusters = []
        for pool in range(pools):
            home = stack.enter_context(tempfile.TemporaryDirectory(prefix=f"bench-pool{pool}-"))
            clusters.append(
                stack.enter_context(
                    process(
                        [PYTHON, str(ROOT / "manage.py"), "qcluster"],
                        environment={**environment, "HOME": home, **own_tmp(home)},
                        log=f"{log}-qcluster{pool}.log",
                        cwd=home,
                    )
                )
            )
        time.sleep(3)  # each cluster forks its workers
        yield web, clusters


def webhook_post(raw: bytes) -> None:
    """POST one delivery, signed as Xero signs it, to the running gunicorn."""
    from billing_events.webhooks import xero_signature

    signature = xero_signature(body=raw, key=WEBHOOK_KEY)
    request = urllib.request.Request(WEBHOOK_URL, data=raw, headers={"x-xero-signature": signature})
    urllib.request.urlopen(request, timeout=30).read()


def subprocess_result(module: str, args: list[str]) -> dict:
    """Run `python -m bench.<module> args` (a configuration in a process of its own) and return
    the JSON it printed on its `RESULT ` line, or the error it ended with."""
    out = subprocess.run(
        [sys.executable, "-m", f"bench.{module}", *args],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    line = [x for x in out.stdout.splitlines() if x.startswith("RESULT ")]
    return json.loads(line[0][7:]) if line else {"error": out.stderr[-2000:]}
