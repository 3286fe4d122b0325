"""The Contacts pages: staff choose one contact's channels and language; owners choose the
defaults. Tenant isolation and CSRF for these URLs are walked by tests/security and
tests/connections/test_tenant_isolation.py through tests/tenant_urls.py."""

import pytest

from connections.models import MessagingSettings
from messaging.models import ContactPreference, Message, MessageTemplate
from snapshots.models import ContactSnapshot
from tests.a11y import assert_accessible

AROHA_ID = "c0a1e4b2-0000-4000-8000-000000000001"
PAGE = f"/customers/{AROHA_ID}/"  # the customer page took over the contact page


@pytest.fixture
def aroha_in_xero(tenant_a):
    return ContactSnapshot.objects.create(
        tenant=tenant_a, xero_tenant_id="xt-alpha", contact_id=AROHA_ID, name="Aroha Ngata",
        email="aroha@example.test",
        phones=[{"PhoneType": "MOBILE", "PhoneNumber": "021 123 4567"}],
    )  # fmt: skip


@pytest.fixture
def maori_template(tenant_a):
    return MessageTemplate.objects.create(
        tenant=tenant_a, kind="invoice_issued", channel="sms", language="mi",
        body="Kia ora {{ first_name }}",
    )  # fmt: skip


def test_staff_choose_a_contacts_channels_and_language(
    staff_client, staff_a, aroha_in_xero, maori_template
):
    page = staff_client.get(PAGE).text
    assert "<h1>Aroha Ngata</h1>" in page
    assert "+64211234567" in page and "aroha@example.test" in page
    assert "Now: SMS, WhatsApp, Email (your defaults)" in page
    assert '<option value="mi">Māori</option>' in page
    assert_accessible(page)

    response = staff_client.post(PAGE, {"channels": ["email"], "language": "mi"}, follow=True)
    assert "Saved how Aroha Ngata is reached." in response.text
    assert "Now: Email, in Māori" in response.text
    preference = ContactPreference.objects.get(contact_id=AROHA_ID)
    assert (preference.channels, preference.language, preference.updated_by) == (
        ["email"], "mi", staff_a,
    )  # fmt: skip

    staff_client.post(PAGE, {"language": ""})  # nothing ticked: back to the defaults
    preference.refresh_from_db()
    assert (preference.channels, preference.language) == ([], "")


def test_the_language_is_offered_only_when_templates_exist_in_two(staff_client, aroha_in_xero):
    page = staff_client.get(PAGE).text
    assert 'name="language"' not in page
    ContactPreference.objects.create(tenant=aroha_in_xero.tenant, contact_id=AROHA_ID,
                                     language="fr")  # fmt: skip
    staff_client.post(PAGE, {"channels": ["sms"]})
    assert ContactPreference.objects.get(contact_id=AROHA_ID).language == "fr"  # kept


def test_a_language_the_tenant_has_no_template_in_is_refused(
    staff_client, aroha_in_xero, maori_template
):
    response = staff_client.post(PAGE, {"channels": ["sms"], "language": "fr"})
    assert "Select a valid choice" in response.text
    assert not ContactPreference.objects.exists()
    assert_accessible(response.text)


def test_a_contact_known_only_from_the_send_log_has_a_page_linked_from_it(staff_client, tenant_a):
    Message.objects.create(
        tenant=tenant_a, kind="invoice_issued", channel="sms", dedup_key="k", status="skipped",
        contact_id=AROHA_ID, contact_name="Aroha Ngata", error_code="no_phone",
    )  # fmt: skip
    assert f'href="{PAGE}"' in staff_client.get("/messaging/").text
    assert f'href="{PAGE}"' in staff_client.get("/messaging/contacts-needing-phone/").text
    page = staff_client.get(PAGE).text
    assert "Not imported from Xero yet" in page and "Invoice issued" in page


def test_the_old_contact_address_leads_to_the_customer_page(staff_client, aroha_in_xero):
    response = staff_client.get(f"/messaging/contacts/{AROHA_ID}/")
    assert (response.status_code, response["Location"]) == (301, PAGE)


