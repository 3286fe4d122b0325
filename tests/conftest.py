"""Shared fixtures: two tenants, each with an owner and a staff member, and an outsider.

Tenant A is the one under test; tenant B exists to prove that A's people never see B's things.
"""

import pytest
from django.contrib.auth import get_user_model

from connections.models import Membership
from dashboard.services import tenant_open

PASSWORD = "correct-horse-battery-staple"


def _user(email):
    user = get_user_model().objects.create_user(username=email, email=email, password=PASSWORD)
    return user


@pytest.fixture
def tenant_a(db):
    tenant, _ = tenant_open(name="Alpha Plumbing", owner_email="owner@alpha.test")
    return tenant


@pytest.fixture
def tenant_b(db):
    tenant, _ = tenant_open(name="Bravo Bakery", owner_email="owner@bravo.test")
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


@pytest.fixture
def operator_client(client, db):
    """An operator in the Django admin (a superuser, member of no tenant)."""
    operator = get_user_model().objects.create_superuser("ops@dunwell.test", "ops@dunwell.test")
    client.force_login(operator)
    return client


@pytest.fixture
def three_org_tenant(db):
    """A tenant holding an NZ, an AU and a UK Xero organisation with overlapping invoice numbers
    (INV-0001 in each), the same group names ("Corporate", "Retail") in each, and a customer in
    each whose mobile is in national format only. What is in it: tests/orgs.py."""
    from tests.orgs import three_org_tenant_create

    return three_org_tenant_create()


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


# Secrets never in logs: every log record of the suite is searched at the end.
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
