"""What Dunwell last saw in Xero: contact, invoice and credit-note snapshots, and the contact
groups and tracking options segments name.

The tables keep the names they had under billing_events (the models moved here with state-only
migrations; no row was copied).
"""

import secrets

from django.db import models
from django.db.models import Q
from django.utils import timezone


def pay_token_new() -> str:
    """The unguessable part of an invoice's /pay/ link: minted with the snapshot, so a text
    about a new invoice costs no extra statement for its link."""
    return secrets.token_urlsafe(12)


class Snapshot(models.Model):
    """What Dunwell last saw of one Xero record; transitions are decided against it."""

    tenant = models.ForeignKey("connections.Tenant", on_delete=models.CASCADE, related_name="+")
    xero_tenant_id = models.CharField(max_length=64)
    updated_date_utc = models.DateTimeField(null=True, blank=True)
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True


class InvoiceSnapshot(Snapshot):
    invoice_id = models.CharField(max_length=64)
    type = models.CharField(max_length=16)
    status = models.CharField(max_length=16)
    number = models.CharField(max_length=255, blank=True)
    reference = models.CharField(max_length=255, blank=True)
    contact_id = models.CharField(max_length=64, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    total = models.DecimalField(max_digits=18, decimal_places=4, default=0)
    amount_due = models.DecimalField(max_digits=18, decimal_places=4, default=0)
    amount_paid = models.DecimalField(max_digits=18, decimal_places=4, default=0)
    due_date = models.DateField(null=True, blank=True)
    # Every PaymentID ever seen, deleted ones included: a payment removed and re-listed later
    # must not be announced again.
    payment_ids = models.JSONField(default=list, blank=True)
    # The live payments as Xero lists them now: {payment_id, amount (decimal text), date (ISO)},
    # for the invoice's timeline. Empty on rows written before payments were kept, until their
    # next update.
    payments = models.JSONField(default=list, blank=True)
    online_invoice_url = models.URLField(max_length=500, blank=True)
    # The tracking options of its line items, once each: {category_id, option_id, category,
    # option} (LineItems[].Tracking[] in Xero), for tracking segments. Empty on rows written before
    # tracking was recorded, until their next update.
    tracking = models.JSONField(default=list, blank=True)
    # The unguessable part of Dunwell's own /pay/<token>/ link (billing_events.payment_links).
    pay_token = models.CharField(
        max_length=32, unique=True, null=True, blank=True, editable=False, default=pay_token_new
    )

    class Meta:
        db_table = "billing_events_invoicesnapshot"
        constraints = [
            models.UniqueConstraint(
                fields=["xero_tenant_id", "invoice_id"], name="invoicesnapshot_unique"
            )
        ]
        indexes = [
            models.Index(fields=["tenant", "type", "status"], name="invoicesnapshot_open"),
            # The Invoices page (workspace): keyset pages in each of its sort orders, walked in
            # index order however deep, and a customer's invoices.
            *(
                models.Index(
                    fields=["tenant", sort, "id"],
                    condition=Q(type="ACCREC"),
                    name=f"invoicesnapshot_by_{sort}",
                )
                for sort in ("due_date", "amount_due", "number")
            ),
            models.Index(fields=["tenant", "contact_id"], name="invoicesnapshot_contact"),
            # Its totals per currency: every open invoice is summed from the index alone (on
            # PostgreSQL an index-only scan: the overdue test's columns are in it too; keys,
            # not INCLUDE, which SQLite lacks).
            models.Index(
                fields=[
                    "tenant",
                    "currency",
                    "xero_tenant_id",
                    "due_date",
                    "amount_due",
                    "status",
                    "type",
                ],  # fmt: skip
                condition=Q(type="ACCREC", status="AUTHORISED", amount_due__gt=0),
                name="invoicesnapshot_open_totals",
            ),
        ]

    def __str__(self):
        return f"{self.type} {self.number or self.invoice_id} ({self.status})"


class CreditNoteSnapshot(Snapshot):
    credit_note_id = models.CharField(max_length=64)
    type = models.CharField(max_length=16)
    status = models.CharField(max_length=16)
    number = models.CharField(max_length=255, blank=True)
    reference = models.CharField(max_length=255, blank=True)
    contact_id = models.CharField(max_length=64, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    total = models.DecimalField(max_digits=18, decimal_places=4, default=0)

    class Meta:
        db_table = "billing_events_creditnotesnapshot"
        constraints = [
            models.UniqueConstraint(
                fields=["xero_tenant_id", "credit_note_id"], name="creditnotesnapshot_unique"
            )
        ]

    def __str__(self):
        return f"{self.type} {self.number or self.credit_note_id} ({self.status})"


class ContactSnapshot(Snapshot):
    contact_id = models.CharField(max_length=64)
    name = models.CharField(max_length=255, blank=True)
    first_name = models.CharField(max_length=255, blank=True)
    email = models.CharField(max_length=255, blank=True)
    # Xero Phones[] entries as received; messaging picks MOBILE, then DEFAULT (FACTS.md).
    phones = models.JSONField(default=list, blank=True)
    # The number Dunwell texts (MOBILE, else DEFAULT, read in the organisation's country) as
    # E.164: a customer's reply is matched on it through an index, never by reading every row.
    phone_e164 = models.CharField(max_length=32, blank=True)
    group_ids = models.JSONField(default=list, blank=True)
    group_names = models.JSONField(default=list, blank=True)
    archived = models.BooleanField(default=False)
    # Where the contact is (snapshots/locations.py): ISO code and the address's Region;
    # blank on rows written before locations were recorded, until their next update.
    country = models.CharField(max_length=2, blank=True)
    region = models.CharField(max_length=100, blank=True)
    country_source = models.CharField(
        max_length=10, blank=True, help_text="Where the country came from: address or phone."
    )

    class Meta:
        db_table = "billing_events_contactsnapshot"
        constraints = [
            models.UniqueConstraint(
                fields=["xero_tenant_id", "contact_id"], name="contactsnapshot_unique"
            )
        ]
        indexes = [
            models.Index(fields=["tenant", "phone_e164"], name="contactsnapshot_phone"),
            # A page of invoices names its contacts by ContactID, across organisations.
            models.Index(fields=["tenant", "contact_id"], name="contactsnapshot_contact"),
        ]

    def __str__(self):
        return self.name or self.contact_id


# --- what Xero calls its segments: contact groups and tracking options ------------------------


class XeroContactGroup(models.Model):
    """A contact group of a Xero organisation as last seen (GET /ContactGroups, or on a contact).

    GET /ContactGroups lists ACTIVE groups only: one missing from it was deleted in Xero.
    """

    class Status(models.TextChoices):
        ACTIVE = "ACTIVE", "Active"
        DELETED = "DELETED", "Deleted in Xero"

    tenant = models.ForeignKey("connections.Tenant", on_delete=models.CASCADE, related_name="+")
    xero_tenant_id = models.CharField(max_length=64)
    group_id = models.CharField("ContactGroupID", max_length=64)
    name = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "billing_events_xerocontactgroup"
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["xero_tenant_id", "group_id"], name="xerocontactgroup_unique"
            )
        ]

    def __str__(self):
        return self.name


class XeroTrackingOption(models.Model):
    """One option of a Xero tracking category (GET /TrackingCategories?includeArchived=true).

    `status` is the option's, or its category's when the category is archived or deleted;
    options missing from the answer were deleted in Xero.
    """

    class Status(models.TextChoices):
        ACTIVE = "ACTIVE", "Active"
        ARCHIVED = "ARCHIVED", "Archived in Xero"
        DELETED = "DELETED", "Deleted in Xero"

    tenant = models.ForeignKey("connections.Tenant", on_delete=models.CASCADE, related_name="+")
    xero_tenant_id = models.CharField(max_length=64)
    category_id = models.CharField("TrackingCategoryID", max_length=64)
    category_name = models.CharField(max_length=100)
    option_id = models.CharField("TrackingOptionID", max_length=64)
    option_name = models.CharField(max_length=100)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "billing_events_xerotrackingoption"
        ordering = ["category_name", "option_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["xero_tenant_id", "option_id"], name="xerotrackingoption_unique"
            )
        ]

    def __str__(self):
        return self.label

    @property
    def label(self) -> str:
        return f"{self.category_name}: {self.option_name}"
