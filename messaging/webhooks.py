"""What every Twilio webhook checks first: a body of sane size, and Twilio's signature."""

from django.conf import settings
from twilio.request_validator import RequestValidator


def twilio_body_too_large(request) -> bool:
    """A Twilio callback is a few hundred bytes; refuse a huge body before reading it."""
    declared = request.META.get("CONTENT_LENGTH") or "0"
    return not declared.isdigit() or int(declared) > settings.TWILIO_WEBHOOK_MAX_BYTES


def twilio_signed(request, auth_token: str) -> bool:
    # Twilio signs the URL it called; behind a proxy only PUBLIC_BASE_URL knows it (FACTS.md).
    url = settings.PUBLIC_BASE_URL + request.get_full_path()
    signature = request.headers.get("X-Twilio-Signature", "")
    return bool(auth_token) and RequestValidator(auth_token).validate(url, request.POST, signature)
