"""Pages of a tenant with several Xero organisations (tests/orgs.py: INV-0001 and the groups
"Corporate" and "Retail" in each of three): the send log, the inbox and the other lists name the
organisation and filter by it; an invoice number several organisations have is asked about,
never picked silently; "Applies to" labels each group and option with its organisation. With one
organisation, nothing extra is shown."""

import pytest

from billing_events.replies import inbound_receive
from messaging.models import InboundMessage, Message, MessageTemplate
from messaging.services import notify
from snapshots.models import ContactSnapshot, XeroContactGroup, XeroTrackingOption
from snapshots.selectors import contact_card
from tests.xero_api import xero_connection_create

NAMES = ("Moana Tane", "Grace Lee", "Oliver Hughes")  # the customers of nz, au and uk


@pytest.fixture
def three(three_org_tenant):
    return three_org_tenant


@pytest.fixture
def org_client(client, three):
    client.force_login(three.owner)
    return client


def _sent(three, org, **fields) -> Message:
    values = {
        "kind": "invoice_issued",
        "channel": "sms",
        "dedup_key": f"invoice:{org.invoice_id}:issued",
        "status": "delivered",
        "contact_id": org.contact_id,
        "contact_name": org.contact_name,
        "invoice_id": org.invoice_id,
        "xero_tenant_id": org.xero_tenant_id,
    }
    return Message.objects.create(tenant=three.tenant, **{**values, **fields})


@pytest.fixture
def log(three):
    return {key: _sent(three, getattr(three, key)) for key in ("nz", "au", "uk")}


def _names(response) -> list[str]:
    html = response.content.decode()
    return [name for name in NAMES if name in html]


def _one_organisation_client(client, tenant_a, owner_a):
    xero_connection_create(tenant=tenant_a, name="Kauri Bakery", xero_tenant_id="org-1")
    client.force_login(owner_a)
    return client


# --- the send log ------------------------------------------------------------------------------


def test_with_several_organisations_the_log_has_an_organisation_column_and_filter(
    org_client, log, three
):
    page = org_client.get("/messaging/").content.decode()
    assert '<th scope="col">Organisation</th>' in page
    assert '<td data-label="Organisation">Banksia Catering Pty Ltd</td>' in page
    assert 'name="organisation"' in page

    filtered = org_client.get(f"/messaging/?organisation={three.au.xero_tenant_id}")
    assert _names(filtered) == ["Grace Lee"]


def test_with_one_organisation_the_log_shows_nothing_extra(client, tenant_a, owner_a):
    page = _one_organisation_client(client, tenant_a, owner_a).get("/messaging/")
    html = page.content.decode()
    assert "Organisation" not in html and 'name="organisation"' not in html


def test_an_invoice_number_of_several_organisations_asks_which(org_client, log):
    page = org_client.get("/messaging/?invoice=inv-0001").content.decode()
    assert "Which inv-0001?" in page
    assert "<table" not in page  # no list until an organisation is chosen
    assert "Harakeke Foods Ltd</a> — INV-0001, Moana Tane, 410.00 NZD" in page
    assert "Banksia Catering Pty Ltd</a> — INV-0001, Grace Lee, 410.00 AUD" in page
    assert "Bramble &amp; Co Ltd</a> — INV-0001, Oliver Hughes, 410.00 GBP" in page


def test_answering_which_organisation_lists_that_organisations_invoice_only(org_client, log, three):
    answered = org_client.get(
        f"/messaging/?invoice=INV-0001&organisation={three.uk.xero_tenant_id}"
    )
    assert "Which INV-0001?" not in answered.content.decode()
    assert _names(answered) == ["Oliver Hughes"]


def test_a_number_only_one_organisation_has_needs_no_answer(org_client, log, three):
    _sent(three, three.au, dedup_key="invoice:nzd:issued", invoice_id=three.au_nzd_invoice_id)
    assert _names(org_client.get("/messaging/?invoice=INV-0002")) == ["Grace Lee"]


def test_another_tenants_organisation_is_not_a_choice(org_client, log, tenant_b):
    theirs = xero_connection_create(tenant=tenant_b, name="Bravo Bakery").xero_tenant_id
    refused = org_client.get(f"/messaging/?organisation={theirs}")
    assert "Select a valid choice" in refused.content.decode()
    assert _names(refused) == []


def test_a_notification_keeps_its_contacts_organisation(three):
    snapshot = ContactSnapshot.objects.get(contact_id=three.au.contact_id)
    [message, *_] = notify(
        tenant=three.tenant,
        kind="invoice_issued",
        contact=contact_card(snapshot=snapshot),
        context={"invoice_number": "INV-0001"},
        dedup_key=f"invoice:{three.au.invoice_id}:issued",
        invoice_id=three.au.invoice_id,
    )
    assert message.xero_tenant_id == three.au.xero_tenant_id


# --- "Which template does an invoice get?" ---------------------------------------------------


def test_which_template_asks_which_organisations_invoice_is_meant(org_client, three):
    page = org_client.get("/messaging/templates/why/?invoice=INV-0001&kind=invoice_issued")
    html = page.content.decode()
    assert "Which INV-0001?" in html
    assert "Banksia Catering Pty Ltd</a> — INV-0001, Grace Lee, 410.00 AUD" in html
    assert "Template used" not in html  # no answer picked silently


def test_which_template_answers_for_the_organisation_chosen(org_client, three):
    answer = org_client.get(
        "/messaging/templates/why/?invoice=INV-0001&kind=invoice_issued"
        f"&organisation={three.au.xero_tenant_id}",
        headers={"HX-Request": "true"},
    ).content.decode()
    assert "Invoice issued for INV-0001 of Banksia Catering Pty Ltd to Grace Lee" in answer


