"""End to end: customers are told about their invoices by SMS and WhatsApp through a stand-in
Twilio whose carriers filter everything from the SMS sender (30007). The messages go through
notify → dispatch → Twilio → signed status callbacks, the scheduled check runs a few times, and
the owner gets exactly the alerts that apply: the SMS sender and the failure share, once each."""

import json
from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import parse_qsl

import pytest
import responses
from django.conf import settings
from django.core import mail
from twilio.request_validator import RequestValidator

from alerts.models import Alert
from messaging.models import Message, MessageTemplate
from messaging.services import notify
from snapshots.contacts import ContactCard
from tests.alerts.conftest import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    FROM_NUMBER,
    emails_to,
    every_five_minutes,
    twilio_settings,
)

MESSAGES_URL = f"{settings.TWILIO_API_URL}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"


class StandInTwilio:
    """Accepts every message (201 queued, FACTS.md "Send"), then reports each one's fate in a
    signed status callback: undelivered with 30007 from `failing_sender`, delivered otherwise."""

    def __init__(self, mock: responses.RequestsMock, *, failing_sender: str):
        self.failing_sender = failing_sender
        self.accepted: list[dict] = []
        mock.add_callback(responses.POST, MESSAGES_URL, callback=self._create)

    def _create(self, request):
        form = dict(parse_qsl(request.body))
        sid = f"SM{len(self.accepted):032x}"
        self.accepted.append({**form, "Sid": sid})
        body = {"sid": sid, "status": "queued", "to": form["To"], "from": form.get("From")}
        return 201, {}, json.dumps(body)

    def deliver(self, client) -> None:
        for sent in self.accepted:
            failing = sent["From"] == self.failing_sender
            params = {
                "MessageSid": sent["Sid"], "SmsSid": sent["Sid"], "AccountSid": ACCOUNT_SID,
                "From": sent["From"], "To": sent["To"], "ApiVersion": "2010-04-01",
                "MessageStatus": "undelivered" if failing else "delivered",
                "SmsStatus": "undelivered" if failing else "delivered",
            }  # fmt: skip
            if failing:
                params["ErrorCode"] = "30007"
            url = sent["StatusCallback"]
            signature = RequestValidator(AUTH_TOKEN).compute_signature(url, params)
            path = url.removeprefix(settings.PUBLIC_BASE_URL)
            response = client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signature)
            assert response.status_code == 200


@pytest.fixture
def customers() -> list[ContactCard]:
    return [
        ContactCard(
            contact_id=f"contact-{n}", name=f"Customer {n}",
            phones=({"PhoneType": "MOBILE", "PhoneNumber": f"+6421555010{n}"},),
        )
        for n in range(6)
    ]  # fmt: skip


@pytest.fixture
def tenant_with_two_senders(tenant_a):
    twilio_settings(tenant_a)
    MessageTemplate.objects.create(
        tenant=tenant_a, kind="invoice_issued", channel="whatsapp",
        content_sid="HX" + "0" * 32, content_variables={"1": "{{ invoice_number }}"},
    )  # fmt: skip
    return tenant_a


def test_a_sender_the_carriers_filter_brings_the_owner_exactly_the_alerts_that_apply(
    client, check, noon, tenant_with_two_senders, tenant_b, customers,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    noon.shift(timedelta(minutes=1))  # the messaging settings were saved before the sends
    with responses.RequestsMock() as mock:
        twilio = StandInTwilio(mock, failing_sender=FROM_NUMBER)
        for n, customer in enumerate(customers):
            with django_capture_on_commit_callbacks(execute=True):
                notify(
                    tenant=tenant_with_two_senders,
                    kind="invoice_issued",
                    contact=customer,
                    context={"invoice_number": f"INV-00{n}", "amount_due": Decimal("120.00"),
                             "currency": "NZD", "due_date": date(2026, 7, 21),
                             "organisation_name": "Alpha Plumbing",
                             "online_invoice_url": f"https://in.xero.com/inv{n}"},
                    dedup_key=f"invoice:{n}:issued",
                )  # fmt: skip
    assert {sent["From"] for sent in twilio.accepted} == {FROM_NUMBER, "whatsapp:+6498880001"}
    assert len(twilio.accepted) == 12
    noon.shift(timedelta(minutes=2))
    twilio.deliver(client)
    statuses = set(Message.objects.values_list("channel", "status", "error_code"))
    assert statuses == {("sms", "undelivered", "30007"), ("whatsapp", "delivered", "")}

    every_five_minutes(noon, check, minutes=30)

    alerts = sorted(Alert.objects.values_list("tenant", "kind", "subject", "resolved_at"))
    assert alerts == [
        (tenant_with_two_senders.pk, "failure_rate", "", None),
        (tenant_with_two_senders.pk, "twilio_sender", FROM_NUMBER, None),
    ]
    assert sorted(email.subject for email in emails_to("owner@alpha.test")) == [
        "[Dunwell] Alpha Plumbing: Many messages are failing",
        f"[Dunwell] Alpha Plumbing: Twilio refuses messages from {FROM_NUMBER}",
    ]
    assert len(mail.outbox) == 2  # and nothing for tenant B's owner
    sender = next(e for e in mail.outbox if FROM_NUMBER in e.subject)
    assert "filtered 6 messages from +6498880000 in the last hour" in sender.body
