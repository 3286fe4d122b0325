"""Which tenant's Twilio settings a webhook belongs to, and which channels can send."""

from connections.models import MessagingSettings, Tenant


def messaging_settings_for_inbound(
    *, account_sid: str, messaging_service_sid: str, to: str
) -> MessagingSettings | None:
    """Whose number a customer texted: the Messaging Service, else the number, else the account
    — each only when exactly one active tenant has it. The signature is checked after."""
    # PostgreSQL text cannot hold NUL: no stored value matches one, and asking would be a 500.
    account_sid, messaging_service_sid, to = (
        "" if "\x00" in value else value for value in (account_sid, messaging_service_sid, to)
    )
    number = to.removeprefix("whatsapp:")
    lookups = [
        {"twilio_messaging_service_sid": messaging_service_sid} if messaging_service_sid else None,
        {"twilio_from_number": number} if number else None,
        {"whatsapp_from__in": [number, f"whatsapp:{number}"]} if number else None,
        {"twilio_account_sid": account_sid} if account_sid else None,
    ]
    active = MessagingSettings.objects.filter(tenant__is_active=True).select_related("tenant")
    for lookup in filter(None, lookups):
        found = list(active.filter(**lookup)[:2])
        if len(found) == 1 and (not account_sid or found[0].twilio_account_sid == account_sid):
            return found[0]
    return None


def messaging_channels_configured(*, tenant: Tenant) -> dict[str, bool]:
    """Which channels have what they need to send, as messaging.channels requires it."""
    m = MessagingSettings.objects.filter(tenant=tenant).first()
    if m is None:
        return {"sms": False, "whatsapp": False, "email": False}
    twilio = bool(
        m.twilio_account_sid
        and (m.twilio_auth_token or (m.twilio_api_key_sid and m.twilio_api_key_secret))
    )
    return {
        "sms": twilio and bool(m.twilio_messaging_service_sid or m.twilio_from_number),
        "whatsapp": twilio and bool(m.whatsapp_from),
        "email": bool(m.sendgrid_api_key and m.sendgrid_from_email),
    }
