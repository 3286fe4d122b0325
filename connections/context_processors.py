from django.utils.functional import SimpleLazyObject

from connections.selectors import connections_needing_reconnect, organisations_of


def xero_reconnect_banner(request):
    """Owners see, on every page, which organisations need connecting again."""
    membership = getattr(request, "membership", None)
    if membership is None or not membership.is_owner:
        return {}
    return {"xero_needing_reconnect": connections_needing_reconnect(tenant=membership.tenant)}


def tenant_organisations(request):
    """`organisations` on every page (connections.selectors.Organisations), asked of the
    database only by a page that shows or chooses an organisation."""
    tenant = getattr(request, "tenant", None)
    if tenant is None:
        return {}
    return {"organisations": SimpleLazyObject(lambda: organisations_of(tenant=tenant))}
