"""The tenant's Twilio and SendGrid settings: saved (secrets kept when left blank), verified,
and tried with a test message.
"""

from connections.models import MessagingSettings, Tenant
from messaging.channels import (
    FoundMessage,
    Outgoing,
    SendError,
    SendResult,
    Sms,
    account_check,
    explain,
)
from snapshots.contacts import (
    mobile_card,
    phone_choose,
)

SECRET_FIELDS = ("twilio_auth_token", "twilio_api_key_secret", "sendgrid_api_key")


def messaging_settings_save(*, tenant: Tenant, values: dict) -> MessagingSettings:
    """Save the tenant's provider settings; a blank secret keeps the stored one."""
    row, _ = MessagingSettings.objects.get_or_create(tenant=tenant)
    _settings_apply(row, values)
    row.save()
    return row


def _settings_apply(row: MessagingSettings, values: dict) -> None:
    for name, value in values.items():
        if name in SECRET_FIELDS and not value:
            continue
        setattr(row, name, value)


def twilio_settings_verify_save(*, tenant: Tenant, values: dict) -> tuple[bool, str]:
    """Save the Twilio settings only if Twilio accepts them; say in plain words what it said."""
    row = MessagingSettings.objects.filter(tenant=tenant).first() or MessagingSettings(
        tenant=tenant
    )
    _settings_apply(row, values)
    try:
        account_name = account_check(row)
    except SendError as error:
        if error.code == "20404":
            return False, (
                "Twilio has no account with that Account SID. Copy it again from the Twilio "
                "console."
            )
        return False, error.text
    row.save()
    return True, f"Twilio accepted these credentials for the account “{account_name}”."


def text_now(*, tenant: Tenant, phone: str, body: str) -> SendResult:
    """Text an E.164 number through the tenant's Twilio SMS sender at once, outside the send log.

    Only for texts to the tenant's own people (a test message, an alert), never to a customer:
    those go through notify() so that they are logged, deduplicated and kept out of quiet hours.
    Raises SendError.
    """
    messaging = MessagingSettings.objects.filter(tenant=tenant).first()
    if messaging is None:
        raise SendError("config", explain("config"), permanent=True)
    return Sms(messaging).send(Outgoing(to=phone, body=body))


def text_status(*, tenant: Tenant, sid: str) -> FoundMessage:
    """Twilio's status of a text text_now sent (it asked for no status callback). SendError."""
    messaging = MessagingSettings.objects.filter(tenant=tenant).first()
    if messaging is None:
        raise SendError("config", explain("config"), permanent=True)
    return Sms(messaging).fetch(sid=sid)


def messaging_test_send(*, tenant: Tenant, phone: str) -> tuple[SendResult | None, str]:
    """Text `phone` through the tenant's Twilio account and say what Twilio answered: the
    message Twilio accepted (None if it refused) and a sentence for the person."""
    choice = phone_choose(mobile_card(phone), default_country=tenant.default_country)
    if choice.e164 is None:
        return None, f"“{phone}” is not a phone number we can text."
    if not MessagingSettings.objects.filter(tenant=tenant).exists():
        return None, "Save your Twilio settings first."
    try:
        result = text_now(
            tenant=tenant,
            phone=choice.e164,
            body=f"Dunwell test message for {tenant.name}: your Twilio settings work.",
        )
    except SendError as error:
        return None, f"Twilio did not accept the message (error {error.code}): {error.text}"
    return result, (
        f"Twilio accepted the message (status “{result.provider_status}”, "
        f"SID {result.provider_id}). It should arrive on {choice.e164} shortly."
    )
