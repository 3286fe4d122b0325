from django.db.models import QuerySet

from api_tokens.models import ApiToken
from connections.models import Membership


def api_tokens_visible(*, membership: Membership) -> QuerySet[ApiToken]:
    """An owner sees (and may revoke) every token of the tenant; staff see their own."""
    tokens = ApiToken.objects.filter(tenant=membership.tenant).select_related("user")
    if not membership.is_owner:
        tokens = tokens.filter(user=membership.user)
    return tokens
