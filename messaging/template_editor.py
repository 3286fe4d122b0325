"""The template editor's live preview and its writes (the REST API uses the same ones).

The preview fills a template exactly as notify() would (rendering.template_values → render), with
the values of the tenant's most recent real invoice (snapshots.selectors.invoice_preview_sample)
and sample values for whatever that invoice cannot supply (a payment amount, a credit note
number). It never writes and never calls Xero or Twilio.

"Which template does an invoice get?" needs the invoice's reminder schedule too, so it lives a
layer up, in billing_events/template_why.py.
"""

import json
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import phonenumbers
from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from connections.models import Tenant
from connections.selectors import (
    connections_for_tenant,
    names_for_customers,
    organisation_for_customers,
)
from messaging import rendering
from messaging.models import Channel, MessageTemplate
from snapshots.contacts import ContactCard, phone_choose, recipient_country
from snapshots.selectors import invoice_preview_sample, segment_names_fill

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
    "overdue_invoices": [
        {
            "invoice_number": "INV-0142",
            "contact_name": "Aroha Ngata",
            "currency": "",
            "amount_due": Decimal("485.00"),
            "days_overdue": 7,
        },
    ],
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
class CountryCost:
    """The estimate for a recipient in one country (settings.SMS_PRICES)."""

    country: str  # ISO 3166 code; "" when no country is known
    per_segment: Decimal
    cost: Decimal
    priced: bool  # False: SMS_PRICES has no price for it, the default was used


@dataclass(frozen=True)
class SmsCounter:
    characters: int
    encoding: str
    segments: int
    per_segment: int
    forcing: tuple[str, ...]  # "’ (RIGHT SINGLE QUOTATION MARK)", one per character
    costs: tuple[CountryCost, ...]  # the preview's recipient first, then the tenant's countries
    currency: str

    @property
    def cost(self) -> Decimal:
        return self.costs[0].cost


@dataclass
class Preview:
    sample_label: str
    errors: dict[str, list[str]] = field(default_factory=dict)
    subject: str = ""
    chunks: list[Chunk] = field(default_factory=list)
    whatsapp_variables: list[tuple[str, str]] = field(default_factory=list)
    sms: SmsCounter | None = None


def preview_sample(
    *, tenant: Tenant, invoice_id: str | None = None
) -> tuple[ContactCard, dict, str]:
    """The contact and values a preview fills templates with, and whose they are: the tenant's
    invoice `invoice_id`, else its most recent one, else an example."""
    today = timezone.now().astimezone(ZoneInfo(tenant.timezone)).date()
    real = invoice_preview_sample(tenant=tenant, today=today, invoice_id=invoice_id)
    # Customers never read the tenant's name: an example shows its only organisation's, or the
    # neutral one a reply uses when several could be meant.
    organisation = organisation_for_customers(tenant=tenant, xero_tenant_ids=())
    context = {**SAMPLE_CONTEXT, **names_for_customers(organisation)}
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


def _country_cost(country: str, segments: int) -> CountryCost:
    price = settings.SMS_PRICES.get(country)
    per_segment = Decimal(settings.SMS_PRICE_PER_SEGMENT) if price is None else price
    cost = (per_segment * segments).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
    return CountryCost(country, per_segment, cost, priced=price is not None)


def sms_counter(text: str, *, countries: Sequence[str]) -> SmsCounter:
    """Size and estimated cost of a text, priced for each of `countries` (the recipient's
    first): Twilio's price per segment depends on where the text goes."""
    size = rendering.sms_size(text)
    countries = list(dict.fromkeys(country for country in countries if country)) or [""]
    return SmsCounter(
        characters=len(text),
        encoding=size.encoding,
        segments=size.segments,
        per_segment=size.per_segment,
        forcing=tuple(_describe(ch) for ch in size.ucs2_characters),
        costs=tuple(_country_cost(country, size.segments) for country in countries),
        currency=settings.SMS_PRICE_CURRENCY,
    )


def _recipient_countries(tenant: Tenant, contact: ContactCard) -> list[str]:
    """Where the preview's text would go (Twilio prices by the country of the number; without
    one, where the recipient is), then the countries of the tenant's organisations: the places
    its texts are likely to go."""
    number = phone_choose(contact, default_country=tenant.default_country).e164
    destination = (
        phonenumbers.region_code_for_number(phonenumbers.parse(number))
        if number
        else recipient_country(contact, tenant_country=tenant.default_country)
    )
    organisations = connections_for_tenant(tenant=tenant).values_list("country_code", flat=True)
    return [destination, *organisations.order_by("country_code")]


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
    kind: str | None = None,
) -> Preview:
    """What this template would send now, or the problems that stop it, field by field.

    With `invoice_id`, for that invoice of the tenant (ObjectDoesNotExist if it has none such);
    with `kind`, a variable that kind of message cannot fill is one of the problems.
    """
    contact, context, label = preview_sample(tenant=tenant, invoice_id=invoice_id)
    values = rendering.template_values(
        contact=contact, context=context, tenant_country=tenant.default_country
    )
    preview = Preview(sample_label=label)
    limit = rendering.MAX_OUTPUT.get(channel, rendering.MAX_OUTPUT[Channel.SMS])

    def fill(name: str, text: str, max_length: int) -> str:
        problems = rendering.template_errors(text, kind=kind)
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
        preview.sms = sms_counter(rendered, countries=_recipient_countries(tenant, contact))
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
