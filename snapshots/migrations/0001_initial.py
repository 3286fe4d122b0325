import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    """Takes over the models billing_events created (its migrations 0002 and 0005), with the
    tables they already have (db_table): state only, no table created or row copied."""

    dependencies = [
        ('billing_events', '0007_inbox_indexes_for_the_webhook'),
        ('connections', '0005_messaging_channel_defaults'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='ContactSnapshot',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('xero_tenant_id', models.CharField(max_length=64)),
                        ('updated_date_utc', models.DateTimeField(blank=True, null=True)),
                        ('first_seen_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('last_seen_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('contact_id', models.CharField(max_length=64)),
                        ('name', models.CharField(blank=True, max_length=255)),
                        ('first_name', models.CharField(blank=True, max_length=255)),
                        ('email', models.CharField(blank=True, max_length=255)),
                        ('phones', models.JSONField(blank=True, default=list)),
                        ('group_ids', models.JSONField(blank=True, default=list)),
                        ('group_names', models.JSONField(blank=True, default=list)),
                        ('archived', models.BooleanField(default=False)),
                        ('country', models.CharField(blank=True, max_length=2)),
                        ('region', models.CharField(blank=True, max_length=100)),
                        ('country_source', models.CharField(blank=True, help_text='Where the country came from: address or phone.', max_length=10)),
                        ('tenant', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='connections.tenant')),
                    ],
                    options={
                        'db_table': 'billing_events_contactsnapshot',
                        'constraints': [models.UniqueConstraint(fields=('xero_tenant_id', 'contact_id'), name='contactsnapshot_unique')],
                    },
                ),
                migrations.CreateModel(
                    name='CreditNoteSnapshot',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('xero_tenant_id', models.CharField(max_length=64)),
                        ('updated_date_utc', models.DateTimeField(blank=True, null=True)),
                        ('first_seen_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('last_seen_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('credit_note_id', models.CharField(max_length=64)),
                        ('type', models.CharField(max_length=16)),
                        ('status', models.CharField(max_length=16)),
                        ('number', models.CharField(blank=True, max_length=255)),
                        ('reference', models.CharField(blank=True, max_length=255)),
                        ('contact_id', models.CharField(blank=True, max_length=64)),
                        ('currency', models.CharField(blank=True, max_length=3)),
                        ('total', models.DecimalField(decimal_places=4, default=0, max_digits=18)),
                        ('tenant', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='connections.tenant')),
                    ],
                    options={
                        'db_table': 'billing_events_creditnotesnapshot',
                        'constraints': [models.UniqueConstraint(fields=('xero_tenant_id', 'credit_note_id'), name='creditnotesnapshot_unique')],
                    },
                ),
                migrations.CreateModel(
                    name='InvoiceSnapshot',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('xero_tenant_id', models.CharField(max_length=64)),
                        ('updated_date_utc', models.DateTimeField(blank=True, null=True)),
                        ('first_seen_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('last_seen_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('invoice_id', models.CharField(max_length=64)),
                        ('type', models.CharField(max_length=16)),
                        ('status', models.CharField(max_length=16)),
                        ('number', models.CharField(blank=True, max_length=255)),
                        ('reference', models.CharField(blank=True, max_length=255)),
                        ('contact_id', models.CharField(blank=True, max_length=64)),
                        ('currency', models.CharField(blank=True, max_length=3)),
                        ('total', models.DecimalField(decimal_places=4, default=0, max_digits=18)),
                        ('amount_due', models.DecimalField(decimal_places=4, default=0, max_digits=18)),
                        ('amount_paid', models.DecimalField(decimal_places=4, default=0, max_digits=18)),
                        ('due_date', models.DateField(blank=True, null=True)),
                        ('payment_ids', models.JSONField(blank=True, default=list)),
                        ('online_invoice_url', models.URLField(blank=True, max_length=500)),
                        ('tracking', models.JSONField(blank=True, default=list)),
                        ('pay_token', models.CharField(blank=True, editable=False, max_length=32, null=True, unique=True)),
                        ('tenant', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='connections.tenant')),
                    ],
                    options={
                        'db_table': 'billing_events_invoicesnapshot',
                        'indexes': [models.Index(fields=['tenant', 'type', 'status'], name='invoicesnapshot_open')],
                        'constraints': [models.UniqueConstraint(fields=('xero_tenant_id', 'invoice_id'), name='invoicesnapshot_unique')],
                    },
                ),
                migrations.CreateModel(
                    name='XeroContactGroup',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('xero_tenant_id', models.CharField(max_length=64)),
                        ('group_id', models.CharField(max_length=64, verbose_name='ContactGroupID')),
                        ('name', models.CharField(max_length=200)),
                        ('status', models.CharField(choices=[('ACTIVE', 'Active'), ('DELETED', 'Deleted in Xero')], default='ACTIVE', max_length=10)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('tenant', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='connections.tenant')),
                    ],
                    options={
                        'db_table': 'billing_events_xerocontactgroup',
                        'ordering': ['name'],
                        'constraints': [models.UniqueConstraint(fields=('xero_tenant_id', 'group_id'), name='xerocontactgroup_unique')],
                    },
                ),
                migrations.CreateModel(
                    name='XeroTrackingOption',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('xero_tenant_id', models.CharField(max_length=64)),
                        ('category_id', models.CharField(max_length=64, verbose_name='TrackingCategoryID')),
                        ('category_name', models.CharField(max_length=100)),
                        ('option_id', models.CharField(max_length=64, verbose_name='TrackingOptionID')),
                        ('option_name', models.CharField(max_length=100)),
                        ('status', models.CharField(choices=[('ACTIVE', 'Active'), ('ARCHIVED', 'Archived in Xero'), ('DELETED', 'Deleted in Xero')], default='ACTIVE', max_length=10)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('tenant', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='connections.tenant')),
                    ],
                    options={
                        'db_table': 'billing_events_xerotrackingoption',
                        'ordering': ['category_name', 'option_name'],
                        'constraints': [models.UniqueConstraint(fields=('xero_tenant_id', 'option_id'), name='xerotrackingoption_unique')],
                    },
                ),
            ],
        ),
    ]
