"""A tenant with three Xero organisations, in New Zealand, Australia and the United Kingdom.

Built by `three_org_tenant_create()` (the `three_org_tenant` fixture in tests/conftest.py). It is
the shape that breaks code which treats a tenant as one organisation in one country:

- the tenant "Tasman Trading Group" (staff-only name; default phone country NZ, Pacific/Auckland,
  Twilio set up like tests/messaging/conftest.py's `twilio_a`) with an owner;
- three live organisations, each imported on 1 November 2026 (so webhooks after it announce):
  `nz` "Harakeke Foods Ltd" (NZ, NZD, Pacific/Auckland), `au` "Banksia Catering Pty Ltd" (AU,
  AUD, Australia/Sydney), `uk` "Bramble & Co Ltd" (GB, GBP, Europe/London);
- in each, the contact groups "Corporate" and "Retail" (same names, different ContactGroupIDs);
- in each, one customer whose only phone is a MOBILE in national format with no country code and
  no address, so only the organisation's country can read it: NZ "021 555 0101", AU
  "0412 555 107", UK "07400 123123" (`org.e164` is what it must be texted as);
- in each, an AUTHORISED sales invoice numbered INV-0001 (the same number three times) for that
  customer, in the organisation's currency, due 16 November 2026; the AU organisation also has
  INV-0002 in NZD (a foreign currency to its customer);
- in the NZ organisation, one more customer with a STREET address in the United Kingdom and the
  national number "07400 654321" (`three.nz_customer_in_gb`): their number is British.

Contacts and invoices are stored as Dunwell's snapshots built from Xero-shaped records
(`org.xero_contact`, the `Contact` of `GET /Contacts`), the way the import would store them, so a
test may also serve those records from a mocked Xero (billing_events tests' `xero_api`).
"""

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

from django.contrib.auth import get_user_model

from billing_events.models import OrganisationSync
from connections.models import MessagingSettings, Tenant, XeroConnection
from dashboard.services import tenant_open
from snapshots.fields import contact_fields
from snapshots.models import ContactSnapshot, InvoiceSnapshot, XeroContactGroup
from tests.xero_api import xero_connection_create

IMPORTED_AT = datetime(2026, 11, 1, tzinfo=UTC)
DUE = date(2026, 11, 16)
TWILIO_ACCOUNT_SID = "AC00000000000000000000000000000003"
TWILIO_AUTH_TOKEN = "twilio-auth-token-tasman"
TWILIO_FROM = "+6498880003"


@dataclass
class Org:
    connection: XeroConnection
    country: str
    currency: str
    contact_id: str
    contact_name: str
    mobile: str  # as Xero holds it: national format, no country code
    e164: str  # what Dunwell must text
    invoice_id: str
    groups: dict[str, str] = field(default_factory=dict)  # group name -> ContactGroupID
    xero_contact: dict = field(default_factory=dict)

    @property
    def xero_tenant_id(self) -> str:
        return self.connection.xero_tenant_id

    @property
    def name(self) -> str:
        return self.connection.name


@dataclass
class ThreeOrgTenant:
    tenant: Tenant
    owner: object
    nz: Org
    au: Org
    uk: Org
    nz_customer_in_gb: str  # ContactID of the NZ organisation's customer in the UK
    au_nzd_invoice_id: str  # the AU organisation's INV-0002, in NZD

    @property
    def orgs(self) -> list[Org]:
        return [self.nz, self.au, self.uk]


_ORGS = [
    # key, name, country, currency, zone, customer, first name, mobile, e164
    ("nz", "Harakeke Foods Ltd", "NZ", "NZD", "Pacific/Auckland", "Moana Tane", "Moana",
     "021 555 0101", "+64215550101"),
    ("au", "Banksia Catering Pty Ltd", "AU", "AUD", "Australia/Sydney", "Grace Lee", "Grace",
     "0412 555 107", "+61412555107"),
    ("uk", "Bramble & Co Ltd", "GB", "GBP", "Europe/London", "Oliver Hughes", "Oliver",
     "07400 123123", "+447400123123"),
]  # fmt: skip


