"""Each contact snapshot keeps the number Dunwell texts as E.164, indexed, so a customer's reply
is matched to them by one lookup. Existing rows are filled from the phones they already hold,
read in their organisation's country as new snapshots are (snapshots/fields.py)."""

from django.db import migrations, models

from snapshots.contacts import phone_e164


def phones_fill(apps, schema_editor):
    ContactSnapshot = apps.get_model("snapshots", "ContactSnapshot")
    XeroConnection = apps.get_model("connections", "XeroConnection")
    countries = {
        connection.xero_tenant_id: connection.country_code
        for connection in XeroConnection.objects.all()
    }
    contacts = ContactSnapshot.objects.select_related("tenant").exclude(phones=[])
    for contact in contacts.iterator(chunk_size=1000):
        country = countries.get(contact.xero_tenant_id) or contact.tenant.default_country
        number = phone_e164(contact.phones, default_country=country)
        if number:
            ContactSnapshot.objects.filter(pk=contact.pk).update(phone_e164=number)


class Migration(migrations.Migration):
    dependencies = [
        ("connections", "0005_messaging_channel_defaults"),
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
