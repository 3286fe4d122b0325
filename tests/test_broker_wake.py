"""The ORM broker is woken by an enqueue (config/wakeful_broker.py).

An idle pusher waits in `dequeue()` for up to `Q_CLUSTER["poll"]`; here the poll is 5 s, so a
task handed over well within it was woken, not polled. A wake is sent only once the enqueue has
committed, and nothing about the wake (its directory, a dead pusher's socket, a full buffer, a
cut connection) can fail an enqueue or stop the poll. The tests before the first socket test run
on whichever database the suite runs on (PostgreSQL: NOTIFY; SQLite: Unix sockets); the socket
tests use sockets on both; the NOTIFY tests need PostgreSQL.
"""

import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path

import pytest
from django.db import connection, connections, transaction
from django_q.brokers import get_broker
from django_q.conf import Conf
from django_q.models import OrmQ
from django_q.signing import SignedPackage
from django_q.tasks import async_task

from config import wakeful_broker

pytestmark = pytest.mark.django_db(transaction=True)

POLL = 5  # seconds: far longer than any wake may take
WOKEN_WITHIN = 1.0  # seconds: "well before the poll", with room for a busy machine


@pytest.fixture(autouse=True)
def temp_dir(monkeypatch):
    """A temporary directory of this test's own, short enough for a Unix socket's path."""
    path = tempfile.mkdtemp(prefix="wake-")
    monkeypatch.setattr(tempfile, "tempdir", path)
    monkeypatch.setattr(Conf, "POLL", POLL)
    yield Path(path)
    shutil.rmtree(path, ignore_errors=True)


class Pusher:
    """A broker's dequeue() in a thread of its own, called until it hands over a task."""

    def __init__(self, broker=None):
        self.broker = broker or get_broker()
        self.tasks = None
        self.error = None
        self.returned_at = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        try:
            deadline = time.monotonic() + 3 * POLL
            while not self.tasks and time.monotonic() < deadline:
                self.tasks = self.broker.dequeue()
            self.returned_at = time.monotonic()
        except Exception as error:  # handed to the test
            self.error = error
        finally:
            connections.close_all()

    def start_idle(self):
        self.thread.start()
        time.sleep(0.5)  # it has found the queue empty and waits
        assert self.thread.is_alive(), self.error

    def funcs(self):
        return [SignedPackage.loads(payload)["func"] for _, payload in self.tasks]


@pytest.fixture
def sockets(monkeypatch):
    """The wake of SQLite, whichever database the suite runs on."""
    monkeypatch.setattr(wakeful_broker, "wake_kind", lambda vendor: wakeful_broker.SocketWake)


postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="NOTIFY: run with DATABASE_URL=postgres://…"
)


def _assert_woken_by_an_enqueue(pusher: Pusher) -> None:
    enqueued_at = time.monotonic()
    async_task("math.floor", 1.5)
    pusher.thread.join(timeout=3 * POLL)

    assert pusher.error is None
    assert pusher.funcs() == ["math.floor"]
    assert pusher.returned_at - enqueued_at < WOKEN_WITHIN


def _wake_directory(temp_dir: Path) -> Path:
    """Where this database's pushers listen: made by a pusher's first dequeue."""
    get_broker().dequeue()
    (directory,) = temp_dir.glob("dunwell-wake-*")
    return directory


def test_the_embedded_default_uses_the_wakeful_broker():
    assert type(get_broker()).__name__ == "WakefulORM"


def test_an_enqueue_wakes_an_idle_pusher_well_before_its_poll():
    pusher = Pusher()
    pusher.start_idle()

    _assert_woken_by_an_enqueue(pusher)


def test_an_enqueue_in_a_transaction_wakes_the_pusher_only_once_committed():
    pusher = Pusher()
    pusher.start_idle()

    with transaction.atomic():
        async_task("math.floor", 1.5)
        time.sleep(0.5)
        # Not woken: it would find nothing it can see and wait out its poll.
        assert pusher.thread.is_alive(), pusher.error
    committed_at = time.monotonic()
    pusher.thread.join(timeout=3 * POLL)

    assert pusher.error is None
    assert pusher.funcs() == ["math.floor"]
    assert pusher.returned_at - committed_at < WOKEN_WITHIN


def test_every_idle_pusher_of_the_database_is_woken():
    pushers = [Pusher(), Pusher()]
    for pusher in pushers:
        pusher.start_idle()

    enqueued_at = time.monotonic()
    async_task("math.floor", 1.5)
    async_task("math.ceil", 1.5)
    for pusher in pushers:
        pusher.thread.join(timeout=3 * POLL)

    assert sorted(f for p in pushers for f in p.funcs()) == ["math.ceil", "math.floor"]
    assert max(p.returned_at for p in pushers) - enqueued_at < WOKEN_WITHIN