def test_which_template_with_one_organisation_neither_asks_nor_names_it(client, tenant_a, owner_a):
    from snapshots.models import InvoiceSnapshot

    one = _one_organisation_client(client, tenant_a, owner_a)
    InvoiceSnapshot.objects.create(
        tenant=tenant_a, xero_tenant_id="org-1", invoice_id="i-1", type="ACCREC",
        status="AUTHORISED", number="INV-0001", contact_id="c-1",
    )  # fmt: skip
    html = one.get("/messaging/templates/why/?invoice=INV-0001&kind=invoice_issued")
    html = html.content.decode()
    assert "Which INV-0001?" not in html and 'name="organisation"' not in html
    assert "Invoice issued for INV-0001 to (contact not imported)" in html


# --- the inbox ---------------------------------------------------------------------------------


def test_a_text_from_a_contact_is_filed_under_their_organisation(three):
    inbound_receive(
        tenant=three.tenant, message_sid="SM" + "1" * 32, from_address=three.nz.e164,
        to_address="+6498880003", body="Can I pay next week?",
    )  # fmt: skip
    assert InboundMessage.objects.get().xero_tenant_ids == [three.nz.xero_tenant_id]


def test_the_inbox_has_an_organisation_column_and_filter(org_client, three):
    for n, key in enumerate(("nz", "au")):
        org = getattr(three, key)
        InboundMessage.objects.create(
            tenant=three.tenant, message_sid=f"SM{n}", channel="sms", from_phone=org.e164,
            to="+6498880003", body=f"Question {key}", intent="other",
            contact_names=org.contact_name, xero_tenant_ids=[org.xero_tenant_id],
        )  # fmt: skip
    page = org_client.get("/messaging/inbox/").content.decode()
    assert '<td data-label="Organisation">Banksia Catering Pty Ltd</td>' in page

    filtered = org_client.get(f"/messaging/inbox/?organisation={three.au.xero_tenant_id}")
    assert "Question au" in filtered.content.decode()
    assert "Question nz" not in filtered.content.decode()


def test_with_one_organisation_the_inbox_shows_nothing_extra(client, tenant_a, owner_a):
    page = _one_organisation_client(client, tenant_a, owner_a).get("/messaging/inbox/")
    html = page.content.decode()
    assert "Organisation" not in html and 'name="organisation"' not in html


# --- "Applies to": groups and options by id, labelled with their organisation ------------------


def test_applies_to_labels_each_group_and_option_with_its_organisation(org_client, three):
    XeroTrackingOption.objects.create(
        tenant=three.tenant, xero_tenant_id=three.nz.xero_tenant_id, category_id="region",
        category_name="Region", option_id="north", option_name="North",
    )  # fmt: skip
    au_corporate, uk_retail = three.au.groups["Corporate"], three.uk.groups["Retail"]
    # A template, and a step of the reminder schedule builder.
    for url in ("/messaging/templates/new/", "/reminders/steps/new/"):
        page = org_client.get(url).content.decode()
        assert (
            f'<option value="group:{au_corporate}">Corporate — Banksia Catering Pty Ltd</option>'
            in page
        )
        assert f'<option value="group:{uk_retail}">Retail — Bramble &amp; Co Ltd</option>' in page
        assert '<option value="tracking:north">Region: North — Harakeke Foods Ltd</option>' in page


def test_the_group_chosen_is_the_one_saved_under_its_own_name(org_client, three):
    uk_corporate = three.uk.groups["Corporate"]
    response = org_client.post(
        "/messaging/templates/new/",
        {"kind": "invoice_issued", "channel": "sms", "body": "Hi {{ first_name }}",
         "applies_to": f"group:{uk_corporate}", "is_active": "on", "content_variables": "{}"},
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()
    template = MessageTemplate.objects.get(contact_group_id=uk_corporate)
    assert template.contact_group_name == "Corporate"


def test_with_one_organisation_groups_are_not_labelled(client, tenant_a, owner_a):
    one = _one_organisation_client(client, tenant_a, owner_a)
    XeroContactGroup.objects.create(
        tenant=tenant_a, xero_tenant_id="org-1", group_id="g-1", name="Corporate"
    )
    page = one.get("/messaging/templates/new/").content.decode()
    assert '<option value="group:g-1">Corporate</option>' in page


# --- everywhere else a message or a contact is listed ------------------------------------------


def test_a_messages_page_names_its_organisation_and_links_to_its_own_invoice(
    org_client, log, three
):
    page = org_client.get(f"/messaging/{log['au'].pk}/").content.decode()
    assert "<dt>Organisation</dt><dd>Banksia Catering Pty Ltd</dd>" in page
    assert f"/messaging/?invoice=INV-0001&amp;organisation={three.au.xero_tenant_id}" in page


def test_contacts_of_one_name_in_several_organisations_are_told_apart(org_client, three):
    ContactSnapshot.objects.filter(
        contact_id__in=[three.au.contact_id, three.uk.contact_id]
    ).update(name="Sam Lee")
    found = org_client.get("/messaging/contacts/?q=sam").content.decode()
    assert '<td data-label="Organisation">Banksia Catering Pty Ltd</td>' in found
    assert '<td data-label="Organisation">Bramble &amp; Co Ltd</td>' in found
    detail = org_client.get(
        f"/messaging/contacts/{three.uk.contact_id}/", follow=True
    ).content.decode()
    assert "<dt>Organisation</dt><dd>Bramble &amp; Co Ltd</dd>" in detail


def test_the_dashboard_names_the_organisation_of_a_failed_message(org_client, three):
    _sent(three, three.uk, status="failed", error_code="30007")
    page = org_client.get("/dashboard/").content.decode()
    assert "Oliver Hughes</a> (Bramble &amp; Co Ltd)" in page
