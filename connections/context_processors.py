from connections.selectors import connections_needing_reconnect


def xero_reconnect_banner(request):
    """Owners see, on every page, which organisations need connecting again."""
    membership = getattr(request, "membership", None)
    if membership is None or not membership.is_owner:
        return {}
    return {"xero_needing_reconnect": connections_needing_reconnect(tenant=membership.tenant)}
