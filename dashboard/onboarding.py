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
from messaging.channels import FINAL_PROVIDER_STATUSES, SendError, explain
from messaging.models import MessageTemplate
from messaging.selectors import templates_for_editor
from messaging.services import messaging_test_send, text_status


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


TEST_MESSAGE_FIELDS = [
    "test_message_sent_at",
    "test_message_sid",
    "test_message_status",
    "test_message_error",
    "test_message_delivered_at",
]
WAITING, DELIVERED, NOT_DELIVERED = "waiting", "delivered", "not_delivered"


def onboarding_test_send(*, tenant: Tenant, phone: str) -> tuple[bool, str]:
    """Text the owner through the tenant's Twilio account and remember the text Twilio accepted;
    the step is done only once it is delivered (onboarding_test_check)."""
    accepted, words = messaging_test_send(tenant=tenant, phone=phone)
    if accepted:
        tenant.test_message_sent_at = now()
        tenant.test_message_sid = accepted.provider_id
        tenant.test_message_status = accepted.provider_status
        tenant.test_message_error = ""
        tenant.test_message_delivered_at = None
        tenant.save(update_fields=TEST_MESSAGE_FIELDS)
    return accepted is not None, words


@dataclass(frozen=True)
class SentTest:
    state: str  # "" (none sent yet), WAITING, DELIVERED or NOT_DELIVERED
    twilio_status: str = ""
    reason: str = ""  # why it was not delivered, or why Twilio could not be asked just now


def onboarding_test_check(*, tenant: Tenant) -> SentTest:
    """Where the test message is. Twilio was asked for no status callback (a laptop install has
    no public address for one), so a text not yet final is looked up (GET the message)."""
    if tenant.test_message_delivered_at is not None:
        return SentTest(DELIVERED, tenant.test_message_status)
    if not tenant.test_message_sid:
        return SentTest("")
    unreachable = ""
    if tenant.test_message_status not in FINAL_PROVIDER_STATUSES:
        try:
            found = text_status(tenant=tenant, sid=tenant.test_message_sid)
        except SendError as error:
            unreachable = f"Twilio could not be asked just now ({error.text})"
        else:
            tenant.test_message_status = found.status
            tenant.test_message_error = found.error_code
            if found.status in ("delivered", "read"):
                tenant.test_message_delivered_at = now()
            tenant.save(update_fields=TEST_MESSAGE_FIELDS)
    status = tenant.test_message_status
    if tenant.test_message_delivered_at is not None:
        return SentTest(DELIVERED, status)
    if status in FINAL_PROVIDER_STATUSES:
        code = tenant.test_message_error
        reason = explain(code) if code else f"Twilio reported it {status}."
        detail = f"Twilio status “{status}”" + (f", error {code}" if code else "")
        return SentTest(NOT_DELIVERED, status, f"{reason} ({detail}).")
    return SentTest(WAITING, status, unreachable)