def test_a_contact_the_tenant_never_saw_is_404(staff_client, tenant_a):
    assert staff_client.get("/customers/no-such-contact/").status_code == 404
    assert staff_client.post("/customers/no-such-contact/").status_code == 404
    assert not ContactPreference.objects.exists()


def test_the_contacts_page_finds_xero_contacts_and_lists_own_choices(
    staff_client, aroha_in_xero, tenant_b
):
    ContactSnapshot.objects.create(tenant=tenant_b, xero_tenant_id="xt-bravo", contact_id="b-1",
                                   name="Aroha Bravo")  # fmt: skip
    page = staff_client.get("/messaging/contacts/?q=aroha").text
    assert f'href="{PAGE}">Aroha Ngata</a>' in page
    assert "Aroha Bravo" not in page
    assert "None yet: every contact gets your defaults." in page
    assert_accessible(page)
    ContactPreference.objects.create(
        tenant=aroha_in_xero.tenant, contact_id=AROHA_ID, contact_name="Aroha Ngata",
        channels=["sms", "email"],
    )  # fmt: skip
    ContactPreference.objects.create(  # set once, then put back to the defaults
        tenant=aroha_in_xero.tenant, contact_id="c-reset", contact_name="Rewi Reset"
    )
    page = staff_client.get("/messaging/contacts/").text
    assert "SMS, Email" in page and "None yet" not in page
    assert "Rewi Reset" not in page
    assert "No contact imported" in staff_client.get("/messaging/contacts/?q=zzz").text


def test_owners_choose_the_default_channels_and_language(owner_client, tenant_a, maori_template):
    settings_page = owner_client.get("/messaging/settings/").text
    assert "By default customers get SMS, WhatsApp, Email" in settings_page
    page = owner_client.get("/messaging/settings/channels/").text
    assert_accessible(page)
    refused = owner_client.post("/messaging/settings/channels/", {"default_language": "mi"})
    assert "Choose at least one channel." in refused.text
    assert_accessible(refused.text)
    owner_client.post(
        "/messaging/settings/channels/", {"default_channels": ["sms"], "default_language": "mi"}
    )
    row = MessagingSettings.objects.get(tenant=tenant_a)
    assert (row.default_channels, row.default_language) == (["sms"], "mi")
    assert "By default customers get SMS" in owner_client.get("/messaging/settings/").text


def test_staff_cannot_change_the_defaults(staff_client):
    assert staff_client.get("/messaging/settings/channels/").status_code == 403
    response = staff_client.post("/messaging/settings/channels/", {"default_channels": ["email"]})
    assert response.status_code == 403
    assert not MessagingSettings.objects.exists()


def test_the_log_links_a_fallback_email_and_the_text_it_stands_in_for(staff_client, tenant_a):
    text = Message.objects.create(tenant=tenant_a, kind="invoice_issued", channel="sms",
                                  dedup_key="k", status="undelivered")  # fmt: skip
    email = Message.objects.create(
        tenant=tenant_a, kind="invoice_issued", channel="email", dedup_key="k:fallback",
        status="sent", fallback_of=text,
    )  # fmt: skip
    assert f'href="/messaging/{email.pk}/">message {email.pk}</a> (sent)' in (
        staff_client.get(f"/messaging/{text.pk}/").text
    )
    page = staff_client.get(f"/messaging/{email.pk}/").text
    assert f'href="/messaging/{text.pk}/">message {text.pk}</a>, which was not delivered' in page
    assert_accessible(page)


def test_operators_see_preferences_in_the_admin(admin_client, aroha_in_xero):
    ContactPreference.objects.create(
        tenant=aroha_in_xero.tenant, contact_id=AROHA_ID, contact_name="Aroha Ngata",
        channels=["email"], language="mi",
    )  # fmt: skip
    page = admin_client.get("/admin/messaging/contactpreference/")
    assert page.status_code == 200 and "Aroha Ngata" in page.text
