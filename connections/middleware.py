"""Times on every page are the tenant's: its zone is active while the view runs."""

from zoneinfo import ZoneInfo

from django.db import InterfaceError, OperationalError
from django.utils import timezone

from connections.tenancy import resolve_membership


class TenantTimezoneMiddleware:
    """Activate the time zone of the tenant the request acts for (the one `tenant_required`
    resolves), so every page shows local times without filters; UTC without a tenant.

    One rule for every page a person reads, the sandbox's included. Machine endpoints are left
    alone: the webhooks, the REST API and the sandbox's stand-in APIs are all csrf_exempt, and
    must not touch the session (Xero wants no cookie, not even `Vary: Cookie`) nor change the
    offsets the API answers with.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()

    def process_view(self, request, view_func, view_args, view_kwargs):
        if getattr(view_func, "csrf_exempt", False):
            return None
        try:
            membership = resolve_membership(request)
        except (OperationalError, InterfaceError):
            return None  # the view meets the outage too, and answers 503
        if membership is not None:
            timezone.activate(ZoneInfo(membership.tenant.timezone))
        return None
