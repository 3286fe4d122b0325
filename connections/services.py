"""Writes on tenants and their members."""

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.text import slugify

from connections.models import Membership, Tenant


def _unique_slug(name: str) -> str:
    base = slugify(name)[:50] or "tenant"
    slug, n = base, 1
    while Tenant.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def tenant_create(*, name: str, owner_email: str, **fields) -> tuple[Tenant, Membership]:
    """Create a tenant and make `owner_email` its owner, creating that user if needed."""
    User = get_user_model()
    email = User.objects.normalize_email(owner_email).lower()
    user, _ = User.objects.get_or_create(username=email, defaults={"email": email})
    tenant = Tenant.objects.create(name=name, slug=_unique_slug(name), **fields)
    membership = Membership.objects.create(user=user, tenant=tenant, role=Membership.Role.OWNER)
    from messaging.services import templates_create_defaults  # messaging builds on connections

    templates_create_defaults(tenant=tenant)
    from billing_events.reminders import reminder_defaults_create  # the default schedule

    reminder_defaults_create(tenant=tenant)
    return tenant, membership
