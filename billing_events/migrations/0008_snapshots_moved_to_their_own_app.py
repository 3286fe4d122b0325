from django.db import migrations


class Migration(migrations.Migration):
    """The snapshot, contact group and tracking option models now belong to the snapshots app
    (snapshots 0001 takes them over). Only Django's picture of them is removed here: the tables,
    their rows and their indexes stay where they are, under the same names."""

    dependencies = [
        ('billing_events', '0007_inbox_indexes_for_the_webhook'),
        ('snapshots', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name='ContactSnapshot'),
                migrations.DeleteModel(name='CreditNoteSnapshot'),
                migrations.DeleteModel(name='InvoiceSnapshot'),
                migrations.DeleteModel(name='XeroContactGroup'),
                migrations.DeleteModel(name='XeroTrackingOption'),
            ],
            database_operations=[],
        ),
    ]
