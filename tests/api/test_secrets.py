"""No response of the API ever carries a secret: every operation of the schema is called as
tenant A, whose Twilio, SendGrid and Xero secrets are all set, and every body is searched."""

import pytest
from django.db import connection as db

from connections.models import MessagingSettings
from tests.api.conftest import client_with_token
from tests.xero_api import ACCESS_TOKEN, REFRESH_TOKEN, xero_connection_create

SECRETS = {
    "twilio_auth_token": "twilio-auth-token-3f9a1c",
    "twilio_api_key_secret": "twilio-key-secret-77b2e0",
    "sendgrid_api_key": "SG.sendgrid-key-51d8aa",
}


@pytest.fixture
def secrets_everywhere(tenant_a, failed_message, staff_token):
    MessagingSettings.objects.create(
        tenant=tenant_a, twilio_account_sid="AC00000000000000000000000000000001",
        twilio_api_key_sid="SK00000000000000000000000000000001", twilio_from_number="+6498880000",
        sendgrid_from_email="accounts@alpha.test", **SECRETS,
    )  # fmt: skip
    xero_connection_create(tenant=tenant_a)
    with db.cursor() as cursor:  # the ciphertexts at rest must not leak either
        cursor.execute(
            "SELECT twilio_auth_token, twilio_api_key_secret, sendgrid_api_key "
            "FROM connections_messagingsettings"
        )
        at_rest = [value for row in cursor.fetchall() for value in row]
        cursor.execute("SELECT access_token, refresh_token FROM connections_xerogrant")
        at_rest += [value for row in cursor.fetchall() for value in row]
    api_token, raw = staff_token
    return [
        *SECRETS.values(),
        ACCESS_TOKEN,
        REFRESH_TOKEN,
        *at_rest,
        raw,
        api_token.token_hash,
        failed_message.callback_token,
    ]


def _bodies(path: str, method: str) -> list[dict | None]:
    if method == "post" and path.endswith("/preview/"):
        return [{"body": "{{ contact_name }} {{ online_invoice_url }}"}]
    if method in ("post", "put", "patch") and "{message_id}" not in path:
        return [{"kind": "reminder", "channel": "sms", "body": "{{ invoice_number }}"}, {}]
    return [None]


def test_no_endpoint_ever_returns_a_secret(secrets_everywhere, staff_token, failed_message, client):
    api = client_with_token(staff_token[1])
    schema = client.get("/api/schema/?format=json").json()
    template_id = failed_message.tenant.message_templates.first().pk
    ids = {"{message_id}": failed_message.pk, "{template_id}": template_id}
    called = []
    for path, operations in schema["paths"].items():
        url = path
        for name, value in ids.items():
            url = url.replace(name, str(value))
        for method in ("get", "post", "put", "patch", "delete"):
            if method not in operations:
                continue
            for body in _bodies(path, method):
                response = getattr(api, method)(url, body)
                called.append((method, path, response.status_code))
                text = response.content.decode()
                leaked = [secret for secret in secrets_everywhere if secret in text]
                assert not leaked, f"{method.upper()} {url} returned {leaked}"
    assert {status for *_, status in called} >= {200, 201, 204, 400}
    assert len({(m, p) for m, p, _ in called}) == sum(
        len([m for m in ops if m in ("get", "post", "put", "patch", "delete")])
        for ops in schema["paths"].values()
    )


def test_the_docs_and_the_schema_carry_no_secret(secrets_everywhere, client):
    for url in ("/api/schema/", "/api/docs/"):
        text = client.get(url).content.decode()
        assert not [secret for secret in secrets_everywhere if secret in text]
