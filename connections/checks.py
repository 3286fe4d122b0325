"""System checks for configuration mistakes an operator should hear about at start-up."""

from cryptography.fernet import Fernet
from django.conf import settings
from django.core.checks import Error, Warning, register


@register()
def check_encryption_keys(app_configs, **kwargs):
    errors = []
    for position, key in enumerate(settings.FIELD_ENCRYPTION_KEYS, start=1):
        try:
            Fernet(key)
        except ValueError:
            errors.append(
                Error(
                    f"Key #{position} in FIELD_ENCRYPTION_KEYS is not a valid Fernet key.",
                    hint="Each key is 32 url-safe base64-encoded bytes; generate one with "
                    "Fernet.generate_key().",
                    id="dunwell.E001",
                )
            )
    return errors


@register(deploy=True)
def check_public_base_url(app_configs, **kwargs):
    if not settings.PUBLIC_BASE_URL.startswith("https://"):
        return [
            Warning(
                "PUBLIC_BASE_URL is not https: Xero and Twilio call back to this address.",
                hint="Set PUBLIC_BASE_URL to the public https address of this server.",
                id="dunwell.W001",
            )
        ]
    return []
