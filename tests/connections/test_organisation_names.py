"""Owners set the name customers see and the reply signature of each organisation."""

import pytest

from tests.xero_api import xero_connection_create

pytestmark = pytest.mark.django_db


def _names_url(connection) -> str:
    return f"/connections/{connection.pk}/names/"


def test_an_owner_sets_the_name_customers_see_and_the_signature(owner_client, tenant_a):
    connection = xero_connection_create(tenant=tenant_a, name="Kauri Bakery Ltd")
    page = owner_client.get("/connections/").content.decode()
    assert "Customers see “Kauri Bakery Ltd”" in page  # Xero's name until one is set

    response = owner_client.post(
        _names_url(connection),
        {"customer_name": " Kauri Bakery ", "reply_signature": "Kauri accounts, 09 555 0100"},
    )

    assert response.status_code == 302
    connection.refresh_from_db()
    assert (connection.name_for_customers, connection.signature_for_customers) == (
        "Kauri Bakery",
        "Kauri accounts, 09 555 0100",
    )
    assert "Customers see “Kauri Bakery”" in owner_client.get("/connections/").content.decode()


def test_a_blank_name_goes_back_to_the_name_in_xero(owner_client, tenant_a):
    connection = xero_connection_create(tenant=tenant_a, name="Kauri Bakery Ltd")
    connection.customer_name = "Kauri"
    connection.save()

    owner_client.post(_names_url(connection), {"customer_name": "", "reply_signature": ""})

    connection.refresh_from_db()
    assert connection.name_for_customers == connection.signature_for_customers == "Kauri Bakery Ltd"


def test_an_overlong_name_is_refused_with_the_form_shown_again(owner_client, tenant_a):
    connection = xero_connection_create(tenant=tenant_a, name="Kauri Bakery Ltd")

    response = owner_client.post(_names_url(connection), {"customer_name": "K" * 201})

    assert response.status_code == 400
    assert "at most 200 characters" in response.content.decode()
    connection.refresh_from_db()
    assert connection.customer_name == ""


def test_staff_cannot_change_what_customers_see(staff_client, tenant_a):
    connection = xero_connection_create(tenant=tenant_a, name="Kauri Bakery Ltd")

    response = staff_client.post(_names_url(connection), {"customer_name": "Hacked"})

    assert response.status_code == 403
    connection.refresh_from_db()
    assert connection.customer_name == ""


def test_another_tenants_organisation_is_not_found(owner_client, tenant_b):
    theirs = xero_connection_create(tenant=tenant_b, name="Bravo Bakery Ltd")

    response = owner_client.post(_names_url(theirs), {"customer_name": "Mine now"})

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.customer_name == ""
