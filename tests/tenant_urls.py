"""Walk the URL conf for the tenant-isolation tests.

Every view is either tenant-scoped (wrapped by `connections.tenancy.tenant_required` or
`TenantRequiredMixin`, which mark it `tenant_scoped`) or listed in PUBLIC_PREFIXES. A URL with
parameters needs an entry in OTHER_TENANT_OBJECTS: given tenant B, return the value for that
parameter that names one of B's objects. A new URL with a parameter not listed here fails the
isolation test until someone says how to make B's object — so new URLs are covered automatically.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.urls import URLPattern, URLResolver, get_resolver

# Views that are deliberately not tenant-scoped: they authenticate some other way.
PUBLIC_PREFIXES = (
    "admin/",  # staff-only Django admin
    "accounts/",  # login, logout, password reset
    "healthz",
    "webhooks/",  # signed by Xero / Twilio
    "sandbox/",  # the offline stand-ins, mounted only with DUNWELL_SANDBOX=1
    "static/",
    "favicon.ico",  # a redirect to the static icon
    "invitations/",  # an invitation link: its unguessable single-use token is the authority
    "pay/",  # a customer's payment link: an unguessable token per invoice
    "api/schema/",  # the OpenAPI description of the REST API: no tenant data
    "api/docs/",
)

# The REST API answers 401 (not a redirect to the login page) to a caller without credentials.
API_PREFIX = "api/v1/"


def _switch_tenant(tenant_b):
    return tenant_b.slug


def _xero_connection(tenant_b):
    from tests.xero_api import xero_connection_create

    return xero_connection_create(tenant=tenant_b).pk


def _message_of(tenant_b):
    from messaging.models import Message

    message = Message.objects.create(
        tenant=tenant_b, kind="invoice_issued", channel="sms", dedup_key="b:1", status="failed"
    )
    return message.pk


def _membership(tenant_b):
    return tenant_b.memberships.first().pk


def _invitation(tenant_b):
    from connections.members import invitation_create

    owner = tenant_b.memberships.first().user
    new = invitation_create(tenant=tenant_b, email="new@bravo.test", invited_by=owner)
    return new.invitation.pk


def _template_of(tenant_b):
    return tenant_b.message_templates.first().pk


def _reminder_pause_of(tenant_b):
    from billing_events.models import ReminderPause

    return ReminderPause.objects.create(tenant=tenant_b, contact_id="b-contact").pk


def _reminder_step_of(tenant_b):
    from billing_events.models import ReminderStage

    return ReminderStage.objects.create(
        tenant=tenant_b, key="b_step", label="Bravo step", offset_days=4
    ).pk


def _api_token_of(tenant_b):
    from api_tokens.services import api_token_create

    owner = tenant_b.memberships.first().user
    return api_token_create(tenant=tenant_b, user=owner, name="Bravo sync")[0].pk


def _contact_of(tenant_b):
    from messaging.models import ContactPreference

    preference = ContactPreference.objects.create(
        tenant=tenant_b, contact_id="b-contact-pref", contact_name="Bravo Preferring Contact"
    )
    return preference.contact_id


def _invoice_of(tenant_b):
    from snapshots.models import InvoiceSnapshot

    invoice = InvoiceSnapshot.objects.create(
        tenant=tenant_b, xero_tenant_id="b-xt-inv", invoice_id="b-invoice-1", type="ACCREC",
        status="AUTHORISED", number="INV-B-1", contact_id="b-contact-pref",
    )  # fmt: skip
    return invoice.invoice_id


def _inbound_of(tenant_b):
    from messaging.models import InboundMessage

    inbound = InboundMessage.objects.create(
        tenant=tenant_b, message_sid="SM" + "c" * 32, channel="sms", from_phone="+64270004456",
        to="+6498887777", body="Bravo asks for time", intent="other",
    )  # fmt: skip
    return inbound.pk


# parameter name -> factory(tenant_b) returning the URL value of one of B's objects
OTHER_TENANT_OBJECTS: dict[str, Callable] = {
    "slug": _switch_tenant,
    "xero_connection_id": _xero_connection,
    "message_id": _message_of,
    "membership_id": _membership,
    "invitation_id": _invitation,
    "template_id": _template_of,
    "pause_id": _reminder_pause_of,
    "step_id": _reminder_step_of,
    "api_token_id": _api_token_of,
    "contact_id": _contact_of,
    "invoice_id": _invoice_of,
    "inbound_id": _inbound_of,
}


@dataclass
class TenantUrl:
    route: str
    name: str | None
    params: list[str]
    view: Callable
    # a value each parameter's converter accepts (an <int:...> will not match "x")
    samples: dict[str, str] = field(default_factory=dict)

    def build(self, values: dict) -> str:
        path = self.route
        for param in self.params:
            path = path.replace(f"<{param}>", str(values[param]))
            for converter in ("int", "slug", "str", "uuid", "path"):
                path = path.replace(f"<{converter}:{param}>", str(values[param]))
        return "/" + path


def _walk(patterns, prefix="") -> Iterator[tuple[str, URLPattern]]:
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, route)
        else:
            yield route, pattern


def _is_tenant_scoped(view) -> bool:
    view_class = getattr(view, "view_class", None) or getattr(view, "cls", None)
    return bool(
        getattr(view, "tenant_scoped", False) or getattr(view_class, "tenant_scoped", False)
    )


def is_owner_only(view) -> bool:
    view_class = getattr(view, "view_class", None) or getattr(view, "cls", None)
    return bool(
        getattr(view, "owner_required", False) or getattr(view_class, "owner_required", False)
    )


def all_routes() -> list[tuple[str, URLPattern]]:
    return [
        (route.lstrip("^").replace("\\Z", "").replace("$", ""), p)
        for route, p in _walk(get_resolver().url_patterns)
    ]


_SAMPLES = {"IntConverter": "1", "UUIDConverter": "00000000-0000-0000-0000-000000000000"}


def tenant_urls() -> list[TenantUrl]:
    urls = []
    for route, pattern in all_routes():
        if route.startswith(PUBLIC_PREFIXES):
            continue
        converters = getattr(pattern.pattern, "converters", {})
        samples = {name: _SAMPLES.get(type(c).__name__, "x") for name, c in converters.items()}
        urls.append(TenantUrl(route, pattern.name, list(converters), pattern.callback, samples))
    return urls


# --- tenant B's recognisable things ---------------------------------------------------------------
# Each factory gives tenant B something with a name no page of tenant A may ever show, and returns
# those names. tests/security/test_tenant_walk.py makes them all, then greps every page A's people
# can open. A new kind of tenant data (reminders, API keys, …) adds its factory here.


def _b_connection(tenant_b) -> list[str]:
    from tests.xero_api import xero_connection_create

    xero_connection_create(tenant=tenant_b, name="Bravo Quokka Holdings", xero_tenant_id="b-xt-77")
    return ["Bravo Quokka Holdings", "b-xt-77"]


def _b_messages(tenant_b) -> list[str]:
    from messaging.models import Message, MessageStatusChange

    sent = Message.objects.create(
        tenant=tenant_b, kind="invoice_issued", channel="sms", dedup_key="b:walk:1",
        status="sent", recipient="+64270009911", contact_name="Zebedee Quokka",
        contact_id="b-contact-zq", body="Bravo body INV-QK-9917", provider_id="SMbravo9917",
    )  # fmt: skip
    MessageStatusChange.objects.create(message=sent, to_status="sent", note="Bravo-note-5521")
    Message.objects.create(
        tenant=tenant_b, kind="invoice_issued", channel="sms", dedup_key="b:walk:2",
        status="skipped", error_code="invalid_phone", contact_name="Quintessa Bravo-Phoneless",
        status_reason="Bravo phoneless reason",
    )  # fmt: skip
    return ["+64270009911", "Zebedee Quokka", "INV-QK-9917", "SMbravo9917", "Bravo-note-5521",
            "Quintessa Bravo-Phoneless", "Bravo phoneless reason"]  # fmt: skip


def _b_templates(tenant_b) -> list[str]:
    from messaging.models import MessageTemplate

    MessageTemplate.objects.filter(tenant=tenant_b).update(body="Bravo template wording 4471")
    return ["Bravo template wording 4471"]


def _b_messaging_settings(tenant_b) -> list[str]:
    from connections.models import MessagingSettings

    MessagingSettings.objects.update_or_create(
        tenant=tenant_b,
        defaults={
            "twilio_account_sid": "ACbravo0000000000000000000000bbbb",
            "twilio_auth_token": "bravo-auth-token-should-never-show",
            "twilio_from_number": "+6498887777",
            "sendgrid_from_email": "accounts@bravo-quokka.test",
        },
    )
    return ["ACbravo0000000000000000000000bbbb", "bravo-auth-token-should-never-show",
            "+6498887777", "accounts@bravo-quokka.test"]  # fmt: skip


def _b_snapshots(tenant_b) -> list[str]:
    from snapshots.models import ContactSnapshot, CreditNoteSnapshot, InvoiceSnapshot

    InvoiceSnapshot.objects.create(
        tenant=tenant_b, xero_tenant_id="b-xt-77", invoice_id="b-inv-1", type="ACCREC",
        status="AUTHORISED", number="INV-BRAVO-3318", reference="Bravo ref 3318",
        contact_id="b-contact-zq",
    )  # fmt: skip
    CreditNoteSnapshot.objects.create(
        tenant=tenant_b, xero_tenant_id="b-xt-77", credit_note_id="b-cn-1", type="ACCRECCREDIT",
        status="AUTHORISED", number="CN-BRAVO-6620",
    )  # fmt: skip
    ContactSnapshot.objects.create(
        tenant=tenant_b, xero_tenant_id="b-xt-77", contact_id="b-contact-zq",
        name="Zebedee Quokka Contact", email="zebedee@bravo-quokka.test",
    )  # fmt: skip
    return ["INV-BRAVO-3318", "Bravo ref 3318", "CN-BRAVO-6620", "Zebedee Quokka Contact",
            "zebedee@bravo-quokka.test"]  # fmt: skip


def _b_team(tenant_b) -> list[str]:
    from connections.members import invitation_create

    owner = tenant_b.memberships.first().user
    invitation_create(tenant=tenant_b, email="invitee-quokka@bravo.test", invited_by=owner)
    return [tenant_b.name, owner.email, "invitee-quokka@bravo.test"]


def _b_replies_and_pauses(tenant_b) -> list[str]:
    from billing_events.models import ReminderPause
    from messaging.models import InboundMessage

    InboundMessage.objects.create(
        tenant=tenant_b, message_sid="SM" + "b" * 32, channel="sms", from_phone="+64270004455",
        to="+6498887777", body="Bravo inbound text 8812", intent="other",
    )  # fmt: skip
    ReminderPause.objects.create(
        tenant=tenant_b, contact_id="b-contact-zq", label="Bravo pause 6061"
    )
    return ["+64270004455", "Bravo inbound text 8812", "Bravo pause 6061"]


def _b_contact_preferences(tenant_b) -> list[str]:
    from messaging.models import ContactPreference

    ContactPreference.objects.create(
        tenant=tenant_b, contact_id="b-contact-zq", contact_name="Zebedee Prefers Email 7731",
        channels=["email"], language="mi",
    )  # fmt: skip
    return ["Zebedee Prefers Email 7731"]


def _b_segments(tenant_b) -> list[str]:
    from billing_events.models import ReminderStage
    from snapshots.models import XeroContactGroup, XeroTrackingOption

    XeroTrackingOption.objects.create(
        tenant=tenant_b, xero_tenant_id="b-xt-77", category_id="b-cat", option_id="b-opt",
        category_name="Bravo Quokka Category", option_name="Quokkaville",
    )  # fmt: skip
    XeroContactGroup.objects.create(
        tenant=tenant_b, xero_tenant_id="b-xt-77", group_id="b-grp", name="Bravo Quokka Group"
    )
    ReminderStage.objects.create(
        tenant=tenant_b, key="b_quokka", label="Bravo quokka nudge", offset_days=3,
        contact_group_id="b-grp", contact_group_name="Bravo Quokka Group",
    )  # fmt: skip
    return ["Bravo Quokka Category", "Quokkaville", "Bravo Quokka Group", "Bravo quokka nudge"]


def _b_alerts(tenant_b) -> list[str]:
    from alerts.models import Alert, AlertSettings

    Alert.objects.create(
        tenant=tenant_b, kind="twilio_sender", subject="+6498887777",
        title="Twilio refuses Bravo sender 5150", detail="Bravo alert detail 5150",
    )  # fmt: skip
    AlertSettings.objects.create(tenant=tenant_b, sms_phone="+64270005150")
    return ["Twilio refuses Bravo sender 5150", "Bravo alert detail 5150", "+64270005150"]


OTHER_TENANT_DATA: list[Callable] = [
    _b_team,
    _b_replies_and_pauses,
    _b_connection,
    _b_messages,
    _b_templates,
    _b_messaging_settings,
    _b_snapshots,
    _b_contact_preferences,
    _b_segments,
    _b_alerts,
]


def other_tenant_data_create(tenant_b) -> list[str]:
    """Make all of tenant B's recognisable things; return the strings that give them away."""
    return [marker for factory in OTHER_TENANT_DATA for marker in factory(tenant_b)]
