"""The sandbox SendGrid: 202 and an X-Message-Id, and an outbox to read what was sent."""

import json

SEND = "/sandbox/sendgrid/v3/mail/send"
MAIL = {
    "personalizations": [{"to": [{"email": "aroha@example.test"}]}],
    "from": {"email": "accounts@demo-bakery.test", "name": "Demo Bakery"},
    "subject": "Invoice INV-0001",
    "content": [{"type": "text/plain", "value": "Your invoice for $485.00 is due on 28 Nov."}],
}


def _post(client, payload, key="SG.test-key"):
    return client.post(
        SEND,
        json.dumps(payload),
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )


def test_a_mail_is_queued_with_202_and_shows_in_the_outbox(client, db):
    response = _post(client, MAIL)
    assert response.status_code == 202
    assert response.content == b""
    assert response["X-Message-Id"]
    page = client.get("/sandbox/sendgrid/outbox/").content.decode()
    assert "Invoice INV-0001" in page and "aroha@example.test" in page


def test_a_bad_key_is_401(client, db):
    response = _post(client, MAIL, key="not-a-sendgrid-key")
    assert response.status_code == 401
    assert response.json()["errors"][0]["message"]


def test_a_mail_without_recipients_is_400(client, db):
    response = _post(client, {**MAIL, "personalizations": []})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "personalizations"
