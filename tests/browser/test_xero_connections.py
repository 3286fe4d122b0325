"""The Xero connections page in a real browser: disconnecting an organisation asks first."""

import pytest
import responses
from django.conf import settings

from connections.models import XeroConnection
from tests.xero_api import xero_connection_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def organisation(tenant_a):
    return xero_connection_create(tenant=tenant_a)


@pytest.fixture
def xero(organisation):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.delete(f"{settings.XERO_API_URL}/connections/{organisation.connection_id}", status=204)
        yield mock


def _disconnect(page, *, answer: bool) -> list[str]:
    questions = []

    def reply(dialog):
        questions.append(dialog.message)
        dialog.accept() if answer else dialog.dismiss()

    page.once("dialog", reply)
    page.goto("/connections/")
    page.get_by_role("button", name="Disconnect Alpha Plumbing (NZ)").click()
    return questions


def test_disconnecting_asks_first_and_cancelling_keeps_the_organisation(
    logged_in_page, organisation, xero
):
    questions = _disconnect(logged_in_page, answer=False)

    assert questions == [
        "Disconnect Alpha Plumbing (NZ)? Dunwell stops seeing its invoices and sends no more "
        "messages about them until you connect it again."
    ]
    logged_in_page.wait_for_timeout(500)  # time for a request, had one been made
    assert len(xero.calls) == 0
    organisation.refresh_from_db()
    assert organisation.status != XeroConnection.Status.DISCONNECTED


def test_confirming_disconnects_the_organisation(logged_in_page, organisation, xero, screenshot):
    _disconnect(logged_in_page, answer=True)

    logged_in_page.get_by_text("Disconnected Alpha Plumbing (NZ) from Dunwell.").wait_for()
    assert logged_in_page.get_by_text("No Xero organisation is connected yet").is_visible()
    organisation.refresh_from_db()
    assert organisation.status == XeroConnection.Status.DISCONNECTED
    screenshot("xero-connections-disconnected")
