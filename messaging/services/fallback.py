"""A text not delivered goes again by email, once, when its template asks for that."""

from messaging.models import (
    PHONE_CHANNELS,
    Channel,
    Message,
)
from messaging.selectors import (
    delivery_for,
    messaging_channels_configured,
    templates_choose,
)
from messaging.services.moves import Status, _record
from messaging.services.notify import _draft, _insert_once, _skip
from snapshots.contacts import (
    ContactCard,
    contact_card_restored,
)
from snapshots.segments import TrackingTag

# The fallback's dedup key is the notification's own (that of its first try) plus this suffix, so
# a notification falls back once, whichever of its texts failed (first try, 30003 retry, resend)
# and however often Twilio repeats a callback.
FALLBACK_SUFFIX = ":fallback"


def _first_try(message: Message) -> Message:
    while message.resend_of_id:
        message = message.resend_of
    return message


def _email_fallback(message: Message) -> Message | None:
    """Send the notification of a text that was not delivered again by email, when its template
    asks for that. Returns the email (to be sent, or skipped saying why), None if none applies."""
    template = message.template
    if message.channel not in PHONE_CHANNELS or template is None or not template.fallback_to_email:
        return None
    first = _first_try(message)
    emailed = Message.objects.filter(
        tenant_id=message.tenant_id, dedup_key=first.dedup_key, channel=Channel.EMAIL
    ).first()
    if emailed is not None:
        note = f"No fallback email: this notification went by email too (message #{emailed.pk})."
        _record(message, from_status=message.status, note=note)
        return None
    email = Message(
        tenant=message.tenant,
        kind=message.kind,
        channel=Channel.EMAIL,
        dedup_key=first.dedup_key + FALLBACK_SUFFIX,
        contact_id=message.contact_id,
        contact_name=message.contact_name,
        invoice_id=message.invoice_id,
        xero_tenant_id=message.xero_tenant_id,
        template_values=message.template_values,
        contact_card=message.contact_card,
        fallback_of=message,
        is_test=message.is_test,
    )
    contact = contact_card_restored(
        message.contact_card, contact_id=message.contact_id, name=message.contact_name
    )
    _fallback_draft(email, contact=contact)
    what = f"{message.get_channel_display()} message #{message.pk}"
    saved = _insert_once(email, note=f"Sent instead of {what}, which was not delivered.")
    if saved is email:  # the first to get here; a repeat finds the row and says nothing again
        if email.status == Status.SKIPPED:
            note = f"No fallback email (message #{email.pk}): {email.status_reason}"
        else:
            note = f"Not delivered: the same notification goes by email (message #{email.pk})."
        _record(message, from_status=message.status, note=note)
    return saved


def _fallback_draft(email: Message, *, contact: ContactCard) -> Message:
    tenant = email.tenant
    delivery = delivery_for(tenant=tenant, contact_id=contact.contact_id)
    if delivery.own_channels and Channel.EMAIL not in delivery.channels:
        return _skip(email, "not_preferred", "The channels set for this contact leave out email.")
    if not messaging_channels_configured(tenant=tenant)[Channel.EMAIL]:
        return _skip(
            email,
            "config",
            "Email is not set up: add a SendGrid API key and From email in Messaging settings.",
        )
    template = templates_choose(
        tenant=tenant,
        kind=email.kind,
        contact=contact,
        reminder_stage=email.template_values.get("reminder_stage", ""),
        tracking=[TrackingTag(**tag) for tag in email.contact_card.get("tracking", ())],
        language=delivery.language,
    ).get(Channel.EMAIL)
    if template is None:
        reason = f"There is no active email template for “{email.get_kind_display()}”."
        return _skip(email, "no_template", reason)
    email.template = template
    return _draft(message=email, template=template, contact=contact, values=email.template_values)
