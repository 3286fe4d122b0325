"""The template editor's live preview and its writes (the REST API uses the same ones).

The editor's "why" (templates_why) shows, for one real invoice, which template each channel uses
and which reminder schedule applies, with the reason in the one order of messaging/segments.py.

The preview fills a template exactly as notify() would (rendering.template_values → render), with
the values of the tenant's most recent real invoice (one billing_events selector, the read-only
edge ARCHITECTURE.md allows) and sample values for whatever that invoice cannot supply (a
payment amount, a credit note number). It never writes and never calls Xero or Twilio.
"""

import json
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from billing_events.selectors import invoice_preview_sample, invoice_segments, segment_names_fill
from connections.models import Tenant
from messaging import rendering
from messaging.contacts import ContactCard
from messaging.models import SENDING_CHANNELS, Channel, Kind, MessageTemplate
from messaging.segments import (
    PRECEDENCE,
    TrackingTag,
    country_name,
    location_source,
    match_explain,
)
from messaging.selectors import delivery_for, templates_ranked

SAMPLE_CONTACT = ContactCard(
    contact_id="",
    name="Aroha Ngata",
    first_name="Aroha",
    group_names=("Trade customers",),
)
SAMPLE_CONTEXT = {
    "invoice_number": "INV-0142",
    "reference": "Job 2291",
    "amount_due": Decimal("485.00"),
    "total": Decimal("685.00"),
    "amount_paid": Decimal("200.00"),
    "payment_amount": Decimal("200.00"),
    "currency": "",
    "due_date": date(2026, 7, 7),
    "days_overdue": 7,
    "online_invoice_url": "https://dunwell.example.com/pay/Xy7Qa2Lm9Rt4Bv8K/",
    "reminder_stage": "7 days overdue",
    "credit_note_number": "CN-0012",
}

DUPLICATE_RULE = (
    "There is already a template for this kind, channel, segment, stage and language. "
    "Edit that one instead."
)


class DuplicateRule(ValidationError):
    """Another template already has this kind, channel, segment, stage and language."""


@dataclass(frozen=True)
class Chunk:
    """A run of preview text; `forced` when its characters push the SMS into UCS-2."""

    text: str
    forced: bool


@dataclass(frozen=True)
class SmsCounter:
    characters: int
    encoding: str
    segments: int
    per_segment: int
    forcing: tuple[str, ...]  # "’ (RIGHT SINGLE QUOTATION MARK)", one per character
    cost: Decimal
    currency: str


@dataclass
class Preview:
    sample_label: str
    errors: dict[str, list[str]] = field(default_factory=dict)
    subject: str = ""
    chunks: list[Chunk] = field(default_factory=list)
    whatsapp_variables: list[tuple[str, str]] = field(default_factory=list)
    sms: SmsCounter | None = None


def _sample(tenant: Tenant, invoice_id: str | None) -> tuple[ContactCard, dict, str]:
    today = timezone.now().astimezone(ZoneInfo(tenant.timezone)).date()
    real = invoice_preview_sample(tenant=tenant, today=today, invoice_id=invoice_id)
    context = {**SAMPLE_CONTEXT, "organisation_name": tenant.name}
    if real is None and invoice_id is not None:
        raise ObjectDoesNotExist(f"The tenant has no invoice {invoice_id}.")
    if real is None:
        return SAMPLE_CONTACT, context, "an example invoice (none from Xero yet)"
    label = f"invoice {real.invoice_number} to {real.contact.name}"
    return real.contact, {**context, **real.context}, label


def _chunks(text: str, forcing: tuple[str, ...]) -> list[Chunk]:
    chunks: list[Chunk] = []
    for character in text:
        forced = character in forcing
        if chunks and chunks[-1].forced == forced:
            chunks[-1] = Chunk(chunks[-1].text + character, forced)
        else:
            chunks.append(Chunk(character, forced))
    return chunks


def _describe(character: str) -> str:
    return f"{character} ({unicodedata.name(character, f'U+{ord(character):04X}').lower()})"


def sms_counter(text: str) -> SmsCounter:
    size = rendering.sms_size(text)
    price = Decimal(settings.SMS_PRICE_PER_SEGMENT)
    return SmsCounter(
        characters=len(text),
        encoding=size.encoding,
        segments=size.segments,
        per_segment=size.per_segment,
        forcing=tuple(_describe(ch) for ch in size.ucs2_characters),
        cost=(price * size.segments).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP),
        currency=settings.SMS_PRICE_CURRENCY,
    )


def _parse_variables(text: str) -> tuple[dict, list[str]]:
    if not text.strip():
        return {}, []
    try:
        mapping = json.loads(text)
    except ValueError:
        return {}, ['Not valid JSON. Write it like {"1": "{{ first_name }}"}.']
    if not isinstance(mapping, dict):
        return {}, ['Give a JSON object, e.g. {"1": "{{ first_name }}"}.']
    return mapping, []


def template_preview(
    *,
    tenant: Tenant,
    channel: str,
    subject: str,
    body: str,
    content_variables: str,
    invoice_id: str | None = None,
) -> Preview:
    """What this template would send now, or the problems that stop it, field by field.

    With `invoice_id`, for that invoice of the tenant (ObjectDoesNotExist if it has none such).
    """
    contact, context, label = _sample(tenant, invoice_id)
    values = rendering.template_values(
        contact=contact, context=context, country=tenant.default_country
    )
    preview = Preview(sample_label=label)
    limit = rendering.MAX_OUTPUT.get(channel, rendering.MAX_OUTPUT[Channel.SMS])

    def fill(name: str, text: str, max_length: int) -> str:
        problems = rendering.template_errors(text)
        if not problems:
            try:
                return rendering.render(text, values, max_length=max_length)
            except rendering.RenderError as exc:
                problems = [str(exc)]
        preview.errors.setdefault(name, []).extend(problems)
        return ""

    if channel == Channel.EMAIL:
        preview.subject = fill("subject", subject, 300)
    if channel == Channel.WHATSAPP:
        mapping, problems = _parse_variables(content_variables)
        if problems:
            preview.errors["content_variables"] = problems
        for key, text in sorted(mapping.items(), key=lambda item: str(item[0]).zfill(4)):
            filled = fill("content_variables", str(text), limit)
            preview.whatsapp_variables.append((str(key), filled))
    rendered = fill("body", body, limit) if body.strip() or channel != Channel.WHATSAPP else ""
    if channel == Channel.SMS and rendered:
        preview.sms = sms_counter(rendered)
        forcing = rendering.sms_size(rendered).ucs2_characters
        preview.chunks = _chunks(rendered, forcing)
    else:
        preview.chunks = _chunks(rendered, ())
    return preview


def template_save(*, template: MessageTemplate) -> MessageTemplate:
    """Validate (MessageTemplate.clean names line and variable) and save; the constraint decides
    whether a rule for this kind × channel × segment × stage × language already exists."""
    segment_names_fill(template, tenant=template.tenant)
    template.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            template.save()
    except IntegrityError:
        raise DuplicateRule(DUPLICATE_RULE) from None
    return template


def template_delete(*, template: MessageTemplate) -> None:
    """Messages already sent keep their text; they only lose the link to the template."""
    template.delete()


# --- why this template? (issue 12) ------------------------------------------------------------


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
