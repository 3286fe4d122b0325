"""The send log of a tenant with several Xero organisations: an organisation column and filter,
and an invoice number several organisations have is asked about, never picked silently. With one
organisation, nothing extra is shown."""

import pytest

from billing_events.selectors import contact_card
from messaging.models import Message
from messaging.services import notify, templates_create_defaults
from tests.xero_api import xero_connection_create


def _sent(world, key, **fields) -> Message:
    contact = world.contacts[key]
    values = {
        "kind": "invoice_issued",
        "channel": "sms",
        "dedup_key": f"invoice:{world.invoices[key].invoice_id}:issued",
        "status": "delivered",
        "contact_id": contact.contact_id,
        "contact_name": contact.name,
        "invoice_id": world.invoices[key].invoice_id,
        "xero_tenant_id": contact.xero_tenant_id,
    }
    return Message.objects.create(tenant=world.tenant, **{**values, **fields})


@pytest.fixture
def log(three_org_tenant):
    return {key: _sent(three_org_tenant, key) for key in ("nz", "au", "uk")}


def _names(response) -> list[str]:
    html = response.content.decode()
    return [name for name in ("Aroha Ngata", "Matilda Byrne", "Fiona Campbell") if name in html]


def test_with_several_organisations_the_log_has_an_organisation_column_and_filter(
    staff_client, log, three_org_tenant
):
    page = staff_client.get("/messaging/").content.decode()
    assert '<th scope="col">Organisation</th>' in page
    assert '<td data-label="Organisation">Wattle Catering</td>' in page
    assert 'name="organisation"' in page

    wattle = three_org_tenant.connections["au"].xero_tenant_id
    assert _names(staff_client.get(f"/messaging/?organisation={wattle}")) == ["Matilda Byrne"]


def test_with_one_organisation_the_log_shows_nothing_extra(staff_client, tenant_a):
    xero_connection_create(tenant=tenant_a, name="Kauri Bakery")
    page = staff_client.get("/messaging/").content.decode()
    assert "Organisation" not in page and 'name="organisation"' not in page


def test_an_invoice_number_of_several_organisations_asks_which(staff_client, log):
    asked = staff_client.get("/messaging/?invoice=inv-0001")
    page = asked.content.decode()
    assert "Which inv-0001?" in page
    assert "<table" not in page  # no list until an organisation is chosen
    assert "Kauri Bakery</a> — INV-0001, Aroha Ngata, 410.00 NZD" in page
    assert "Wattle Catering</a> — INV-0001, Matilda Byrne, 275.50 AUD" in page
    assert "Thistle Joinery</a> — INV-0001, Fiona Campbell, 88.00 GBP" in page


def test_answering_which_organisation_lists_that_organisations_invoice_only(
    staff_client, log, three_org_tenant
):
    thistle = three_org_tenant.connections["uk"].xero_tenant_id
    answered = staff_client.get(f"/messaging/?invoice=INV-0001&organisation={thistle}")
    assert "Which INV-0001?" not in answered.content.decode()
    assert _names(answered) == ["Fiona Campbell"]


def test_a_number_only_one_organisation_has_needs_no_answer(staff_client, log, three_org_tenant):
    for key, number in (("au", "INV-0002"), ("uk", "INV-0003")):
        three_org_tenant.invoices[key].number = number
        three_org_tenant.invoices[key].save()
    assert _names(staff_client.get("/messaging/?invoice=INV-0002")) == ["Matilda Byrne"]


def test_another_tenants_organisation_is_not_a_choice(staff_client, log, tenant_b):
    theirs = xero_connection_create(tenant=tenant_b, name="Bravo Bakery").xero_tenant_id
    refused = staff_client.get(f"/messaging/?organisation={theirs}")
    assert "Select a valid choice" in refused.content.decode()
    assert _names(refused) == []


def test_a_notification_keeps_its_contacts_organisation(twilio_a, three_org_tenant, noon):
    templates_create_defaults(tenant=three_org_tenant.tenant)
    [message, *_] = notify(
        tenant=three_org_tenant.tenant,
        kind="invoice_issued",
        contact=contact_card(snapshot=three_org_tenant.contacts["au"]),
        context={"invoice_number": "INV-0001"},
        dedup_key="invoice:au-invoice-0001:issued",
        invoice_id="au-invoice-0001",
    )
    assert message.xero_tenant_id == three_org_tenant.connections["au"].xero_tenant_id


# --- "Which template does an invoice get?" ---------------------------------------------------


def test_which_template_asks_which_organisations_invoice_is_meant(staff_client, three_org_tenant):
    asked = staff_client.get("/messaging/templates/why/?invoice=INV-0001&kind=invoice_issued")
    page = asked.content.decode()
    assert "Which INV-0001?" in page
    assert "Wattle Catering</a> — INV-0001, Matilda Byrne, 275.50 AUD" in page
    assert "Template used" not in page  # no answer picked silently


def test_which_template_answers_for_the_organisation_chosen(staff_client, three_org_tenant):
    wattle = three_org_tenant.connections["au"].xero_tenant_id
    answer = staff_client.get(
        f"/messaging/templates/why/?invoice=INV-0001&kind=invoice_issued&organisation={wattle}",
        headers={"HX-Request": "true"},
    ).content.decode()
    assert "Invoice issued for INV-0001 of Wattle Catering to Matilda Byrne" in answer


