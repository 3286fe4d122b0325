"""django-q2's ORM broker, woken by an enqueue instead of waiting out its poll.

Hand-written because django-q2 has no wake hook: its ORM broker only polls, so on the embedded
default (SQLite, ORM broker) an idle pusher noticed a new task only when `sleep(Conf.POLL)` ended,
up to a second per queue hop (issue #21). Here each pusher binds a Unix datagram socket in a
directory of its own for this database and queue, and waits on it for up to the poll instead of
sleeping; an enqueue, once its transaction has committed, sends one byte to every socket there.
The web and the workers of the embedded default run on one host, so this reaches them all; hosts
that share a database without sharing a temporary directory simply keep polling (several hosts use
Redis, whose workers already block on the queue). Everything is best effort: any OSError leaves
the pusher polling every `Q_CLUSTER["poll"]` seconds as before and never fails an enqueue.

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
from multiprocessing.util import Finalize
from pathlib import Path

from django.db import connections, transaction
from django.utils import timezone
from django_q.brokers.orm import ORM
from django_q.conf import Conf

logger = logging.getLogger(__name__)

SUFFIX = ".sock"


class WakefulORM(ORM):
    _listener: socket.socket | None = None
    _listener_path: Path | None = None
    _listener_pid: int | None = None
    _listener_inode: int | None = None
    _listener_failed_pid: int | None = None

    # --- enqueue side ---------------------------------------------------------------------

    def enqueue(self, task):
        pk = super().enqueue(task)
        # After the commit: a pusher woken earlier would find nothing and wait out its poll.
        # In autocommit this runs at once.
        transaction.on_commit(self._pushers_wake, using=Conf.ORM, robust=True)
        return pk

    def _pushers_wake(self) -> None:
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

    def dequeue(self):
        listener = self._listener_ready()
        if listener is None:
            return super().dequeue()  # query, else sleep(Conf.POLL)
        found = self._claim()
        if found is not None:
            return found
        if self._wait(listener):
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

    def _wait(self, listener: socket.socket) -> bool:
        """Wait up to the poll for a wake; True when woken. Reads every wake already queued, so
        that each one leads to one query, not one query per enqueue."""
        try:
            listener.settimeout(Conf.POLL)
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

    def _listener_ready(self) -> socket.socket | None:
        pid = os.getpid()
        if self._listener is not None and self._listener_pid == pid:
            return self._listener
        if self._listener is not None:
            # Forked after binding: the socket is the parent's.
            self._listener.close()
            self._listener = None
        if self._listener_failed_pid == pid:
            return None  # tried once in this process: poll, without a warning every poll
        try:
            self._listener_bind()
        except OSError:
            logger.warning("Broker cannot listen for wakes; polling", exc_info=True)
            self._listener_close()
            self._listener_failed_pid = pid
        return self._listener

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

    # --- shared ---------------------------------------------------------------------------

    def _directory(self) -> Path:
        """One directory per database and queue: web processes and pushers of this Dunwell
        meet there; another checkout or queue on the same host does not."""
        name = str(connections[Conf.ORM].settings_dict["NAME"])
        key = hashlib.sha256(f"{name}\0{self.list_key}".encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"dunwell-wake-{key}"


def _socket_file_remove(path: Path, pid: int) -> None:
    if os.getpid() != pid:
        return
    with contextlib.suppress(OSError):
        path.unlink()