def test_a_transaction_that_enqueues_many_tasks_wakes_the_pushers_once(monkeypatch):
    wakes = []
    kind = wakeful_broker.wake_kind(connection.vendor)
    monkeypatch.setattr(kind, "wake", lambda waker: wakes.append(waker.list_key))

    with transaction.atomic():
        for _ in range(3):
            async_task("math.floor", 1.5)
    async_task("math.ceil", 1.5)  # in autocommit: a wake of its own

    assert OrmQ.objects.count() == 4
    assert wakes == [Conf.CLUSTER_NAME, Conf.CLUSTER_NAME]


@postgresql
def test_on_postgresql_a_pusher_on_another_host_is_woken(temp_dir, monkeypatch):
    pusher = Pusher()
    pusher.start_idle()
    # The enqueuing process shares no temporary directory with the pusher, as in another
    # container: the wake goes through the database.
    monkeypatch.setattr(tempfile, "tempdir", tempfile.mkdtemp(prefix="other-host-"))

    _assert_woken_by_an_enqueue(pusher)
    assert list(temp_dir.glob("dunwell-wake-*")) == []


@postgresql
def test_on_postgresql_a_pusher_whose_connection_is_cut_polls_then_listens_again(monkeypatch):
    monkeypatch.setattr(Conf, "POLL", 0.2)
    monkeypatch.setattr(wakeful_broker, "RELISTEN_AFTER", 0.5)
    broker = get_broker()
    assert broker.dequeue() is None  # listens
    listener = broker.waker()._listener
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [listener.info.backend_pid])

    assert broker.dequeue() is None  # the cut is seen; no exception reaches the pusher
    async_task("math.floor", 1.5)
    (task,) = broker.dequeue()  # polled
    assert SignedPackage.loads(task[1])["func"] == "math.floor"

    time.sleep(0.5)
    assert broker.dequeue() is None  # listens again, on a new connection
    assert broker.waker()._listener is not listener
    monkeypatch.setattr(Conf, "POLL", POLL)
    pusher = Pusher(broker)
    pusher.start_idle()
    enqueued_at = time.monotonic()
    async_task("math.ceil", 1.5)
    pusher.thread.join(timeout=3 * POLL)
    assert pusher.funcs() == ["math.ceil"]
    assert pusher.returned_at - enqueued_at < WOKEN_WITHIN


@pytest.mark.usefixtures("sockets")
def test_a_dead_pushers_socket_is_removed_and_the_enqueue_goes_through(temp_dir, monkeypatch):
    monkeypatch.setattr(Conf, "POLL", 0)
    directory = _wake_directory(temp_dir)
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    dead.bind(str(directory / "4242-deadbeef.sock"))
    dead.close()  # its file stays, as when a pusher is killed

    async_task("math.floor", 1.5)

    assert OrmQ.objects.count() == 1
    assert not (directory / "4242-deadbeef.sock").exists()


@pytest.mark.usefixtures("sockets")
def test_a_pusher_that_reads_no_wakes_does_not_hold_up_enqueues(temp_dir, monkeypatch):
    monkeypatch.setattr(Conf, "POLL", 0)
    broker = get_broker()
    broker.dequeue()  # listens, then reads nothing while its buffer fills

    for _ in range(40):
        async_task("math.floor", 1.5)

    assert OrmQ.objects.count() == 40
    assert broker.dequeue()


@pytest.mark.usefixtures("sockets")
@pytest.mark.parametrize("spoiled", ["a file in its place", "a directory others may enter"])
def test_without_a_usable_directory_enqueues_work_and_pushers_poll(temp_dir, monkeypatch, spoiled):
    monkeypatch.setattr(Conf, "POLL", 0)
    directory = _wake_directory(temp_dir)
    shutil.rmtree(directory)
    if spoiled == "a file in its place":
        directory.write_text("")
    else:
        directory.mkdir(mode=0o755)
        directory.chmod(0o755)
    monkeypatch.setattr(Conf, "POLL", 0.2)
    pusher = Pusher()
    pusher.start_idle()

    enqueued_at = time.monotonic()
    async_task("math.floor", 1.5)
    pusher.thread.join(timeout=3 * POLL)

    assert pusher.error is None
    assert pusher.funcs() == ["math.floor"]
    assert pusher.returned_at - enqueued_at < 0.2 + WOKEN_WITHIN  # by the poll
    assert list(temp_dir.glob("dunwell-wake-*/*.sock")) == []
