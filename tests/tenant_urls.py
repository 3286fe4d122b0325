"""Walk the URL conf for the tenant-isolation tests.

Every view is either tenant-scoped (wrapped by `connections.tenancy.tenant_required` or
`TenantRequiredMixin`, which mark it `tenant_scoped`) or listed in PUBLIC_PREFIXES. A URL with
parameters needs an entry in OTHER_TENANT_OBJECTS: given tenant B, return the value for that
parameter that names one of B's objects. A new URL with a parameter not listed here fails the
isolation test until someone says how to make B's object — so new URLs are covered automatically.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.urls import URLPattern, URLResolver, get_resolver

# Views that are deliberately not tenant-scoped: they authenticate some other way.
PUBLIC_PREFIXES = (
    "admin/",  # staff-only Django admin
    "accounts/",  # login, logout, password reset
    "healthz",
    "webhooks/",  # signed by Xero / Twilio
    "sandbox/",  # the offline stand-ins, mounted only with DUNWELL_SANDBOX=1
    "static/",
    "invitations/",  # an invitation link: its unguessable single-use token is the authority
    "pay/",  # a customer's payment link: an unguessable token per invoice
)


def _switch_tenant(tenant_b):
    return tenant_b.slug


def _xero_connection(tenant_b):
    from tests.xero_api import xero_connection_create

    return xero_connection_create(tenant=tenant_b).pk


def _message_of(tenant_b):
    from messaging.models import Message

    message = Message.objects.create(
        tenant=tenant_b, kind="invoice_issued", channel="sms", dedup_key="b:1", status="failed"
    )
    return message.pk


def _membership(tenant_b):
    return tenant_b.memberships.first().pk


def _invitation(tenant_b):
    from connections.members import invitation_create

    owner = tenant_b.memberships.first().user
    new = invitation_create(tenant=tenant_b, email="new@bravo.test", invited_by=owner)
    return new.invitation.pk


def _template_of(tenant_b):
    return tenant_b.message_templates.first().pk


def _reminder_pause_of(tenant_b):
    from billing_events.models import ReminderPause

    return ReminderPause.objects.create(tenant=tenant_b, contact_id="b-contact").pk


# parameter name -> factory(tenant_b) returning the URL value of one of B's objects
OTHER_TENANT_OBJECTS: dict[str, Callable] = {
    "slug": _switch_tenant,
    "xero_connection_id": _xero_connection,
    "message_id": _message_of,
    "membership_id": _membership,
    "invitation_id": _invitation,
    "template_id": _template_of,
    "pause_id": _reminder_pause_of,
}


@dataclass
class TenantUrl:
    route: str
    name: str | None
    params: list[str]
    view: Callable
    # a value each parameter's converter accepts (an <int:...> will not match "x")
    samples: dict[str, str] = field(default_factory=dict)

    def build(self, values: dict) -> str:
        path = self.route
        for param in self.params:
            path = path.replace(f"<{param}>", str(values[param]))
            for converter in ("int", "slug", "str", "uuid", "path"):
                path = path.replace(f"<{converter}:{param}>", str(values[param]))
        return "/" + path


def _walk(patterns, prefix="") -> Iterator[tuple[str, URLPattern]]:
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, route)
        else:
            yield route, pattern


def _is_tenant_scoped(view) -> bool:
    view_class = getattr(view, "view_class", None) or getattr(view, "cls", None)
    return bool(
        getattr(view, "tenant_scoped", False) or getattr(view_class, "tenant_scoped", False)
    )


def is_owner_only(view) -> bool:
    view_class = getattr(view, "view_class", None) or getattr(view, "cls", None)
    return bool(
        getattr(view, "owner_required", False) or getattr(view_class, "owner_required", False)
    )


def all_routes() -> list[tuple[str, URLPattern]]:
    return [
        (route.lstrip("^").replace("\\Z", "").replace("$", ""), p)
        for route, p in _walk(get_resolver().url_patterns)
    ]


_SAMPLES = {"IntConverter": "1", "UUIDConverter": "00000000-0000-0000-0000-000000000000"}


def tenant_urls() -> list[TenantUrl]:
    urls = []
    for route, pattern in all_routes():
        if route.startswith(PUBLIC_PREFIXES):
            continue
        converters = getattr(pattern.pattern, "converters", {})
        samples = {name: _SAMPLES.get(type(c).__name__, "x") for name, c in converters.items()}
        urls.append(TenantUrl(route, pattern.name, list(converters), pattern.callback, samples))
    return urls
