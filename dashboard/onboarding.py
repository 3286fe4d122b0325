"""The onboarding wizard (/welcome/): five steps in order, each done or not for a tenant.

A step is "done" by the same test the home checklist uses (connections/selectors_setup.py), so
the wizard and the checklist never disagree. SendGrid is optional: done once a key and sender
are saved, and the wizard lets an owner skip it.
"""

from dataclasses import dataclass

from django.db.models import QuerySet
from django.urls import reverse
from django.utils.timezone import now

from billing_events.models import ReminderStage
from connections.models import MessagingSettings, Tenant
from connections.selectors_setup import tenant_setup_steps
from messaging.models import MessageTemplate
from messaging.selectors import templates_for_editor
from messaging.services import messaging_test_send


@dataclass(frozen=True)
class WizardStep:
    key: str
    title: str
    url_name: str
    optional: bool = False


WIZARD_STEPS: list[WizardStep] = [
    WizardStep("xero", "Connect Xero", "welcome-xero"),
    WizardStep("twilio", "Twilio account", "welcome-twilio"),
    WizardStep("sendgrid", "Email (optional)", "welcome-sendgrid", optional=True),
    WizardStep("templates", "Messages and reminders", "welcome-review"),
    WizardStep("test", "Test message", "welcome-test"),
]


@dataclass(frozen=True)
class StepState:
    number: int
    title: str
    url: str
    done: bool
    optional: bool
    current: bool


def _sendgrid_set_up(tenant: Tenant) -> bool:
    return (
        MessagingSettings.objects.filter(tenant=tenant)
        .exclude(sendgrid_api_key="")
        .exclude(sendgrid_from_email="")
        .exists()
    )


def wizard_progress(*, tenant: Tenant, current: str) -> list[StepState]:
    """Every step with its number, link and whether it is done; `current` marks the page shown."""
    done = {step.key: step.done for step in tenant_setup_steps(tenant=tenant)}
    done["sendgrid"] = _sendgrid_set_up(tenant)
    return [
        StepState(
            number=number,
            title=step.title,
            url=reverse(step.url_name),
            done=done[step.key],
            optional=step.optional,
            current=step.key == current,
        )
        for number, step in enumerate(WIZARD_STEPS, start=1)
    ]


def wizard_next_url(*, tenant: Tenant) -> str:
    """The first required step not yet done, or the home page when everything is."""
    for state in wizard_progress(tenant=tenant, current=""):
        if not state.done and not state.optional:
            return state.url
    return reverse("home")


def wizard_step_after(key: str) -> str:
    keys = [step.key for step in WIZARD_STEPS]
    following = WIZARD_STEPS[keys.index(key) + 1 :]
    return reverse(following[0].url_name) if following else reverse("home")


@dataclass(frozen=True)
class ReviewSummary:
    templates: QuerySet[MessageTemplate]
    stages: QuerySet[ReminderStage]


def review_summary(*, tenant: Tenant) -> ReviewSummary:
    return ReviewSummary(
        templates=templates_for_editor(tenant=tenant).filter(is_active=True),
        stages=ReminderStage.objects.filter(tenant=tenant, is_active=True),
    )


def templates_review_record(*, tenant: Tenant) -> None:
    """An owner said "Looks good" to the templates and reminder schedule (the checklist asks)."""
    tenant.templates_reviewed_at = now()
    tenant.save(update_fields=["templates_reviewed_at"])


def onboarding_test_send(*, tenant: Tenant, phone: str) -> tuple[bool, str]:
    """Text the owner through the tenant's Twilio account; remember that Twilio accepted it."""
    accepted, words = messaging_test_send(tenant=tenant, phone=phone)
    if accepted:
        tenant.test_message_sent_at = now()
        tenant.save(update_fields=["test_message_sent_at"])
    return accepted, words
