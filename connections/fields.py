"""A text field whose value the database only ever sees encrypted.

MultiFernet over settings.FIELD_ENCRYPTION_KEYS: the first key encrypts, every key decrypts, so a
key is rotated by putting a new one first and running `manage.py rotate_encryption_keys`.
"""

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.db import models


@cache
def _fernet() -> MultiFernet:
    keys = settings.FIELD_ENCRYPTION_KEYS
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty: secrets cannot be stored.")
    return MultiFernet([Fernet(key) for key in keys])


def _reset_fernet(*, setting, **kwargs):
    if setting == "FIELD_ENCRYPTION_KEYS":
        _fernet.cache_clear()


setting_changed.connect(_reset_fernet)


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise ImproperlyConfigured(
            "A stored secret cannot be decrypted with FIELD_ENCRYPTION_KEYS: "
            "was a key removed before rotate_encryption_keys ran?"
        ) from None


class EncryptedTextField(models.TextField):
    """Blank stays blank (it means "not configured"); anything else is a Fernet token at rest.

    Ciphertexts differ on every write, so these fields cannot be filtered or made unique.
    """

    def from_db_value(self, value, expression, connection):
        if not value:
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if not value:
            return value
        return encrypt(value)
