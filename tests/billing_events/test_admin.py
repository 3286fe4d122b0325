"""Operators see the inbox in the admin, filter it, and replay events."""

import pytest

from billing_events.models import XeroEvent
from tests.billing_events.helpers import post_xero_webhook

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/billing_events/xeroevent/"


@pytest.fixture
def stored_events(client):
    post_xero_webhook(client, "invoice_update__unknown_tenant")
    post_xero_webhook(client, "subscription_update")
    return XeroEvent.objects.order_by("pk")


def test_the_event_list_shows_status_and_error_and_filters_by_status_category_and_tenant(
    operator_client, stored_events, tenant_a
):
    response = operator_client.get(CHANGELIST)
    assert response.status_code == 200
    assert b"No active connection for this tenantId." in response.content
    for query in (
        "?status__exact=ignored",
        "?event_category=INVOICE",
        f"?tenant__id__exact={tenant_a.pk}",
    ):
        assert operator_client.get(CHANGELIST + query).status_code == 200
    filtered = operator_client.get(CHANGELIST + "?event_category=SUBSCRIPTION")
    assert b"0e3b8b52-8f3a-4b7e-9a6d-6f1c2b3a4d5e" in filtered.content
    assert b"d4956132-ed94-4dd7-9eaa-aa22dfdf06f2" not in filtered.content


def test_replay_puts_selected_events_back_in_the_inbox(operator_client, stored_events):
    event = stored_events.first()
    response = operator_client.post(
        CHANGELIST,
        {"action": "replay", "_selected_action": [event.pk]},
        follow=True,
    )
    assert b"1 event(s) put back in the inbox" in response.content
    event.refresh_from_db()
    assert (event.status, event.attempts, event.last_error) == ("pending", 0, "")
    assert stored_events.last().status == "ignored"


def test_the_delivery_page_shows_the_body_as_received(operator_client, stored_events):
    delivery = stored_events.first().delivery
    response = operator_client.get(f"/admin/billing_events/xerodelivery/{delivery.pk}/change/")
    assert response.status_code == 200
    assert b"UNKNOWNTENANTENTROPY" in response.content


@pytest.mark.parametrize(
    "model",
    [
        "organisationsync",
        "xerodelivery",
    ],
)
def test_every_billing_events_admin_page_lists(operator_client, model):
    assert operator_client.get(f"/admin/billing_events/{model}/").status_code == 200


def test_events_cannot_be_edited_or_deleted_and_replay_stays(operator_client, stored_events):
    event = stored_events.first()
    url = f"{CHANGELIST}{event.pk}/"
    assert operator_client.post(f"{url}change/", {"status": "processed"}).status_code == 403
    assert operator_client.post(f"{url}delete/", {"post": "yes"}).status_code == 403
    delivery = f"/admin/billing_events/xerodelivery/{event.delivery_id}/delete/"
    assert operator_client.post(delivery, {"post": "yes"}).status_code == 403
    listing = operator_client.get(CHANGELIST)
    assert b'value="replay"' in listing.content
    assert b'value="delete_selected"' not in listing.content
    event.refresh_from_db()
    assert event.status == "ignored"
