"""django-q2's ORM broker, woken by an enqueue instead of waiting out its poll.

Hand-written because django-q2 has no wake hook: its ORM broker only polls, so an idle pusher
noticed a new task only when `sleep(Conf.POLL)` ended, up to a second per queue hop (issue #21).
Here an idle pusher waits for a wake for up to the poll instead of sleeping, and an enqueue, once
its transaction has committed, wakes every pusher of this database and queue:

- on PostgreSQL by `NOTIFY` (`NotifyWake`): each pusher keeps a connection of its own that
  `LISTEN`s. It reaches every host on the database, web and workers in separate containers too.
- on SQLite by a Unix datagram (`SocketWake`): each pusher binds a socket in a directory of its
  own for this database and queue, and an enqueue sends a byte to every socket there. SQLite
  means one host, so this reaches them all.

Several hosts with Redis need neither: Redis's workers block on the queue. Everything is best
effort: a wake that cannot be sent or received leaves the pusher polling every
`Q_CLUSTER["poll"]` seconds as before, and never fails an enqueue.

Selected by `Q_CLUSTER["broker_class"]` (config/settings.py); django-q2 loads it by dotted path,
so nothing imports this module.
"""

import contextlib
import errno
import hashlib
import logging
import os
import secrets
import socket
import stat
import tempfile
import time
from dataclasses import dataclass
from multiprocessing.util import Finalize
from pathlib import Path

import psycopg
from django.db import connections, transaction
from django.utils import timezone
from django_q.brokers.orm import ORM
from django_q.conf import Conf

logger = logging.getLogger(__name__)

SUFFIX = ".sock"
# After its listening connection failed, a pusher polls this long before it listens again.
RELISTEN_AFTER = 60.0


class WakefulORM(ORM):
    _waker: "SocketWake | NotifyWake | None" = None

    def waker(self) -> "SocketWake | NotifyWake":
        if self._waker is None:
            self._waker = wake_kind(connections[Conf.ORM].vendor)(self.list_key)
        return self._waker

    def enqueue(self, task):
        pk = super().enqueue(task)
        self.waker().wake_on_commit()
        return pk

    def dequeue(self):
        waker = self.waker()
        if not waker.listening():
            return super().dequeue()  # query, else sleep(Conf.POLL)
        found = self._claim()
        if found is not None:
            return found
        if waker.wait(Conf.POLL):
            return self._claim()
        return None

    def _claim(self) -> list | None:
        """ORM.dequeue without its sleep: None when the queue has nothing due, else the tasks
        this pusher claimed (possibly none, when another cluster was faster)."""
        tasks = self.get_connection().filter(
            key=self.list_key, lock__lt=timezone.now()
        )[
            0 : Conf.BULK  # noqa: E203
        ]
        if not tasks:
            return None
        claimed = []
        for task in tasks:
            if (
                self.get_connection()
                .filter(id=task.id, lock=task.lock)
                .update(lock=self.timeout(task))
            ):
                claimed.append((task.pk, task.payload))
        return claimed


def wake_kind(vendor: str) -> type["Wake"]:
    return NotifyWake if vendor == "postgresql" else SocketWake


@dataclass(frozen=True)
class _Wakeup:
    """A wake waiting for its transaction's commit; equal to another for the same queue."""

    kind: type["Wake"]
    list_key: str

    def __call__(self) -> None:
        self.kind(self.list_key).wake()


class Wake:
    """How the pushers of one database and queue are woken: `wake()` from an enqueue, and in
    each pusher `listening()` (else it polls), then `wait(seconds)` (True when woken)."""

    def __init__(self, list_key: str):
        self.list_key = list_key

    def wake(self) -> None:
        raise NotImplementedError

    def wake_on_commit(self) -> None:
        """Wake the pushers once the enqueue has committed (at once in autocommit): a pusher
        woken earlier would find nothing and wait out its poll. One wake per transaction, however
        many tasks it enqueues (each enqueue has a broker of its own)."""
        wake = _Wakeup(type(self), self.list_key)
        if any(func == wake for _sids, func, _robust in connections[Conf.ORM].run_on_commit):
            return
        transaction.on_commit(wake, using=Conf.ORM, robust=True)

    def key(self) -> str:
        """This database's and queue's: another checkout or queue on the host does not meet
        it."""
        name = str(connections[Conf.ORM].settings_dict["NAME"])
        return hashlib.sha256(f"{name}\0{self.list_key}".encode()).hexdigest()[:12]


