"""The tenant home's "what's left to do" checklist.

Each step is one small function of the tenant in SETUP_STEPS; a later part of Dunwell adds its step
(templates reviewed, test message sent, ...) by adding one function to that list. A step links to
the page where it is done and says in plain words what to do.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse

from connections.models import Invitation, MessagingSettings, Tenant, XeroConnection
from connections.selectors import connections_for_tenant


@dataclass(frozen=True)
class Step:
    key: str
    title: str
    done: bool
    url: str
    action: str  # the link text: what to do next
    hint: str  # one sentence on why it matters
    owner_only: bool = True


def _xero_connected(tenant: Tenant) -> Step:
    return Step(
        key="xero",
        title="Connect your Xero organisation",
        done=connections_for_tenant(tenant=tenant)
        .filter(status=XeroConnection.Status.ACTIVE)
        .exists(),
        url=reverse("welcome-xero"),
        action="Connect to Xero",
        hint="Dunwell hears about invoices and payments only from a connected organisation.",
    )


def _twilio_set_up(tenant: Tenant) -> Step:
    # The same minimum messaging.channels needs to send an SMS: an account and a sender.
    has_account = MessagingSettings.objects.filter(tenant=tenant).exclude(twilio_account_sid="")
    done = (
        has_account.exclude(twilio_auth_token="", twilio_api_key_secret="")
        .exclude(twilio_messaging_service_sid="", twilio_from_number="")
        .exists()
    )
    return Step(
        key="twilio",
        title="Add your Twilio account",
        done=done,
        url=reverse("welcome-twilio"),
        action="Set up Twilio",
        hint="Messages go out through your own Twilio account and sender number.",
    )


def _members_invited(tenant: Tenant) -> Step:
    done = (
        tenant.memberships.count() > 1
        or Invitation.objects.filter(tenant=tenant, revoked_at__isnull=True).exists()
    )
    return Step(
        key="members",
        title="Invite your team",
        done=done,
        url=reverse("members"),
        action="Invite a colleague",
        hint="Colleagues can follow the send log and answer customers' replies.",
    )


def _settings_reviewed(tenant: Tenant) -> Step:
    return Step(
        key="settings",
        title="Check your time zone and quiet hours",
        done=tenant.settings_reviewed_at is not None,
        url=reverse("tenant-settings"),
        action="Review settings",
        hint="Messages are timed in your time zone and never sent during quiet hours.",
    )


def _templates_reviewed(tenant: Tenant) -> Step:
    return Step(
        key="templates",
        title="Check your messages and reminder schedule",
        done=tenant.templates_reviewed_at is not None,
        url=reverse("welcome-review"),
        action="Review messages",
        hint="Customers read these words; reminders go out on the days listed.",
    )


def _test_message_sent(tenant: Tenant) -> Step:
    return Step(
        key="test",
        title="Send yourself a test message",
        done=tenant.test_message_delivered_at is not None,  # accepted by Twilio is not enough
        url=reverse("welcome-test"),
        action="Send a test message",
        hint="A text to your own phone proves Twilio will deliver to your customers.",
    )


# The Xero, Twilio, templates and test steps are the onboarding wizard's (/welcome/).
SETUP_STEPS: list[Callable[[Tenant], Step]] = [
    _xero_connected,
    _twilio_set_up,
    _templates_reviewed,
    _test_message_sent,
    _settings_reviewed,
    _members_invited,
]


def tenant_setup_steps(*, tenant: Tenant) -> list[Step]:
    return [step(tenant) for step in SETUP_STEPS]