def xero_contact_record(
    *, contact_id: str, name: str, first_name: str, mobile: str, groups: dict, addresses=()
) -> dict:
    """A Contact as GET /Contacts returns it (the fields Dunwell reads)."""
    return {
        "ContactID": contact_id,
        "ContactStatus": "ACTIVE",
        "Name": name,
        "FirstName": first_name,
        "LastName": "",
        "EmailAddress": "",
        "Addresses": list(addresses),
        "Phones": [
            {"PhoneType": "DEFAULT", "PhoneNumber": "", "PhoneAreaCode": "",
             "PhoneCountryCode": ""},
            {"PhoneType": "MOBILE", "PhoneNumber": mobile, "PhoneAreaCode": "",
             "PhoneCountryCode": ""},
        ],
        "ContactGroups": [
            {"ContactGroupID": group_id, "Name": group_name, "Status": "ACTIVE"}
            for group_name, group_id in groups.items()
        ],
        "UpdatedDateUTC": "/Date(1793520000000+0000)/",
    }  # fmt: skip


def _contact_store(connection: XeroConnection, record: dict) -> None:
    fields = contact_fields(
        record,
        organisation_country=connection.country_code,
        tenant_country=connection.tenant.default_country,
    )
    ContactSnapshot.objects.create(
        tenant=connection.tenant,
        xero_tenant_id=connection.xero_tenant_id,
        contact_id=record["ContactID"],
        **fields,
    )


def _invoice_store(org: Org, *, number: str, currency: str, amount: str) -> str:
    invoice_id = str(uuid.uuid4())
    InvoiceSnapshot.objects.create(
        tenant=org.connection.tenant,
        xero_tenant_id=org.xero_tenant_id,
        invoice_id=invoice_id,
        type="ACCREC",
        status="AUTHORISED",
        number=number,
        contact_id=org.contact_id,
        currency=currency,
        total=Decimal(amount),
        amount_due=Decimal(amount),
        due_date=DUE,
    )
    return invoice_id


def three_org_tenant_create() -> ThreeOrgTenant:
    tenant, _ = tenant_open(
        name="Tasman Trading Group",
        owner_email="owner@tasman.test",
        timezone="Pacific/Auckland",
        default_country="NZ",
    )
    owner = get_user_model().objects.get(username="owner@tasman.test")
    MessagingSettings.objects.create(
        tenant=tenant,
        twilio_account_sid=TWILIO_ACCOUNT_SID,
        twilio_auth_token=TWILIO_AUTH_TOKEN,
        twilio_from_number=TWILIO_FROM,
    )
    orgs = {}
    for key, name, country, currency, zone, customer, first, mobile, e164 in _ORGS:
        connection = xero_connection_create(tenant=tenant, name=name)
        connection.country_code, connection.currency, connection.timezone = (
            country,
            currency,
            zone,
        )
        connection.save()
        OrganisationSync.objects.create(
            tenant=tenant,
            xero_tenant_id=connection.xero_tenant_id,
            imported_at=IMPORTED_AT,
            last_polled_at=IMPORTED_AT,
        )
        groups = {}
        for group_name in ("Corporate", "Retail"):
            group_id = str(uuid.uuid4())
            XeroContactGroup.objects.create(
                tenant=tenant,
                xero_tenant_id=connection.xero_tenant_id,
                group_id=group_id,
                name=group_name,
            )
            groups[group_name] = group_id
        contact_id = str(uuid.uuid4())
        record = xero_contact_record(
            contact_id=contact_id,
            name=customer,
            first_name=first,
            mobile=mobile,
            groups={"Retail": groups["Retail"]},
        )
        _contact_store(connection, record)
        org = Org(
            connection=connection,
            country=country,
            currency=currency,
            contact_id=contact_id,
            contact_name=customer,
            mobile=mobile,
            e164=e164,
            invoice_id="",
            groups=groups,
            xero_contact=record,
        )
        org.invoice_id = _invoice_store(org, number="INV-0001", currency=currency, amount="410")
        orgs[key] = org
    in_gb = str(uuid.uuid4())
    _contact_store(
        orgs["nz"].connection,
        xero_contact_record(
            contact_id=in_gb,
            name="Thistle Imports Ltd",
            first_name="Isla",
            mobile="07400 654321",
            groups={"Corporate": orgs["nz"].groups["Corporate"]},
            addresses=[
                {"AddressType": "STREET", "AddressLine1": "10 Princes Street",
                 "City": "Edinburgh", "Region": "Scotland", "PostalCode": "EH2 2AN",
                 "Country": "United Kingdom"},
            ],
        ),
    )  # fmt: skip
    nzd_at_au = _invoice_store(orgs["au"], number="INV-0002", currency="NZD", amount="410")
    return ThreeOrgTenant(
        tenant=tenant,
        owner=owner,
        nz=orgs["nz"],
        au=orgs["au"],
        uk=orgs["uk"],
        nz_customer_in_gb=in_gb,
        au_nzd_invoice_id=nzd_at_au,
    )
