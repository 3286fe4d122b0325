"""Each contact snapshot keeps the number Dunwell texts as E.164, indexed, so a customer's reply
is matched to them by one lookup. Existing rows are filled from the phones they already hold,
read in the country phone_region() names, as new snapshots are (snapshots/fields.py)."""

from django.db import migrations, models

from snapshots.contacts import ContactCard, phone_choose


def phones_fill(apps, schema_editor):
    ContactSnapshot = apps.get_model("snapshots", "ContactSnapshot")
    XeroConnection = apps.get_model("connections", "XeroConnection")
    countries = {
        connection.xero_tenant_id: connection.country_code
        for connection in XeroConnection.objects.all()
    }
    contacts = ContactSnapshot.objects.select_related("tenant").exclude(phones=[])
    for contact in contacts.iterator(chunk_size=1000):
        card = ContactCard(
            contact_id=contact.contact_id,
            name=contact.name,
            phones=tuple(contact.phones),
            country=contact.country,
            country_source=contact.country_source,
            organisation_country=countries.get(contact.xero_tenant_id, ""),
        )
        number = phone_choose(card, default_country=contact.tenant.default_country).e164
        if number:
            ContactSnapshot.objects.filter(pk=contact.pk).update(phone_e164=number)


class Migration(migrations.Migration):
    dependencies = [
        ("connections", "0006_organisation_name_for_customers"),
        ("snapshots", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="contactsnapshot",
            name="phone_e164",
            field=models.CharField(blank=True, max_length=32),
        ),
        migrations.AddIndex(
            model_name="contactsnapshot",
            index=models.Index(fields=["tenant", "phone_e164"], name="contactsnapshot_phone"),
        ),
        migrations.RunPython(phones_fill, migrations.RunPython.noop),
    ]
