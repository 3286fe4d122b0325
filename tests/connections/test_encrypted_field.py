"""Secrets are Fernet ciphertext in the database and rotate to a new key on command."""

from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from connections.models import MessagingSettings


def secret_row(tenant, value):
    row = MessagingSettings.objects.create(tenant=tenant, twilio_auth_token=value)
    return row, MessagingSettings._meta.db_table, "twilio_auth_token"


def _raw(table, column, pk):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


@pytest.fixture
def keys():
    return [Fernet.generate_key().decode(), Fernet.generate_key().decode()]


def test_round_trip_and_ciphertext_at_rest(tenant_a, keys):
    with override_settings(FIELD_ENCRYPTION_KEYS=[keys[0]]):
        row, table, column = secret_row(tenant_a, "sk_live_plaintext_secret")
        row.refresh_from_db()
        assert getattr(row, column) == "sk_live_plaintext_secret"
        raw = _raw(table, column, row.pk)
        assert "sk_live_plaintext_secret" not in raw
        assert Fernet(keys[0]).decrypt(raw.encode()) == b"sk_live_plaintext_secret"


def test_rotation_reencrypts_with_the_first_key(tenant_a, keys):
    old, new = keys
    with override_settings(FIELD_ENCRYPTION_KEYS=[old]):
        row, table, column = secret_row(tenant_a, "rotate-me")
    with override_settings(FIELD_ENCRYPTION_KEYS=[new, old]):
        out = StringIO()
        call_command("rotate_encryption_keys", stdout=out)
        assert "now use the first key" in out.getvalue()
    raw = _raw(table, column, row.pk)
    assert Fernet(new).decrypt(raw.encode()) == b"rotate-me"
    with override_settings(FIELD_ENCRYPTION_KEYS=[new]):  # the old key can now be retired
        row.refresh_from_db()
        assert getattr(row, column) == "rotate-me"


def test_blank_means_not_configured_and_is_stored_blank(tenant_a, keys):
    with override_settings(FIELD_ENCRYPTION_KEYS=[keys[0]]):
        row, table, column = secret_row(tenant_a, "")
        assert _raw(table, column, row.pk) == ""
