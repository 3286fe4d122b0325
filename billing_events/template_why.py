"""Which template does an invoice get? For one real invoice chosen by number: per channel (and,
for reminders, per stage of the schedule it follows) the template notify() would use and why,
with the reason in the one order of snapshots/segments.py.

It needs both the templates (messaging) and the invoice's reminder schedule (billing_events), so
it lives here, in the upper of the two.
"""

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.utils import timezone

from billing_events.selectors import invoice_segments
from connections.models import Tenant
from messaging.models import SENDING_CHANNELS, Channel, Kind, MessageTemplate
from messaging.selectors import delivery_for, templates_ranked
from snapshots.contacts import ContactCard
from snapshots.segments import PRECEDENCE, TrackingTag, country_name, location_source, match_explain


@dataclass(frozen=True)
class TemplateChoice:
    channel: str
    stage: str  # the reminder stage's label; "" for other kinds
    template: MessageTemplate | None
    reason: str


@dataclass(frozen=True)
class TemplatesWhy:
    invoice_number: str
    contact: ContactCard
    tracking: tuple[TrackingTag, ...]
    kind: str
    choices: list[TemplateChoice]
    schedule_label: str
    schedule_reason: str
    schedule_stages: tuple
    by_stage: bool  # reminders: one row per stage of the schedule and channel
    precedence: str = PRECEDENCE

    @property
    def location(self) -> str:
        contact = self.contact
        if not contact.country:
            return "unknown (no address with a country, no phone number)"
        place = country_name(contact.country)
        where = f"{place}, {contact.region}" if contact.region else place
        return f"{where} (from {location_source(contact)})"


def _choice(ranked: dict, channel: str, stage: str) -> TemplateChoice:
    matches = ranked.get(channel)
    label = Channel(channel).label
    if not matches:
        return TemplateChoice(label, stage, None, "No active template: nothing goes by " + label)
    reason = match_explain(matches)
    if matches[0].stage_specific:
        reason += f"; written for the stage “{stage}”"
    return TemplateChoice(label, stage, matches[0].item, reason)


def templates_why(
    *, tenant: Tenant, invoice: str, kind: str, organisation: str = ""
) -> TemplatesWhy | None:
    """For the invoice with this number (of `organisation`, a Xero tenantId, when given): per
    channel (and, for reminders, per stage of the schedule the invoice follows) the template
    notify() would use and why; None if the tenant has no such invoice. Raises
    InvoiceNumberAmbiguous when several organisations have one and none was given."""
    today = timezone.now().astimezone(ZoneInfo(tenant.timezone)).date()
    found = invoice_segments(tenant=tenant, number=invoice, today=today, organisation=organisation)
    if found is None:
        return None
    sample = found.sample
    stages = found.schedule.stages if kind == Kind.REMINDER else ()
    language = delivery_for(tenant=tenant, contact_id=sample.contact.contact_id).language
    choices = []
    for key, label in [(stage.key, stage.label) for stage in stages] or [("", "")]:
        ranked = templates_ranked(
            tenant=tenant,
            kind=kind,
            contact=sample.contact,
            reminder_stage=key,
            tracking=sample.tracking,
            language=language,
        )
        choices += [_choice(ranked, channel, label) for channel in SENDING_CHANNELS]
    return TemplatesWhy(
        invoice_number=sample.invoice_number,
        contact=sample.contact,
        tracking=sample.tracking,
        kind=Kind(kind).label,
        choices=choices,
        schedule_label=found.schedule.label,
        schedule_reason=found.schedule_reason,
        schedule_stages=found.schedule.stages,
        by_stage=kind == Kind.REMINDER,
    )