class NotifyWake(Wake):
    """PostgreSQL: `NOTIFY dunwell_wake_<key>`; each pusher `LISTEN`s on a connection of its
    own (in autocommit, outside Django's, which the pusher's queries use)."""

    _listener: psycopg.Connection | None = None
    _listener_pid: int | None = None
    _relisten_at: float = 0.0

    def channel(self) -> str:
        return f"dunwell_wake_{self.key()}"

    def wake(self) -> None:
        with connections[Conf.ORM].cursor() as cursor:
            cursor.execute("SELECT pg_notify(%s, '')", [self.channel()])

    def listening(self) -> bool:
        pid = os.getpid()
        if self._listener is not None and self._listener_pid == pid:
            return True
        # Forked after connecting: the connection is the parent's; closing it would end it for
        # the parent too.
        self._listener = None
        if time.monotonic() < self._relisten_at:
            return False
        try:
            params = connections[Conf.ORM].get_connection_params()
            listener = psycopg.connect(**params, autocommit=True)
            listener.execute(f"LISTEN {self.channel()}")
        except psycopg.Error:
            logger.warning("Broker cannot listen for wakes; polling", exc_info=True)
            self._relisten_at = time.monotonic() + RELISTEN_AFTER
            return False
        self._listener, self._listener_pid = listener, pid
        return True

    def wait(self, seconds: float) -> bool:
        """Reads every wake already queued, so that each one leads to one query, not one query
        per enqueue."""
        try:
            woken = any(True for _ in self._listener.notifies(timeout=seconds, stop_after=1))
            if woken:
                for _ in self._listener.notifies(timeout=0):
                    pass
            return woken
        except psycopg.Error:
            logger.warning("Broker wake connection failed; polling", exc_info=True)
            with contextlib.suppress(psycopg.Error):
                self._listener.close()
            self._listener = None
            self._relisten_at = time.monotonic() + RELISTEN_AFTER
            return False


class SocketWake(Wake):
    """SQLite (one host): a Unix datagram socket per pusher, in a private temporary directory
    named for the database and queue."""

    _listener: socket.socket | None = None
    _listener_path: Path | None = None
    _listener_pid: int | None = None
    _listener_inode: int | None = None
    _listener_failed_pid: int | None = None

    # --- enqueue side ---------------------------------------------------------------------

    def wake(self) -> None:
        try:
            entries = [e.path for e in os.scandir(self._directory()) if e.name.endswith(SUFFIX)]
        except OSError:
            return  # no pusher listening here (or no directory we may use): they poll
        if not entries:
            return
        try:
            sender = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        except OSError:
            return
        with sender:
            sender.setblocking(False)
            for path in entries:
                try:
                    sender.sendto(b"\0", path)
                except BlockingIOError:
                    pass  # its buffer is full of wakes it has not read yet: it is awake
                except OSError as error:
                    if error.errno in (errno.ECONNREFUSED, errno.ENOENT):
                        # Nobody bound: a pusher that died without cleaning up.
                        with contextlib.suppress(OSError):
                            os.unlink(path)

    # --- dequeue side (the pusher) --------------------------------------------------------

    def wait(self, seconds: float) -> bool:
        """Reads every wake already queued, so that each one leads to one query, not one query
        per enqueue."""
        listener = self._listener
        try:
            listener.settimeout(seconds)
            try:
                listener.recv(16)
            except (TimeoutError, BlockingIOError):  # BlockingIOError: a poll of 0
                if not self._listener_still_reachable():
                    self._listener_close()  # bound again on the next dequeue
                return False
            listener.setblocking(False)
            while True:
                try:
                    listener.recv(16)
                except BlockingIOError:
                    return True
        except OSError:
            logger.warning("Broker wake socket failed; polling", exc_info=True)
            self._listener_close()
            return False

    def listening(self) -> bool:
        pid = os.getpid()
        if self._listener is not None and self._listener_pid == pid:
            return True
        if self._listener is not None:
            # Forked after binding: the socket is the parent's.
            self._listener.close()
            self._listener = None
        if self._listener_failed_pid == pid:
            return False  # tried once in this process: poll, without a warning every poll
        try:
            self._listener_bind()
        except OSError:
            logger.warning("Broker cannot listen for wakes; polling", exc_info=True)
            self._listener_close()
            self._listener_failed_pid = pid
        return self._listener is not None

    def _listener_bind(self) -> None:
        directory = self._directory()
        with contextlib.suppress(FileExistsError):
            directory.mkdir(mode=0o700)
        # Only a directory of our own, not one another user made first.
        info = directory.lstat()
        if (
            not stat.S_ISDIR(info.st_mode)
            or info.st_uid != os.getuid()
            or stat.S_IMODE(info.st_mode) != 0o700
        ):
            raise PermissionError(errno.EACCES, "not a private directory of ours", str(directory))
        pid = os.getpid()
        # Unique per broker, should a process hold two; files of dead pushers are removed by the
        # next enqueue, which finds nobody bound to them.
        path = directory / f"{pid}-{secrets.token_hex(4)}{SUFFIX}"
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            listener.bind(str(path))
        except OSError:
            listener.close()
            raise
        self._listener = listener
        self._listener_path = path
        self._listener_pid = pid
        self._listener_inode = path.stat().st_ino
        # At a normal exit, the interpreter's or a multiprocessing child's (the pusher is one).
        Finalize(self, _socket_file_remove, args=(path, pid), exitpriority=0)

    def _listener_still_reachable(self) -> bool:
        """False when the socket file has gone (a temp cleaner, a sender that took it for a
        dead pusher's): then no wake reaches this pusher until it binds again."""
        try:
            return self._listener_path.stat().st_ino == self._listener_inode
        except OSError:
            return False

    def _listener_close(self) -> None:
        if self._listener is not None:
            self._listener.close()
        if self._listener_path is not None and self._listener_pid == os.getpid():
            _socket_file_remove(self._listener_path, self._listener_pid)
        self._listener = self._listener_path = self._listener_pid = None
        self._listener_inode = None

    def _directory(self) -> Path:
        return Path(tempfile.gettempdir()) / f"dunwell-wake-{self.key()}"


def _socket_file_remove(path: Path, pid: int) -> None:
    if os.getpid() != pid:
        return
    with contextlib.suppress(OSError):
        path.unlink()
