"""Recipients: contacts without a usable phone are skipped with the reason, and listed."""

from messaging.models import Message
from messaging.services import notify
from snapshots.contacts import ContactCard


def _mobile(number, area="", country=""):
    return {"PhoneType": "MOBILE", "PhoneNumber": number, "PhoneAreaCode": area,
            "PhoneCountryCode": country}  # fmt: skip


def test_a_contact_without_a_usable_phone_is_skipped_with_the_reason(
    tenant_a, staff_client, invoice_context
):
    nobody = ContactCard(contact_id="c-none", name="No Phone Ltd",
                         phones=({"PhoneType": "FAX", "PhoneNumber": "09 555 0100"},))  # fmt: skip
    broken = ContactCard(contact_id="c-bad", name="=Bad Number", phones=(_mobile("12"),))
    for card in (nobody, broken):
        key = f"invoice:{card.contact_id}:issued"
        (message,) = notify(tenant=tenant_a, kind="invoice_issued", contact=card,
                            context=invoice_context, dedup_key=key)  # fmt: skip
        assert message.status == Message.Status.SKIPPED
    assert message.status_reason == "The mobile phone number in Xero is not a valid number."
    page = staff_client.get("/messaging/contacts-needing-phone/").content.decode()
    assert "No Phone Ltd" in page
    assert "No mobile or default phone number in Xero." in page
    csv = staff_client.get("/messaging/contacts-needing-phone.csv").content.decode()
    assert "'=Bad Number,c-bad,The mobile phone number in Xero is not a valid number." in csv
