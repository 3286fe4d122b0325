"""The tenant home's "what's left to do" checklist.

Each step is one small function of the tenant in SETUP_STEPS; a later part of Dunwell adds its step
(Xero connected, Twilio set up, templates reviewed, test message sent) by appending one function
to that list. A step links to the page where it is done and says in plain words what to do.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse

from connections.models import Invitation, Tenant


@dataclass(frozen=True)
class Step:
    key: str
    title: str
    done: bool
    url: str
    action: str  # the link text: what to do next
    hint: str  # one sentence on why it matters
    owner_only: bool = True


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


SETUP_STEPS: list[Callable[[Tenant], Step]] = [
    _members_invited,
    _settings_reviewed,
]


def tenant_setup_steps(*, tenant: Tenant) -> list[Step]:
    return [step(tenant) for step in SETUP_STEPS]
