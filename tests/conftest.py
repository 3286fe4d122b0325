"""Shared fixtures: two tenants, each with an owner and a staff member, and an outsider.

Tenant A is the one under test; tenant B exists to prove that A's people never see B's things.
"""

import pytest
from django.contrib.auth import get_user_model

from connections.models import Membership
from connections.services import tenant_create

PASSWORD = "correct-horse-battery-staple"


def _user(email):
    user = get_user_model().objects.create_user(username=email, email=email, password=PASSWORD)
    return user


@pytest.fixture
def tenant_a(db):
    tenant, _ = tenant_create(name="Alpha Plumbing", owner_email="owner@alpha.test")
    return tenant


@pytest.fixture
def tenant_b(db):
    tenant, _ = tenant_create(name="Bravo Bakery", owner_email="owner@bravo.test")
    return tenant


@pytest.fixture
def owner_a(tenant_a):
    user = tenant_a.memberships.get(role=Membership.Role.OWNER).user
    user.set_password(PASSWORD)
    user.save()
    return user


@pytest.fixture
def staff_a(tenant_a):
    user = _user("staff@alpha.test")
    Membership.objects.create(user=user, tenant=tenant_a, role=Membership.Role.STAFF)
    return user


@pytest.fixture
def outsider(db):
    return _user("nobody@elsewhere.test")


@pytest.fixture
def owner_client(client, owner_a):
    client.force_login(owner_a)
    return client


@pytest.fixture
def staff_client(client, staff_a):
    client.force_login(staff_a)
    return client


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, tmp_path_factory):
    """On SQLite, test in a file, not Django's shared-cache in-memory database.

    Shared-cache SQLite fails a second writer at once ("database table is locked") instead of
    letting it wait on the busy timeout, so tests that run workers in threads
    (tests/connections/test_xero_concurrency.py) could not show the IMMEDIATE-mode lock.
    """
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        path = tmp_path_factory.mktemp("sqlite") / "test.sqlite3"
        database.setdefault("TEST", {})["NAME"] = str(path)


# Secrets never in logs: every log record of the suite is searched at the end (issue 11).
pytest_plugins = ["tests.security.log_secrets"]


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Failed-login counts (connections/login_throttle.py) live in the cache: none carry over."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2 is slow on purpose (~0.5 s per password); no test is about the hasher itself.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def three_org_tenant(tenant_a):
    """Tenant A serving three Xero organisations — Kauri Bakery (NZ), Wattle Catering (AU) and
    Thistle Joinery (GB) — that overlap the way real ones do: each has an invoice INV-0001 (to a
    contact of its own, phone in its national format) and contact groups named "Corporate" and
    "Retail", and the NZ organisation also has a tracking option Region: North.

    Returns a SimpleNamespace: tenant, connections / invoices / contacts / corporate / retail
    keyed "nz", "au", "uk" (XeroConnection, InvoiceSnapshot, ContactSnapshot, XeroContactGroup).
    """
    from datetime import date, timedelta
    from decimal import Decimal
    from types import SimpleNamespace

    from billing_events.models import (
        ContactSnapshot,
        InvoiceSnapshot,
        XeroContactGroup,
        XeroTrackingOption,
    )
    from tests.xero_api import xero_connection_create

    organisations = {
        # key: (name, country, zone, currency, contact, national mobile, amount due)
        "nz": ("Kauri Bakery", "NZ", "Pacific/Auckland", "NZD", "Aroha Ngata", "021 123 4567",
               "410.00"),
        "au": ("Wattle Catering", "AU", "Australia/Sydney", "AUD", "Matilda Byrne", "0412 555 107",
               "275.50"),
        "uk": ("Thistle Joinery", "GB", "Europe/London", "GBP", "Fiona Campbell", "07700 900123",
               "88.00"),
    }  # fmt: skip
    world = SimpleNamespace(
        tenant=tenant_a, connections={}, invoices={}, contacts={}, corporate={}, retail={}
    )
    for key, (name, country, zone, currency, contact, mobile, due) in organisations.items():
        connection = xero_connection_create(
            tenant=tenant_a,
            name=name,
            xero_tenant_id=f"{key}000000-0000-4000-8000-000000000000",
            expires_in=timedelta(days=3650),
        )
        connection.country_code, connection.timezone, connection.currency = country, zone, currency
        connection.save()
        org = connection.xero_tenant_id
        groups = {
            group: XeroContactGroup.objects.create(
                tenant=tenant_a, xero_tenant_id=org, group_id=f"{key}-{group.lower()}", name=group
            )
            for group in ("Corporate", "Retail")
        }
        world.contacts[key] = ContactSnapshot.objects.create(
            tenant=tenant_a,
            xero_tenant_id=org,
            contact_id=f"{key}-contact-1",
            name=contact,
            first_name=contact.split()[0],
            phones=[{"PhoneType": "MOBILE", "PhoneNumber": mobile}],
            group_ids=[groups["Corporate"].group_id],
            group_names=["Corporate"],
            country=country,
            country_source="address",
        )
        world.invoices[key] = InvoiceSnapshot.objects.create(
            tenant=tenant_a,
            xero_tenant_id=org,
            invoice_id=f"{key}-invoice-0001",
            type="ACCREC",
            status="AUTHORISED",
            number="INV-0001",
            contact_id=f"{key}-contact-1",
            currency=currency,
            total=Decimal(due),
            amount_due=Decimal(due),
            due_date=date(2026, 12, 1),
        )
        world.connections[key] = connection
        world.corporate[key], world.retail[key] = groups["Corporate"], groups["Retail"]
    XeroTrackingOption.objects.create(
        tenant=tenant_a, xero_tenant_id=world.connections["nz"].xero_tenant_id,
        category_id="nz-region", category_name="Region", option_id="nz-north", option_name="North",
    )  # fmt: skip
    return world
