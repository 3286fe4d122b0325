"""Alerts under test: owners' email in Django's locmem outbox, kicks run in-process."""

from datetime import UTC, datetime, timedelta

import pytest
import responses
from django.core import mail
from django_q import tasks as q_tasks

from alerts.services import alerts_check
from connections.models import MessagingSettings
from messaging.models import Message

LOCMEM = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
ACCOUNT_SID = "AC00000000000000000000000000000001"
AUTH_TOKEN = "twilio-auth-token-alpha"
FROM_NUMBER = "+6498880000"
WHATSAPP_FROM = "whatsapp:+6498880001"
# 13:00 in Auckland, outside quiet hours.
NOON_IN_NZ = datetime(2026, 7, 7, 1, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def mailer(settings):
    settings.MAILERS = LOCMEM
    return settings


@pytest.fixture(autouse=True)
def q_sync(monkeypatch):
    """django-q2 kicks run in-process, so check → on_commit → task → email runs end to end."""
    monkeypatch.setattr(q_tasks.Conf, "SYNC", True)


@pytest.fixture
def check(django_capture_on_commit_callbacks):
    """Run the scheduled check as the worker would; return what it did."""

    def run(**kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return alerts_check(**kwargs)

    return run


@pytest.fixture
def noon(time_machine):
    time_machine.move_to(NOON_IN_NZ, tick=False)
    return time_machine


@pytest.fixture
def providers():
    """Xero and Twilio, mocked at HTTP (one mock: a second would swallow the first's calls)."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def every_five_minutes(clock, check, *, minutes: int) -> None:
    """Run the check as the schedule does while `minutes` pass."""
    for _ in range(minutes // 5):
        clock.shift(timedelta(minutes=5))
        check()


def twilio_settings(tenant, **fields) -> MessagingSettings:
    tenant.timezone = "Pacific/Auckland"
    tenant.save()
    return MessagingSettings.objects.create(
        tenant=tenant,
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN,
        twilio_from_number=FROM_NUMBER,
        whatsapp_from=WHATSAPP_FROM,
        **fields,
    )


def emails_to(address: str) -> list:
    return [email for email in mail.outbox if address in email.to]


def finished(tenant, status: str, *, minutes_ago: int = 5, channel="sms", error_code="", n=1):
    """`n` messages that reached `status` `minutes_ago` (sent a minute before that)."""
    from django.utils import timezone

    at = timezone.now() - timedelta(minutes=minutes_ago)
    final = status in ("delivered", "failed", "undelivered")
    start = Message.objects.count()
    Message.objects.bulk_create(
        Message(
            tenant=tenant, kind="invoice_issued", channel=channel, status=status,
            dedup_key=f"invoice:{start + i}:issued", recipient="+64211234567",
            error_code=error_code, created_at=at - timedelta(minutes=2),
            sent_at=None if status == "failed" else at - timedelta(minutes=1),
            finished_at=at if final else None,
        )
        for i in range(n)
    )  # fmt: skip
