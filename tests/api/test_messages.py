"""GET messages/ (filters, cursor pages), GET messages/{id}/ (with history), POST …/resend/."""

from datetime import UTC, datetime

import pytest

from messaging.models import Message
from snapshots.models import InvoiceSnapshot
from tests.api.conftest import message_create


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [m["id"] for m in response.json()["results"]]


@pytest.fixture
def log(tenant_a, tenant_b):
    """A small send log for A, and one message of B that must never show."""
    at = datetime(2026, 7, 1, tzinfo=UTC)
    InvoiceSnapshot.objects.create(
        tenant=tenant_a, xero_tenant_id="org-a", invoice_id="inv-142", type="ACCREC",
        status="AUTHORISED", number="INV-0142",
    )  # fmt: skip
    return {
        "issued": message_create(tenant_a, invoice_id="inv-142", created_at=at),
        "failed": message_create(
            tenant_a,
            kind="reminder",
            status="failed",
            channel="whatsapp",
            created_at=at.replace(day=3),
            contact_id="c-2",
        ),  # fmt: skip
        "email": message_create(
            tenant_a,
            kind="payment_received",
            channel="email",
            invoice_id="inv-142",
            recipient="aroha@example.test",
            created_at=at.replace(day=5),
        ),  # fmt: skip
        "other": message_create(tenant_b, invoice_id="inv-142", created_at=at),
    }


def test_the_list_is_the_tenants_send_log_newest_first(api, log):
    assert _ids(api.get("/api/v1/messages/")) == [log[k].pk for k in ("email", "failed", "issued")]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=failed", ["failed"]),
        ("kind=payment_received", ["email"]),
        ("channel=whatsapp", ["failed"]),
        ("contact_id=c-2", ["failed"]),
        ("invoice_number=INV-0142", ["email", "issued"]),
        ("invoice_number=INV-9999", []),
        ("created_after=2026-07-02T00:00:00Z", ["email", "failed"]),
        ("created_before=2026-07-03T00:00:00Z", ["issued"]),
        ("created_after=2026-07-02T00:00:00Z&created_before=2026-07-04T00:00:00Z", ["failed"]),
    ],
)
def test_the_list_filters(api, log, query, expected):
    assert _ids(api.get(f"/api/v1/messages/?{query}")) == [log[k].pk for k in expected]


def test_cursor_pages_walk_the_whole_log_without_repeats(api, tenant_a):
    made = [message_create(tenant_a).pk for _ in range(7)]
    seen, url = [], "/api/v1/messages/?page_size=3"
    while url:
        page = api.get(url).json()
        seen += [m["id"] for m in page["results"]]
        url = page["next"]
    assert seen == sorted(made, reverse=True)


def test_a_message_shows_its_status_history_and_resends(api, failed_message):
    resend = message_create(failed_message.tenant, resend_of=failed_message, status="pending")
    body = api.get(f"/api/v1/messages/{failed_message.pk}/").json()
    assert body["status"] == "failed" and body["can_resend"] is False  # resent already
    assert [(c["from_status"], c["to_status"]) for c in body["status_history"]] == [
        ("", "pending"),
        ("pending", "failed"),
    ]
    assert body["resends"] == [resend.pk]
    assert "callback_token" not in body


def test_resending_a_failed_message_makes_one_new_linked_message(
    api, failed_message, django_capture_on_commit_callbacks, daytime
):
    with django_capture_on_commit_callbacks():  # the dispatch kick is not run: no Twilio here
        first = api.post(f"/api/v1/messages/{failed_message.pk}/resend/")
        second = api.post(f"/api/v1/messages/{failed_message.pk}/resend/")  # a double click
    assert (first.status_code, second.status_code) == (201, 409)
    again = Message.objects.get(resend_of=failed_message)
    assert first.json()["id"] == again.pk
    assert second.json()["error"]["code"] == "already_resent"
    assert f"Already resent as message #{again.pk}" in second.json()["error"]["message"]
    assert first.json()["resend_of"] == failed_message.pk
    assert (again.status, again.body) == ("pending", "Pay please")
    assert "Resent by staff@alpha.test" in again.status_changes.first().note


def test_a_delivered_message_cannot_be_resent(api, tenant_a):
    delivered = message_create(tenant_a, status="delivered")
    response = api.post(f"/api/v1/messages/{delivered.pk}/resend/")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_resendable"
    assert not Message.objects.filter(resend_of=delivered).exists()


def test_another_tenants_message_is_not_found(api, log):
    other = log["other"]
    assert api.get(f"/api/v1/messages/{other.pk}/").status_code == 404
    assert api.post(f"/api/v1/messages/{other.pk}/resend/").status_code == 404
    assert other.pk not in _ids(api.get("/api/v1/messages/?invoice_number=INV-0142"))


def test_a_fallback_email_names_the_text_it_was_sent_instead_of(api, failed_message):
    email = message_create(failed_message.tenant, channel="email", fallback_of=failed_message)
    assert api.get(f"/api/v1/messages/{email.pk}/").json()["fallback_of"] == failed_message.pk
    assert api.get(f"/api/v1/messages/{failed_message.pk}/").json()["fallback_of"] is None
