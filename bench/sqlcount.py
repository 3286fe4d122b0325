"""Counting SQL statements inside Dunwell's own processes, with no hook in the application.

`DJANGO_SETTINGS_MODULE=bench.sqlcount_settings` is config.settings plus this app, whose
ready() adds a counting execute wrapper to every database connection a process opens. Each
process (a gunicorn worker, a qcluster worker, its sentinel) keeps its counts by phase and writes
them to bench/out/sql/<pid>.json every half second; `sql_totals()` adds them up.

Phase of a statement, from the process and the call stack:
- store: anything a gunicorn worker runs (the webhook: route, store, kick);
- dispatch: under messaging's dispatch (claim, Twilio settings, acceptance);
- notify: elsewhere under messaging (templates, recipient, the Message, its dispatch kick);
- process: under billing_events, snapshots or connections (claim, Xero budget and fetch,
  snapshots, schedules' own checks);
- broker: none of those, i.e. django-q2's own (the ORM broker's queue, results, schedules).
"""

import json
import os
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from django.apps import AppConfig
from django.db.backends.signals import connection_created

ROOT = Path(__file__).resolve().parent.parent  # not bench.common: it watches the load
SQL_OUT = ROOT / "bench" / "out" / "sql"
PHASES = ("store", "process", "notify", "dispatch", "broker")
_DISPATCH = (
    str(ROOT / "messaging" / "services" / "dispatch.py"),
    str(ROOT / "messaging" / "tasks.py"),
)
_MESSAGING = str(ROOT / "messaging") + os.sep
_PROCESS = tuple(str(ROOT / app) + os.sep for app in ("billing_events", "snapshots", "connections"))

_counts: Counter = Counter()
_pid = 0
_lock = threading.Lock()


def _phase() -> str:
    if "gunicorn" in sys.argv[0]:
        return "store"
    found = "broker"
    frame = sys._getframe(3)
    while frame is not None:
        name = frame.f_code.co_filename
        if name in _DISPATCH:
            return "dispatch"
        if name.startswith(_MESSAGING):
            found = "notify"
        elif found == "broker" and name.startswith(_PROCESS):
            found = "process"
        frame = frame.f_back
    return found


def _flush_forever(pid: int) -> None:
    SQL_OUT.mkdir(parents=True, exist_ok=True)
    while True:
        time.sleep(0.5)
        with _lock:
            snapshot = dict(_counts)
        # Written aside, then renamed: sql_totals() never reads a half-written file.
        (SQL_OUT / f"{pid}.tmp").write_text(json.dumps(snapshot))
        os.replace(SQL_OUT / f"{pid}.tmp", SQL_OUT / f"{pid}.json")


def _count(execute, sql, params, many, context):
    global _pid
    if _pid != os.getpid():  # a new process (forked workers inherit the wrapper, not the thread)
        with _lock:
            _pid = os.getpid()
            _counts.clear()
        threading.Thread(target=_flush_forever, args=(_pid,), daemon=True).start()
    phase = _phase()
    with _lock:
        _counts[phase] += 1
    return execute(sql, params, many, context)


def _install(sender, connection, **kwargs) -> None:
    if _count not in connection.execute_wrappers:
        connection.execute_wrappers.append(_count)


class SqlCountConfig(AppConfig):
    name = "bench"
    label = "bench_sqlcount"

    def ready(self):
        connection_created.connect(_install)


def sql_reset() -> None:
    for path in SQL_OUT.glob("*.json"):
        path.unlink()


def sql_totals() -> dict[str, int]:
    """Statements by phase, over every process that ran since sql_reset()."""
    time.sleep(1)  # the last half second's counts reach their files
    totals = Counter()
    for path in SQL_OUT.glob("*.json"):
        totals.update(json.loads(path.read_text()))
    return {phase: totals[phase] for phase in PHASES}
