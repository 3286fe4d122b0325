"""Email to a tenant's owners through Dunwell's own mail server (settings MAILERS).

Never through the tenant's SendGrid: an alert may be about the tenant's providers failing.
"""

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse

from connections.models import Membership, Tenant


def absolute_url(url_name: str) -> str:
    return settings.PUBLIC_BASE_URL + reverse(url_name)


def owner_addresses(*, tenant: Tenant) -> list[str]:
    emails = (
        Membership.objects.filter(tenant=tenant, role=Membership.Role.OWNER, user__is_active=True)
        .exclude(user__email="")
        .values_list("user__email", flat=True)
    )
    return sorted(set(emails))


def owners_email(
    *, tenant: Tenant, subject: str, template: str, context: dict, html: bool = False
) -> int:
    """Send templates/alerts/email/<template>.txt (and .html with `html`) to the owners.

    Returns how many owners it went to. SMTP failures (SMTPException, OSError) are the caller's.
    """
    recipients = owner_addresses(tenant=tenant)
    if not recipients:
        return 0
    # Names from Xero and from tenants end up in the subject: a line break there is refused by
    # Django's mail (BadHeaderError), and would lose the email.
    subject = " ".join(subject.split())
    context = {"tenant": tenant, "dashboard_url": absolute_url("dashboard"), **context}
    send_mail(
        subject=subject,
        message=render_to_string(f"alerts/email/{template}.txt", context),
        from_email=None,
        recipient_list=recipients,
        html_message=render_to_string(f"alerts/email/{template}.html", context) if html else None,
    )
    return len(recipients)