def test_which_template_with_one_organisation_neither_asks_nor_names_it(staff_client, tenant_a):
    from billing_events.models import InvoiceSnapshot

    xero_connection_create(tenant=tenant_a, name="Kauri Bakery", xero_tenant_id="org-1")
    InvoiceSnapshot.objects.create(
        tenant=tenant_a, xero_tenant_id="org-1", invoice_id="i-1", type="ACCREC",
        status="AUTHORISED", number="INV-0001", contact_id="c-1",
    )  # fmt: skip
    page = staff_client.get("/messaging/templates/why/?invoice=INV-0001&kind=invoice_issued")
    html = page.content.decode()
    assert "Which INV-0001?" not in html and 'name="organisation"' not in html
    assert "Invoice issued for INV-0001 to (contact not imported)" in html


# --- the inbox ---------------------------------------------------------------------------------


def test_a_text_from_a_contact_is_filed_under_their_organisation(three_org_tenant):
    from messaging.models import InboundMessage
    from messaging.replies import inbound_receive

    inbound_receive(
        tenant=three_org_tenant.tenant, message_sid="SM" + "1" * 32,
        from_address="+64211234567", to_address="+6498880000", body="Can I pay next week?",
    )  # fmt: skip
    assert InboundMessage.objects.get().xero_tenant_ids == [
        three_org_tenant.connections["nz"].xero_tenant_id
    ]


def test_the_inbox_has_an_organisation_column_and_filter(staff_client, three_org_tenant):
    from messaging.models import InboundMessage

    for n, key in enumerate(("nz", "au")):
        InboundMessage.objects.create(
            tenant=three_org_tenant.tenant, message_sid=f"SM{n}", channel="sms",
            from_phone=f"+6421000000{n}", to="+6498880000", body=f"Question {key}",
            intent="other", contact_names=three_org_tenant.contacts[key].name,
            xero_tenant_ids=[three_org_tenant.connections[key].xero_tenant_id],
        )  # fmt: skip
    page = staff_client.get("/messaging/inbox/").content.decode()
    assert '<td data-label="Organisation">Wattle Catering</td>' in page

    wattle = three_org_tenant.connections["au"].xero_tenant_id
    filtered = staff_client.get(f"/messaging/inbox/?organisation={wattle}").content.decode()
    assert "Question au" in filtered and "Question nz" not in filtered


def test_with_one_organisation_the_inbox_shows_nothing_extra(staff_client, tenant_a):
    xero_connection_create(tenant=tenant_a, name="Kauri Bakery")
    page = staff_client.get("/messaging/inbox/").content.decode()
    assert "Organisation" not in page and 'name="organisation"' not in page


# --- "Applies to": groups and options by id, labelled with their organisation ------------------


def test_applies_to_labels_each_group_and_option_with_its_organisation(
    owner_client, three_org_tenant
):
    for url in ("/messaging/templates/new/", "/reminders/"):
        page = owner_client.get(url).content.decode()
        assert '<option value="group:au-corporate">Corporate — Wattle Catering</option>' in page
        assert '<option value="group:uk-retail">Retail — Thistle Joinery</option>' in page
        assert '<option value="tracking:nz-north">Region: North — Kauri Bakery</option>' in page


def test_the_group_chosen_is_the_one_saved_under_its_own_name(owner_client, three_org_tenant):
    from messaging.models import MessageTemplate

    response = owner_client.post(
        "/messaging/templates/new/",
        {"kind": "invoice_issued", "channel": "sms", "body": "Hi {{ first_name }}",
         "applies_to": "group:uk-corporate", "is_active": "on", "content_variables": "{}"},
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()
    template = MessageTemplate.objects.get(contact_group_id="uk-corporate")
    assert template.contact_group_name == "Corporate"


def test_with_one_organisation_groups_are_not_labelled(owner_client, tenant_a):
    from billing_events.models import XeroContactGroup

    xero_connection_create(tenant=tenant_a, name="Kauri Bakery", xero_tenant_id="org-1")
    XeroContactGroup.objects.create(
        tenant=tenant_a, xero_tenant_id="org-1", group_id="g-1", name="Corporate"
    )
    page = owner_client.get("/messaging/templates/new/").content.decode()
    assert '<option value="group:g-1">Corporate</option>' in page


# --- everywhere else a message or a contact is listed ------------------------------------------


def test_a_messages_page_names_its_organisation_and_links_to_its_own_invoice(
    staff_client, log, three_org_tenant
):
    wattle = three_org_tenant.connections["au"].xero_tenant_id
    page = staff_client.get(f"/messaging/{log['au'].pk}/").content.decode()
    assert "<dt>Organisation</dt><dd>Wattle Catering</dd>" in page
    assert f"/messaging/?invoice=INV-0001&amp;organisation={wattle}" in page


def test_contacts_of_one_name_in_several_organisations_are_told_apart(
    staff_client, three_org_tenant
):
    for key in ("au", "uk"):
        contact = three_org_tenant.contacts[key]
        contact.name = "Sam Lee"
        contact.save()
    found = staff_client.get("/messaging/contacts/?q=sam").content.decode()
    assert '<td data-label="Organisation">Wattle Catering</td>' in found
    assert '<td data-label="Organisation">Thistle Joinery</td>' in found
    detail = staff_client.get("/messaging/contacts/uk-contact-1/").content.decode()
    assert "<dt>Organisation</dt><dd>Thistle Joinery</dd>" in detail


def test_the_dashboard_names_the_organisation_of_a_failed_message(staff_client, three_org_tenant):
    _sent(three_org_tenant, "uk", status="failed", error_code="30007")
    page = staff_client.get("/dashboard/").content.decode()
    assert "Fiona Campbell</a> (Thistle Joinery)" in page
