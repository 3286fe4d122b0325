"""Times on every page are the tenant's: its zone is active for the whole request."""

from zoneinfo import ZoneInfo

from django.utils import timezone

from connections.tenancy import resolve_membership


class TenantTimezoneMiddleware:
    """Activate the time zone of the tenant the request acts for (the one `tenant_required`
    resolves), so every template shows local times without filters; UTC without a tenant.

    One rule for every page, the sandbox's included: a page never mixes UTC and local times.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        membership = resolve_membership(request)
        if membership is not None:
            timezone.activate(ZoneInfo(membership.tenant.timezone))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
