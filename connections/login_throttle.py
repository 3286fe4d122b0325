"""Login brute-force throttle: failed logins counted per username and per client address.

After LOGIN_FAILURES_PER_USERNAME failures for one username (or LOGIN_FAILURES_PER_IP from one
address) within LOGIN_LOCKOUT_MINUTES, logins for it are refused — even with the right password —
until the lockout ends. Counts live in Django's cache: Redis when REDIS_URL is set, so every web
process shares them; the per-process memory cache otherwise (each process then throttles on its
own, which still bounds guessing). Usernames are hashed in cache keys so no address is stored.

Every login path is covered: the signal `user_login_failed` (sent by authenticate() for the login
page, the admin and anything else) records failures, and LoginThrottleBackend, listed first,
refuses a locked username or address before any password is checked.
"""

import hashlib
import math
import time

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.signals import user_login_failed
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.dispatch import receiver

PREFIX = "dunwell:login-failures"


def client_ip(request) -> str:
    """The caller's address, from LOGIN_IP_HEADER (REMOTE_ADDR unless a proxy sets another)."""
    if request is None:
        return ""
    value = request.META.get(settings.LOGIN_IP_HEADER) or request.META.get("REMOTE_ADDR", "")
    return value.split(",")[0].strip()[:64]


def _counters(*, username: str, ip: str) -> list[tuple[str, int]]:
    counters = []
    if username:
        digest = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
        counters.append((f"{PREFIX}:user:{digest}", settings.LOGIN_FAILURES_PER_USERNAME))
    if ip:
        counters.append((f"{PREFIX}:ip:{ip}", settings.LOGIN_FAILURES_PER_IP))
    return counters


def login_lockout_minutes(*, username: str, ip: str) -> int:
    """Whole minutes until this username and address may try again; 0 when they may now."""
    now = time.time()
    ends = [cache.get(f"{key}:locked-until") or 0 for key, _ in _counters(username=username, ip=ip)]
    longest = max(ends, default=0) - now
    return math.ceil(longest / 60) if longest > 0 else 0


def login_failure_record(*, username: str, ip: str) -> int:
    """Count one failed login; returns the lockout in minutes if this failure started one."""
    window = settings.LOGIN_LOCKOUT_MINUTES * 60
    for key, limit in _counters(username=username, ip=ip):
        cache.add(key, 0, timeout=window)  # the window starts at the first failure
        try:
            failures = cache.incr(key)
        except ValueError:  # the window expired between add() and incr()
            cache.add(key, 1, timeout=window)
            failures = 1
        if failures >= limit:
            # add(): a lockout already running is not extended by the attempts it refuses.
            cache.add(f"{key}:locked-until", time.time() + window, timeout=window)
    return login_lockout_minutes(username=username, ip=ip)


def login_success_record(*, username: str) -> None:
    """A correct password clears the username's count (the address keeps its own)."""
    for key, _ in _counters(username=username, ip=""):
        cache.delete(key)


@receiver(user_login_failed)
def _on_login_failed(sender, credentials, request=None, **kwargs):
    login_failure_record(username=str(credentials.get("username") or ""), ip=client_ip(request))


class LoginThrottleBackend(ModelBackend):
    """First in AUTHENTICATION_BACKENDS: a locked username or address goes no further.

    It only gates; ModelBackend, next in the list, checks the password (once). It is a
    ModelBackend so that get_user() works for sessions that name it: force_login() and login()
    without a backend record the first backend.
    """

    def authenticate(self, request, username=None, **kwargs):
        if login_lockout_minutes(username=str(username or ""), ip=client_ip(request)):
            raise PermissionDenied("Too many failed logins.")
        return None
