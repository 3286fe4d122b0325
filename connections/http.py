"""HTTP clients kept for the life of a process (one per thread), so that calls to the same host
reuse a connection.

A client built per call meant a new TCP connection, and against the real Xero and Twilio a TLS
handshake, for every text and every fetch: most of a send's own cost (bench/RESULTS.md, "This
round"). requests and the Twilio SDK pool connections per session; this module only decides how
long a session lives. Per thread, because a session is not documented as thread-safe (gunicorn
runs threads); per process, because a forked worker must not share its parent's sockets.
"""

import os
import threading
from collections.abc import Callable

_local = threading.local()


def kept[T](name: str, build: Callable[[], T]) -> T:
    """This process's and thread's `name` client, built by `build()` on first use."""
    if getattr(_local, "pid", None) != os.getpid():
        _local.pid, _local.clients = os.getpid(), {}
    if name not in _local.clients:
        _local.clients[name] = build()
    return _local.clients[name]
