"""Secrets never reach the logs: every log record of the whole suite is searched for them.

A pytest plugin (loaded from tests/conftest.py). While the suite runs it keeps the text of every
log record any logger hands on, whatever its handlers, and at the end fails the run if one of them
contains a secret the tests used. The secrets are discovered, not listed by hand:

- settings: SECRET_KEY, every FIELD_ENCRYPTION_KEYS key, XERO_CLIENT_SECRET, XERO_WEBHOOK_KEY
  (also as tests override them);
- every plaintext that goes through connections.fields.encrypt — Xero access and refresh
  tokens, Twilio auth tokens and API key secrets, SendGrid keys, whatever is encrypted next;
- every password given to make_password (and so to set_password / create_user);
- every phone number a message was addressed to (logs never carry a full number);
- anything a test or helper passes to `secret_register(value, what=...)`.

The root logger is lowered to DEBUG for the session so that debug records are searched too
(an operator may run with LOG_LEVEL=DEBUG); loggers the settings quieten stay quiet.
"""

import logging
import threading
from dataclasses import dataclass
from urllib.parse import quote, quote_plus

import pytest

# Shorter values (a "1", a blank) would match by accident, and are no secret anyway.
MIN_LENGTH = 8

_lock = threading.Lock()
_secrets: dict[str, str] = {}  # value -> what it is
_records: list[tuple[str, str, str]] = []  # (logger name, level, full text)


def secret_register(value, *, what: str) -> None:
    """Declare a value that must never appear in a log record."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str) or len(value) < MIN_LENGTH:
        return
    with _lock:
        _secrets.setdefault(value, what)


def _forms(value: str, what: str) -> set[str]:
    forms = {value, quote(value, safe=""), quote_plus(value)}
    if what == "phone number":
        forms.add(value.lstrip("+"))  # +64211234567 logged as 64211234567 is still the number
    return {form for form in forms if len(form) >= MIN_LENGTH}


@dataclass(frozen=True)
class Leak:
    what: str
    logger: str
    level: str
    text: str


def leaks_find(records, secrets: dict[str, str]) -> list[Leak]:
    """Every (record, secret) pair where the record's text carries the secret in some form."""
    found = []
    for value, what in secrets.items():
        forms = _forms(value, what)
        for name, level, text in records:
            if any(form in text for form in forms):
                found.append(Leak(what, name, level, text))
    return found


def _record_text(record: logging.LogRecord) -> str:
    try:
        parts = [record.getMessage()]
    except Exception:  # a broken format string must not hide the raw message and arguments
        parts = [str(record.msg), repr(record.args)]
    if record.exc_info:
        parts.append(logging.Formatter().formatException(record.exc_info))
    if record.exc_text:
        parts.append(record.exc_text)
    if record.stack_info:
        parts.append(record.stack_info)
    return "\n".join(parts)


_original_handle = logging.Logger.handle


def _handle(self, record):
    with _lock:
        _records.append((record.name, record.levelname, _record_text(record)))
    return _original_handle(self, record)


def _register_settings() -> None:
    from django.conf import settings

    for name in ("SECRET_KEY", "XERO_CLIENT_SECRET", "XERO_WEBHOOK_KEY"):
        secret_register(getattr(settings, name, ""), what=f"settings.{name}")
    for key in getattr(settings, "FIELD_ENCRYPTION_KEYS", []):
        secret_register(key, what="settings.FIELD_ENCRYPTION_KEYS")


def _on_setting_changed(*, setting, value, enter, **kwargs):
    if setting in ("SECRET_KEY", "XERO_CLIENT_SECRET", "XERO_WEBHOOK_KEY") and enter:
        secret_register(value, what=f"settings.{setting}")
    if setting == "FIELD_ENCRYPTION_KEYS" and enter:
        for key in value or []:
            secret_register(key, what="settings.FIELD_ENCRYPTION_KEYS")


def _on_message_saved(*, instance, **kwargs):
    from messaging.models import PHONE_CHANNELS

    if instance.channel in PHONE_CHANNELS and instance.recipient:
        secret_register(instance.recipient, what="phone number")


def _install_discovery() -> None:
    from django.contrib.auth import hashers
    from django.core.signals import setting_changed
    from django.db.models.signals import post_save

    from connections import fields
    from messaging.models import Message

    encrypt = fields.encrypt

    def encrypt_registering(plaintext: str) -> str:
        secret_register(plaintext, what="an encrypted field's plaintext")
        return encrypt(plaintext)

    fields.encrypt = encrypt_registering

    make_password = hashers.make_password

    def make_password_registering(password, *args, **kwargs):
        secret_register(password, what="a password")
        return make_password(password, *args, **kwargs)

    hashers.make_password = make_password_registering
    # auth.base_user imports make_password by name.
    from django.contrib.auth import base_user

    base_user.make_password = make_password_registering

    setting_changed.connect(_on_setting_changed, weak=False)
    post_save.connect(_on_message_saved, sender=Message, weak=False)
    _register_settings()


def pytest_sessionstart(session):
    logging.Logger.handle = _handle
    logging.getLogger().setLevel(logging.DEBUG)
    _install_discovery()


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    logging.Logger.handle = _original_handle
    with _lock:
        leaks = leaks_find(list(_records), dict(_secrets))
    if not leaks:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    lines = [f"{len(leaks)} log record(s) carry a secret:"]
    for leak in leaks[:20]:
        lines.append(f"  {leak.what} in {leak.level} {leak.logger}: {leak.text[:300]!r}")
    if reporter is not None:
        reporter.section("secrets in logs", sep="!", red=True)
        for line in lines:
            reporter.line(line, red=True)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
